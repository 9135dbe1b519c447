import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../testing/peers.js';
import { parseConfig } from '../config/index.js';
import { checkMessage, sendMail, type SendMailOptions } from './sendmail.js';

const MSG = 'From: job@corp.test\r\nTo: a@remote.test\r\nSubject: report\r\n\r\nbody line\r\n';

async function setup(t: Parameters<typeof tempDir>[0]): Promise<{ dir: string; file: string; spool: { root: string; writer: string; hostName: string } }> {
  const dir = tempDir(t);
  const file = join(dir, 'note.eml');
  await writeFile(file, MSG);
  return { dir, file, spool: { root: join(dir, 'spool'), writer: 'W1', hostName: 'gw.test' } };
}

test('sendMail validation table: every refusal has its code and text', async (t) => {
  const { dir, file, spool } = await setup(t);
  const write = async (name: string, text: string | Buffer): Promise<string> => {
    const p = join(dir, name);
    await writeFile(p, text);
    return p;
  };
  await mkdir(join(dir, 'adir'));
  const long = 'a'.repeat(64) + '@' + 'b'.repeat(60) + '.' + 'c'.repeat(60) + '.' + 'd'.repeat(65) + '.test'; // 257 bytes
  assert.equal(Buffer.byteLength(long), 257);
  const ok1 = [{ address: 'a@remote.test', type: 'normal' as const }];
  const cases: { name: string; opts: Partial<SendMailOptions>; code: string; text: string }[] = [
    { name: 'no target', opts: { spool: undefined }, code: 'SG_SENDMAIL_NO_TARGET', text: 'give a configuration or a spool target' },
    { name: 'empty file name', opts: { file: '' }, code: 'SG_SENDMAIL_BAD_FILE_NAME', text: 'the file name is empty or contains a NUL character' },
    // Issue #16 item 14: the seed's API takes the entire path (at most 255 bytes).
    { name: 'relative file name', opts: { file: 'invoice.eml' }, code: 'SG_SENDMAIL_BAD_FILE_NAME', text: 'invoice.eml: not an absolute path (give the entire path, starting with /)' },
    { name: 'dot-relative file name', opts: { file: './mail/invoice.eml' }, code: 'SG_SENDMAIL_BAD_FILE_NAME', text: './mail/invoice.eml: not an absolute path (give the entire path, starting with /)' },
    { name: 'file name over 255 bytes', opts: { file: '/' + 'm'.repeat(255) }, code: 'SG_SENDMAIL_BAD_FILE_NAME', text: 'the file name is 256 bytes long (at most 255)' },
    { name: 'missing file', opts: { file: join(dir, 'nope.eml') }, code: 'SG_SENDMAIL_FILE_NOT_FOUND', text: `${join(dir, 'nope.eml')}: no such file` },
    { name: 'a directory', opts: { file: join(dir, 'adir') }, code: 'SG_SENDMAIL_FILE_UNREADABLE', text: `${join(dir, 'adir')}: is a directory` },
    { name: 'empty file', opts: { file: await write('empty.eml', '') }, code: 'SG_SENDMAIL_NO_HEADER', text: `${join(dir, 'empty.eml')}: the file is empty` },
    { name: 'body only', opts: { file: await write('body.eml', 'just text\r\n') }, code: 'SG_SENDMAIL_NO_HEADER', text: `${join(dir, 'body.eml')}: the file does not start with a header field ("Name: value")` },
    { name: 'no separator', opts: { file: await write('nosep.eml', 'Subject: x\r\nTo: a@b.test\r\n') }, code: 'SG_SENDMAIL_NO_SEPARATOR', text: `${join(dir, 'nosep.eml')}: the file has no blank line between the header and the body` },
    { name: 'body glued to header', opts: { file: await write('glued.eml', 'Subject: x\r\nbody text\r\n') }, code: 'SG_SENDMAIL_NO_SEPARATOR', text: `${join(dir, 'glued.eml')}: line 2 is neither a header field nor the blank line that ends the header` },
    { name: 'originator too long', opts: { originator: long }, code: 'SG_SENDMAIL_ORIGINATOR_TOO_LONG', text: 'originator is 257 bytes long (at most 256)' },
    { name: 'bad originator', opts: { originator: 'job' }, code: 'SG_SENDMAIL_BAD_ORIGINATOR', text: 'originator "job" is not a valid address: address has no @domain' },
    { name: 'no recipient', opts: { recipients: [] }, code: 'SG_SENDMAIL_NO_RECIPIENT', text: 'no recipient: at least one is required' },
    { name: 'too many recipients', opts: { recipients: Array.from({ length: 2001 }, (_, i) => ({ address: `r${i}@x.test`, type: 'normal' as const })) }, code: 'SG_SENDMAIL_TOO_MANY_RECIPIENTS', text: '2001 recipients (at most 2000)' },
    { name: 'recipient too long', opts: { recipients: [...ok1, { address: long, type: 'cc' }] }, code: 'SG_SENDMAIL_RECIPIENT_TOO_LONG', text: 'recipient 2 is 257 bytes long (at most 256)' },
    { name: 'bad recipient', opts: { recipients: [{ address: 'a@-bad-.test', type: 'bcc' }] }, code: 'SG_SENDMAIL_BAD_RECIPIENT', text: 'recipient 1 "a@-bad-.test" is not a valid address: domain is not a valid host name or address literal' },
    { name: 'bad type', opts: { recipients: [{ address: 'a@b.test', type: 'to' as 'normal' }] }, code: 'SG_SENDMAIL_BAD_RECIPIENT_TYPE', text: 'recipient 1: type "to" is not one of normal, cc, bcc' },
  ];
  for (const c of cases) {
    const r = await sendMail({ file, originator: 'job@corp.test', recipients: ok1, spool, ...c.opts });
    assert.ok(!r.ok, c.name);
    assert.deepEqual([r.error.code, r.error.message], [c.code, c.text], c.name);
  }
  // Nothing was spooled by any refusal.
  await assert.rejects(readdir(join(spool.root, 'W1', 'incoming')), { code: 'ENOENT' });
});

test('sendMail: SenderPolicy Own from the configuration refuses another originator for a non-root caller', async (t) => {
  const { dir, file } = await setup(t);
  const cfg = parseConfig(`Spool { Directory ${join(dir, 'spool')} }\nTargetServer { TargetIP 127.0.0.1 }\nUsers { DefaultDomain corp.test }\n`, 'x.conf');
  assert.ok(cfg.ok);
  const base = { file, recipients: [{ address: 'a@remote.test', type: 'normal' as const }], config: cfg.value.config };
  const refused = await sendMail({ ...base, originator: 'ceo@corp.test', caller: { uid: 1001, user: 'alice' } });
  assert.deepEqual(refused.ok ? null : [refused.error.code, refused.error.message],
    ['SG_SENDMAIL_SENDER_NOT_ALLOWED', 'user alice may not send as ceo@corp.test: SenderPolicy Own allows only alice@corp.test']);
  const own = await sendMail({ ...base, originator: 'alice@corp.test', caller: { uid: 1001, user: 'alice' } });
  assert.ok(own.ok);
  const asRoot = await sendMail({ ...base, originator: 'ceo@corp.test', caller: { uid: 0, user: 'root' } });
  assert.ok(asRoot.ok);
});

test('sendMail: spools a message entry (DEST) with all recipients in the envelope, strips Bcc:, leaves the file unless remove', async (t) => {
  const { dir, spool } = await setup(t);
  const file = join(dir, 'bcc.eml');
  const text = 'From: job@corp.test\r\nBcc: secret@remote.test,\r\n  other@remote.test\r\nTo: a@remote.test\r\nSubject: s\r\n\r\n.dot line\r\nBcc: in the body stays\r\n';
  await writeFile(file, text);
  const r = await sendMail({
    file, originator: '<job@corp.test>', spool,
    recipients: [{ address: 'a@remote.test', type: 'normal' }, { address: 'c@remote.test', type: 'cc' }, { address: 'secret@remote.test', type: 'bcc' }],
  });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(r.value.bccHeaderStripped, true);
  assert.equal(r.value.removed, false);
  assert.equal(await readFile(file, 'utf8'), text, 'file untouched');
  assert.equal(r.value.entry.attrs.taskType, 'DEST');
  assert.equal(r.value.entry.kind, 'message');
  assert.deepEqual(r.value.entry.message?.envelope.recipients.map((x) => `${x.mailbox.local}@${x.mailbox.domain}`), ['a@remote.test', 'c@remote.test', 'secret@remote.test']);
  assert.deepEqual(r.value.entry.message?.origin, { kind: 'submission', tool: 'sendmail' });
  const stored = await readFile(r.value.entry.path, 'latin1');
  // Our Received field on top, Date and Message-ID added at the end of the header, the rest as it was.
  assert.match(stored, /^Received: by gw\.test \(spoolgate SPOOLGATE sendmail, from user [^)]+\)\r\n\tid <[0-9a-z]{20}\.spoolgate@gw\.test>;\r\n\t[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\r\n/);
  const body = stored.slice(stored.indexOf('From: job@corp.test'));
  assert.match(body, /^From: job@corp\.test\r\nTo: a@remote\.test\r\nSubject: s\r\nDate: [^\r]+\r\nMessage-ID: <[^\r]+>\r\n\r\n\.dot line\r\nBcc: in the body stays\r\n$/);

  const removed = await sendMail({ file, originator: 'job@corp.test', spool, recipients: [{ address: 'a@remote.test', type: 'normal' }], remove: true });
  assert.ok(removed.ok);
  assert.equal(removed.value.removed, true);
  await assert.rejects(stat(file), { code: 'ENOENT' });
});

test('sendMail: what the JES record rules would have changed is queued as it is', async (t) => {
  const { dir, spool } = await setup(t);
  const file = join(dir, 'odd.eml');
  const body = 'trailing blanks   \r\n' + 'x'.repeat(79) + '<\r\nnext line\r\n' + 'y'.repeat(1200) + '\r\nbell\x07 form\x0c esc\x1b$B\r\n';
  await writeFile(file, 'Subject: s\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <a@b>\r\n\r\n' + body, 'latin1');
  const r = await sendMail({ file, originator: 'job@corp.test', spool, recipients: [{ address: 'a@remote.test', type: 'normal' }] });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  const stored = await readFile(r.value.entry.path, 'latin1');
  assert.ok(stored.endsWith('Subject: s\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <a@b>\r\n\r\n' + body), 'nothing added or changed below our Received field');
});

test('checkMessage: LF line ends and a message without Bcc pass unchanged', () => {
  const data = Buffer.from('Subject: x\n\nbody\n');
  const r = checkMessage(data);
  assert.ok(r.ok);
  assert.equal(r.value.data, data);
  assert.equal(r.value.bccHeaderStripped, false);
});
