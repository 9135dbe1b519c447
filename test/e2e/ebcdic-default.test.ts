// Issue #16 item 6: EBCDIC spool files under the default configuration (Translate IBM-1047, no
// Spool RecordFormat) are framed per file — X'15' line ends, fixed 80-byte card images and RDW
// records — and delivered, not held as bad. The files are the committed fixtures that glibc iconv
// makes (scripts/gen-spool-fixtures.sh; test/peers/iconv.test.ts checks them against iconv).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseConfig } from '../../src/config/index.js';
import { storeStatement } from '../../src/testing/backend.js';
import { submitToSpool } from '../../src/spool/submit.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { runGateway, until } from '../../src/testing/gateway.js';

const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'spool');

test('default configuration: EBCDIC NL, FB80 and VB jobs are each read in their own format and delivered', async (t) => {
  const server = await FakeSmtpServer.start();
  t.after(() => server.close());
  const dir = tempDir(t);
  // No Translate and no Spool RecordFormat: the seed's defaults.
  const text = `Instance TEST\nExtWrtName TESTW\nStateDirectory ${join(dir, 'state')}\nSpool { Directory ${join(dir, 'spool')} RescanInterval 1 }\nHostName gw.test\nTargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} }\n${storeStatement(dir)}\n`;
  writeFileSync(join(dir, 'spoolgate.conf'), text);
  const parsed = parseConfig(text, join(dir, 'spoolgate.conf'));
  assert.ok(parsed.ok);
  const config = parsed.value.config;
  assert.equal(config.translate, 'IBM-1047');
  assert.equal(config.spool.recordFormat, 'auto');
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  for (const f of ['mail.IBM1047.nl', 'mail.IBM1047.fb80', 'mail.IBM1047.vb']) {
    await submitToSpool({ root: config.spool.directory, writer: config.extWrtName, data: readFileSync(join(FIXTURES, f)), attrs: { jobName: f.split('.')[2]!.toUpperCase() } });
  }
  await until('six messages', () => server.messages.length >= 6, 30_000);
  const writerDir = join(config.spool.directory, config.extWrtName);
  await until('spool empty', () => readdirSync(join(writerDir, 'incoming')).length === 0, 30_000);
  assert.deepEqual(readdirSync(join(writerDir, 'held')), [], 'nothing held as bad');
  const first = server.messages.filter((m) => m.from === 'payroll@corp.example');
  const second = server.messages.filter((m) => m.from === 'ops@corp.example');
  assert.equal(first.length, 3);
  assert.equal(second.length, 3);
  for (const m of first) {
    assert.deepEqual(m.recipients, ['alice@corp.example', "bob.o'neil@corp.example"]);
    const data = m.data.toString('latin1');
    assert.ok(data.includes('Subject: Daily report for Z\u00fcrich & Malm\u00f6 (see #42, 100% done)\r\n'), data);
    assert.ok(data.includes('Comparisons: a < b, c > d, { [ ] } | ~ ^ ` \\ ! $ @ # " \' ; :\r\n'));
    assert.ok(data.includes('\r\n.a dot-stuffed body line\r\n'));
  }
  for (const m of second) assert.deepEqual(m.recipients, ['carol@other.example']);
});
