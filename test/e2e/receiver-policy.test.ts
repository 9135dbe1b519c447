// R1: connection restrictions (DenyAddress, DNSBL via FakeResolver) and filters on real MIME
// messages built with nodemailer's MailComposer: attachment name and type, RFC 2047 subject,
// originator wildcard; Keep vs Discard vs dry run, every hit journaled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { RawSmtp, sendOne, startTestReceiver } from './receiver-harness.js';

test('DenyAddress: 554 5.7.1 at connect, journaled 9S', async (t) => {
  const r = await startTestReceiver(t, 'DenyAddress 127.0.0.0/8');
  const { c, greeting } = await RawSmtp.open(r.port);
  c.destroy();
  assert.equal(greeting.code, 554);
  assert.match(greeting.text, /5\.7\.1/);
  const j = await r.store.journal.query({ type: 'connection-refused' });
  assert.equal(j.length, 1);
  assert.match(j[0]!.detail ?? '', /^9S CONNECTION REFUSED 127\.0\.0\.1: deny list 127\.0\.0\.0\/8/);
  assert.equal(j[0]!.ip, '127.0.0.1');
});

test('DNSBL: a listed client is refused, an unlisted one served; failures fail open', async (t) => {
  const r = await startTestReceiver(t, 'Dnsbl bl.test\n Dnsbl other.test');
  let g = await RawSmtp.open(r.port);
  g.c.destroy();
  assert.equal(g.greeting.code, 220, 'not listed');
  assert.deepEqual(r.resolver.lookups.slice().sort(), ['A 1.0.0.127.bl.test', 'A 1.0.0.127.other.test']);
  r.resolver.a.set('1.0.0.127.other.test', ['127.0.0.2']);
  g = await RawSmtp.open(r.port);
  g.c.destroy();
  assert.equal(g.greeting.code, 554);
  const j = await r.store.journal.query({ type: 'connection-refused' });
  assert.match(j[0]!.detail ?? '', /9S CONNECTION REFUSED 127\.0\.0\.1: DNSBL other\.test answered 127\.0\.0\.2/);
  // A resolver that throws (SERVFAIL) does not lock everybody out.
  r.resolver.a.clear();
  r.resolver.resolve4 = async () => { throw Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' }); };
  g = await RawSmtp.open(r.port);
  g.c.destroy();
  assert.equal(g.greeting.code, 220);
});

async function compose(opts: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  const raw = await new MailComposer(opts).compile().build();
  return Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

const FILTERS = [
  'Filter { AttachmentName *.vbs Action Discard }',
  'Filter { MimeType image/* Action Keep }',
  'Filter { Subject *Köln* Action Keep }',
  'Filter { Originator *@spam.test Action Discard }',
  'Filter { Subject *dryrun* Action Discard DryRun YES }',
].join('\n');

test('filters: attachment name/type, encoded subject, originator; Keep / Discard / dry run', async (t) => {
  const r = await startTestReceiver(t, '', FILTERS);
  const quarantine = join(r.config.stateDirectory, 'quarantine');
  const cases: { name: string; from: string; mail: Buffer; want: 'deliver' | 'keep' | 'discard'; hits: number }[] = [
    { name: 'clean', from: 'a@ok.test', want: 'deliver', hits: 0, mail: await compose({ from: 'a@ok.test', to: 'alice@local.test', subject: 'hello', text: 'hi', attachments: [{ filename: 'report.pdf', content: 'pdf', contentType: 'application/pdf' }] }) },
    { name: 'vbs attachment (RFC 2231 name)', from: 'a@ok.test', want: 'discard', hits: 1, mail: await compose({ from: 'a@ok.test', to: 'alice@local.test', subject: 'love', text: 'open it', attachments: [{ filename: 'LÖVE-LETTER-FOR-YOU.TXT.vbs', content: 'x', contentType: 'text/vbscript' }] }) },
    { name: 'image attachment', from: 'a@ok.test', want: 'keep', hits: 1, mail: await compose({ from: 'a@ok.test', to: 'alice@local.test', subject: 'pic', text: 'see', attachments: [{ filename: 'a.png', content: Buffer.from([0x89, 0x50, 0x4e, 0x47]), contentType: 'image/png' }] }) },
    { name: 'RFC 2047 subject', from: 'a@ok.test', want: 'keep', hits: 1, mail: await compose({ from: 'a@ok.test', to: 'alice@local.test', subject: 'Grüße aus Köln', text: 'hi' }) },
    { name: 'originator wildcard (envelope)', from: 'Boss@SPAM.test', want: 'discard', hits: 1, mail: await compose({ from: 'a@ok.test', to: 'alice@local.test', subject: 'x', text: 'hi' }) },
    { name: 'originator wildcard (header)', from: 'a@ok.test', want: 'discard', hits: 1, mail: await compose({ from: '"Spam" <x@spam.test>', to: 'alice@local.test', subject: 'x', text: 'hi' }) },
    { name: 'dry run only journals', from: 'a@ok.test', want: 'deliver', hits: 1, mail: await compose({ from: 'a@ok.test', to: 'alice@local.test', subject: 'a dryrun test', text: 'hi' }) },
    { name: 'keep wins over discard', from: 'x@spam.test', want: 'keep', hits: 2, mail: await compose({ from: 'a@ok.test', to: 'alice@local.test', subject: 'Köln', text: 'hi' }) },
  ];
  for (const c of cases) {
    const before = (await r.store.mailboxes.list('alice')).length;
    const qBefore = existsSync(quarantine) ? readdirSync(quarantine).filter((f) => f.endsWith('.eml')).length : 0;
    const res = await sendOne(r.port, c.from, ['alice@local.test'], c.mail);
    assert.equal(res.data?.code, 250, c.name);
    const id = /queued as (\S+)/.exec(res.data!.text)![1]!;
    const delivered = (await r.store.mailboxes.list('alice')).length - before;
    const qFiles = existsSync(quarantine) ? readdirSync(quarantine).filter((f) => f.endsWith('.eml')) : [];
    assert.equal(delivered, c.want === 'deliver' ? 1 : 0, `${c.name}: delivered`);
    assert.equal(qFiles.length - qBefore, c.want === 'keep' ? 1 : 0, `${c.name}: quarantined`);
    if (c.want === 'keep') {
      const kept = readFileSync(join(quarantine, `${id}.eml`));
      assert.ok(kept.includes(c.mail), `${c.name}: quarantine copy holds the message`);
      const meta = JSON.parse(readFileSync(join(quarantine, `${id}.json`), 'utf8')) as { recipients: string[] };
      assert.deepEqual(meta.recipients, ['alice@local.test']);
    }
    const hits = await r.store.journal.query({ id, type: 'filtered' });
    assert.equal(hits.length, c.hits, `${c.name}: journaled hits`);
    assert.ok(hits.every((h) => h.detail?.startsWith('OW rejected by filtering')));
    if (c.want !== 'deliver') assert.equal((await r.store.journal.query({ id, type: 'delivered' })).length, 0);
  }
  assert.deepEqual(r.spoolFiles(), []);
});
