import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { composeNote } from './compose.js';

const from = { local: 'alice', domain: 'corp.test' };

test('composeNote: text, HTML and 3 attachments survive a mailparser round trip byte-equal; Bcc only in the envelope', async () => {
  const binary = randomBytes(4099);
  const pdf = randomBytes(1000);
  const large = randomBytes(2 * 1024 * 1024 + 17);
  const text = 'Grüße aus dem Büro\n\nA line with trailing blanks   \n.starts with a dot\n' + 'x'.repeat(1500) + '\n';
  const html = '<p>Grüße — <b>€</b></p>';
  const r = await composeNote({
    from, to: ['Bruce Wayne <wayne@bar.test>', 'jörg@example.test'.replace('ö', 'oe')], cc: ['cc@bar.test'], bcc: ['hidden@bar.test'],
    subject: 'Bericht für Müller — ' + 'lang '.repeat(30), text, html, hostName: 'gw.test',
    attachments: [{ filename: 'data.bin', content: binary }, { filename: 'Bericht für Müller.pdf', content: pdf }, { filename: 'big.zip', content: large }],
  });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  const { data, envelope } = r.value;
  assert.deepEqual(envelope.recipients.map((x) => `${x.mailbox.local}@${x.mailbox.domain}`), ['wayne@bar.test', 'joerg@example.test', 'cc@bar.test', 'hidden@bar.test']);
  const lines = data.toString('latin1').split('\r\n');
  assert.ok(lines.every((l) => Buffer.byteLength(l, 'latin1') <= 998 && !l.includes('\n')), 'CRLF lines ≤ 998');
  const head = data.subarray(0, data.indexOf('\r\n\r\n')).toString('latin1');
  assert.doesNotMatch(head, /hidden@bar\.test|^bcc:/im);
  assert.match(head, /^Message-ID: <[0-9a-z]+\.spoolgate@gw\.test>$/m);

  const m = await simpleParser(data);
  assert.equal(m.subject, 'Bericht für Müller — ' + 'lang '.repeat(30));
  assert.equal(m.text, text);
  assert.equal(m.html, html);
  assert.equal(m.bcc, undefined);
  assert.deepEqual(m.attachments.map((a) => [a.filename, a.contentType]), [
    ['data.bin', 'application/octet-stream'], ['Bericht für Müller.pdf', 'application/pdf'], ['big.zip', 'application/zip'],
  ]);
  assert.ok(m.attachments[0]!.content.equals(binary));
  assert.ok(m.attachments[1]!.content.equals(pdf));
  assert.ok(m.attachments[2]!.content.equals(large));
});

test('composeNote: refuses no recipients and bad addresses with codes', async () => {
  const none = await composeNote({ from, to: [], subject: 's', hostName: 'gw.test' });
  assert.deepEqual(none.ok ? null : [none.error.code, none.error.message], ['SG_NOTE_NO_RECIPIENT', 'no recipient: give at least one --to, --cc or --bcc']);
  const bad = await composeNote({ from, to: ['a@b.test'], bcc: ['nobody'], subject: 's', hostName: 'gw.test' });
  assert.deepEqual(bad.ok ? null : [bad.error.code, bad.error.message], ['SG_NOTE_BAD_RECIPIENT', '--bcc nobody: address has no @domain']);
});

test('composeNote: no body at all gives an empty text/plain message; trailing blanks force quoted-printable', async () => {
  const empty = await composeNote({ from, to: ['a@b.test'], subject: 'nothing', hostName: 'gw.test' });
  assert.ok(empty.ok);
  const m = await simpleParser(empty.value.data);
  assert.equal(m.subject, 'nothing');
  assert.match(empty.value.data.toString(), /Content-Type: text\/plain/);
  const blanks = await composeNote({ from, to: ['a@b.test'], subject: 's', text: 'x  \ny\t', hostName: 'gw.test' });
  assert.ok(blanks.ok);
  assert.match(blanks.value.data.toString(), /Content-Transfer-Encoding: quoted-printable\r\n[\s\S]*\r\n\r\nx =20\r\ny=09\r\n$/);
  // The message ends with CRLF, so the parsed text gains a final newline.
  assert.equal((await simpleParser(blanks.value.data)).text, 'x  \ny\t\n');
});
