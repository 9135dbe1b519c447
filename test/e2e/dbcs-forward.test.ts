// Issue #21 item 2 end to end: an FB80 IBM-939 spool file, made with glibc iconv as a user would
// (docs/codepages.md), with a Japanese line shifted out in one record and continued in the next
// → forwarder (`Translate IBM-939`, `Spool RecordFormat Fixed`) → nodemailer's smtp-server,
// which must receive UTF-8 text labelled charset=UTF-8, sent with BODY=8BITMIME.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.js';
import { storeStatement } from '../../src/testing/backend.js';
import { submitToSpool } from '../../src/spool/submit.js';
import { findPeer, tempDir } from '../../src/testing/peers.js';
import { runGateway, until } from '../../src/testing/gateway.js';
import { startRelayTarget } from './relay-harness.js';

const SO = 0x0e;
const SI = 0x0f;

/** Card images of one line: 80-byte records, '<' in column 80 where the line goes on. */
function cards(ebcdic: Buffer, lt: number, blank: number): Buffer[] {
  const out: Buffer[] = [];
  let rest = ebcdic;
  while (rest.length > 80 || (rest.length === 80 && rest[79] === lt)) {
    // Continue after 79 bytes, unless that splits a pair: then after 78 and an SI/SO pair.
    let shifted = false;
    let pairStart = true;
    for (let i = 0; i < 79; i++) {
      const b = rest[i]!;
      if (b === SO) { shifted = true; pairStart = true; } else if (b === SI) shifted = false;
      else if (shifted) pairStart = !pairStart;
    }
    if (shifted && !pairStart) throw new Error('test line splits a pair: change its SBCS prefix');
    out.push(Buffer.concat([rest.subarray(0, 79), Buffer.from([lt])]));
    rest = rest.subarray(79);
  }
  out.push(Buffer.concat([rest, Buffer.alloc(80 - rest.length, blank)]));
  return out;
}

test('FB80 IBM-939 spool file with Japanese split across a record boundary arrives as UTF-8 with charset=UTF-8', async (t) => {
  const iconv = findPeer('iconv');
  if (iconv === undefined) {
    t.skip('glibc iconv not installed: the spool file is made with it');
    return;
  }
  const target = await startRelayTarget(t);
  const dir = tempDir(t);
  const confPath = join(dir, 'spoolgate.conf');
  const text = `Instance TEST\nExtWrtName TESTW\nStateDirectory ${join(dir, 'state')}\n` +
    `Spool { Directory ${join(dir, 'spool')} RecordFormat Fixed RecordLength 80 RescanInterval 1 }\n` +
    `Translate IBM-939\nHostName gw.test\nTargetServer { TargetIP 127.0.0.1 ConnectPort ${target.port} }\nRetryLimit { Count 2 Interval 1 }\n${storeStatement(dir)}\n`;
  writeFileSync(confPath, text);
  const parsed = parseConfig(text, confPath);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.map((e) => e.message).join('\n'));
  const config = parsed.value.config;
  assert.equal(config.translate, 'IBM-939');

  const japanese = '東京本社の月次報告書を添付します。ご確認のほど、よろしくお願いいたします。売上は前月比で増加しました。';
  const lines = [
    'HELO JOBHOST', 'MAIL FROM:<job@corp.test>', 'RCPT TO:<rcpt@remote.test>', 'DATA',
    'From: job@corp.test', 'To: rcpt@remote.test', 'Subject: monthly report',
    '', `Body: ${japanese}`, 'Kana ｶﾀｶﾅ and latin: abc', '.', 'QUIT',
  ];
  const records: Buffer[] = [];
  for (const l of lines) {
    const e = execFileSync(iconv, ['-f', 'UTF-8', '-t', 'IBM939'], { input: Buffer.from(l, 'utf8') });
    records.push(...cards(e, 0x4c, 0x40));
  }
  const file = Buffer.concat(records);
  // The Japanese line really is shifted out in one record and continued in the next.
  const bodyRec = records.findIndex((r) => r.includes(SO) && r[79] === 0x4c);
  assert.ok(bodyRec >= 0 && !records[bodyRec]!.includes(SI) && !records[bodyRec + 1]!.includes(SO) && records[bodyRec + 1]!.includes(SI), 'SO in one record, SI in the next');

  const gw = await runGateway(config);
  t.after(() => gw.stop());
  await submitToSpool({ root: config.spool.directory, writer: config.extWrtName, data: file, attrs: { jobName: 'DBCSJOB' } });
  await target.waitFor(1);
  await until('spool empty', async () => (await gw.queue.list()).length === 0);
  const m = target.mails[0]!;
  assert.equal(m.bodyType, '8bitmime');
  const data = m.data.toString('utf8');
  assert.ok(!data.includes('\uFFFD'), 'valid UTF-8');
  const [head, body] = data.split('\r\n\r\n') as [string, string];
  assert.match(head, /^MIME-Version: 1\.0$/m);
  assert.match(head, /^Content-Type: text\/plain; charset=UTF-8$/m);
  assert.match(head, /^Content-Transfer-Encoding: 8bit$/m);
  assert.match(head, /^Subject: monthly report$/m);
  assert.equal(body, `Body: ${japanese}\r\nKana ｶﾀｶﾅ and latin: abc\r\n`);
});
