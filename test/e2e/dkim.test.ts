// X1 item 4 acceptance: DKIM signing end to end. A spool file goes through the forwarder (the
// batch parser's Received field, the user-exit point, the SMTP client) to nodemailer's
// smtp-server (an independent SMTP implementation) on 127.0.0.1; the bytes it received are
// verified by dkimpy (Debian python3-dkim) with a test DNS answer. Changed bytes fail; mail
// already signed for its domain is not signed twice; mail of an unconfigured domain is not
// signed; key problems are configuration errors naming file and line; REFRESH re-reads the keys;
// no log line carries the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { Logger } from '../../src/log/index.js';
import type { LogRecord } from '../../src/log/logger.js';
import { startServices } from '../../src/main.js';
import { loadDkimKeys } from '../../src/dkim/index.js';
import { dotStuff } from '../../src/smtp/protocol/dot-stuff.js';
import { needPeer, tempDir } from '../../src/testing/peers.js';
import { dkimVerify } from '../../src/testing/dkim.js';
import { spoolgateCli, submitText, until, writeConfig } from '../../src/testing/gateway.js';

/** nodemailer's smtp-server keeping every message's bytes as received. */
async function sink(t: import('node:test').TestContext): Promise<{ port: number; messages: Buffer[] }> {
  const messages: Buffer[] = [];
  const srv = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'], authOptional: true, logger: false, size: 64 * 1024 * 1024,
    // One recipient is refused, so the gateway writes a delivery status notification.
    onRcptTo(address, _session, cb) {
      if (address.address === 'reject@remote.test') { const e = new Error('no such user') as Error & { responseCode: number }; e.responseCode = 550; cb(e); return; }
      cb();
    },
    onData(stream, _session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => { messages.push(Buffer.concat(parts)); cb(null); });
    },
  });
  await new Promise<void>((done) => srv.listen(0, '127.0.0.1', () => done()));
  t.after(() => new Promise<void>((done) => srv.close(() => done())));
  const a = srv.server.address();
  return { port: typeof a === 'object' && a !== null ? a.port : 0, messages };
}

function writeKey(dir: string, name: string, kind: 'rsa' | 'ed25519'): string {
  const pair = kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  const path = join(dir, name);
  writeFileSync(path, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return path;
}

/** The TXT records a domain would publish, from the key files (what docs/dkim.md tells the operator to paste). */
function records(configFile: string, entries: Parameters<typeof loadDkimKeys>[0]): Record<string, string> {
  const r = loadDkimKeys(entries, configFile);
  assert.ok(r.ok);
  const out: Record<string, string> = {};
  for (const d of r.value.keyring.domains()) { const k = r.value.keyring.get(d)!; out[k.dnsName] = k.txtRecord(); }
  return out;
}

function batch(messages: readonly { from: string; body: string; to?: string }[]): string {
  let text = 'HELO JOBHOST\r\n';
  for (const m of messages) {
    text += `MAIL FROM:<${m.from}>\r\nRCPT TO:<${m.to ?? 'rcpt@remote.test'}>\r\nDATA\r\n${dotStuff(Buffer.from(m.body, 'utf8')).toString('latin1')}`;
  }
  return text + 'QUIT\r\n';
}

const mail = (from: string, tag: string, extra = ''): { from: string; body: string } => ({
  from: from.replace(/^.*</, '').replace(/>.*$/, ''),
  body: `${extra}From: ${from}\r\nTo: rcpt@remote.test\r\nSubject: ${tag}\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${tag}@corp.test>\r\n\r\nBody of ${tag}  \r\n.a line with a dot\r\n\r\n\r\n`,
});

const tagOf = (m: Buffer): string => /^Subject: (\S+)/m.exec(m.toString('latin1'))?.[1] ?? '?';
const signatures = (m: Buffer): number => (m.toString('latin1').match(/^DKIM-Signature:/gim) ?? []).length;

test('DKIM end to end: signed mail verifies with dkimpy, changed mail fails, no double signing, unconfigured domains unsigned, REFRESH re-reads keys, no key in logs', async (t) => {
  if (!needPeer(t, 'dkimpy')) return;
  const target = await sink(t);
  const dir = tempDir(t);
  const rsaKey = writeKey(dir, 'corp.test.key', 'rsa');
  const edKey = writeKey(dir, 'ed.test.key', 'ed25519');
  const { path, config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${target.port} }
    RetryLimit { Count 0 Interval 0 }
    LogLevel 255
    Dkim { Domain corp.test Selector s1 KeyFile ${rsaKey} }
    Dkim { Domain ed.test Selector e1 KeyFile ${edKey} Algorithm ed25519-sha256 Headers From:To:Subject:Date }
    Dkim { Domain gw.test Selector n1 KeyFile ${rsaKey} }`);
  const dns = records(path, config.dkim);
  const logged: LogRecord[] = [];
  const log = Logger.create({ sink: { write: (r) => logged.push(r) }, instance: 'TEST', level: 255 });
  const services = await startServices(config, { log });
  t.after(() => services.stop());
  const gw = services.gateway;
  await gw.forwarder.start();

  // A message the sender signed already for corp.test (with the gateway's own key, so it verifies).
  const { signMessage } = await import('../../src/dkim/index.js');
  const keys = loadDkimKeys(config.dkim, path);
  assert.ok(keys.ok);
  const pre = mail('job@corp.test', 'PRESIGNED');
  const preField = signMessage(Buffer.from(pre.body), keys.value.keyring, new Date());
  assert.equal(preField.kind, 'signed');
  pre.body = (preField as { field: Buffer }).field.toString('latin1') + pre.body;

  await submitText(config, batch([
    mail('Job Runner <job@corp.test>', 'SIGNED'),
    mail('other@unconfigured.test', 'UNSIGNED'),
    pre,
    mail('eve@ed.test', 'EDSIGNED'),
  ]), 'DKIMJOB');
  await until('four messages delivered', () => target.messages.length === 4);
  const byTag = new Map(target.messages.map((m) => [tagOf(m), m]));

  // The gateway's own mail: a DSN (From: MAILER-DAEMON@gw.test, the HostName) is signed for gw.test.
  await submitText(config, batch([{ ...mail('job@corp.test', 'BOUNCED'), to: 'reject@remote.test' }]), 'DKIMJOB3');
  await until('the notification delivered', () => target.messages.length === 5);
  const dsn = target.messages[4]!;
  assert.match(dsn.toString('latin1'), /^DKIM-Signature: [^]*d=gw\.test; s=n1;[^]*\r\nFrom: Mail Delivery System <MAILER-DAEMON@gw\.test>/);
  const vd = dkimVerify(dsn, dns);
  assert.deepEqual(vd.results, [true], vd.log);

  const signedMail = byTag.get('SIGNED')!;
  assert.equal(signatures(signedMail), 1);
  assert.match(signedMail.toString('latin1'), /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=corp\.test; s=s1;/);
  // The gateway's Received field comes after the user exit point and is below the signature.
  assert.match(signedMail.toString('latin1'), /^DKIM-Signature:[^]*?\r\nReceived: /);
  let v = dkimVerify(signedMail, dns);
  assert.deepEqual(v.results, [true], v.log);
  assert.deepEqual(v.asked, ['s1._domainkey.corp.test']);
  // One octet changed after signing: the verifier must say no.
  const changed = Buffer.from(signedMail.toString('latin1').replace('Body of SIGNED', 'Body of SIGNEd'), 'latin1');
  assert.deepEqual(dkimVerify(changed, dns).results, [false]);

  assert.equal(signatures(byTag.get('UNSIGNED')!), 0, 'unconfigured domain: no signature');
  const preMail = byTag.get('PRESIGNED')!;
  assert.equal(signatures(preMail), 1, 'already signed for corp.test: not signed twice');
  assert.deepEqual(dkimVerify(preMail, dns).results, [true]);
  const ed = byTag.get('EDSIGNED')!;
  assert.match(ed.toString('latin1'), /a=ed25519-sha256; c=relaxed\/relaxed; d=ed\.test; s=e1;[^]*h=from:from:to:subject:date;/);
  v = dkimVerify(ed, dns);
  assert.deepEqual(v.results, [true], v.log);

  // REFRESH: a broken key file refuses the whole refresh, naming file and line; the keys stay.
  const original = readFileSync(rsaKey);
  writeFileSync(rsaKey, 'not a key\n');
  let r = await spoolgateCli('modify', '--socket', config.controlSocket, 'REFRESH');
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /REFRESH REJECTED : .*spoolgate\.conf:\d+: Dkim KeyFile: .*corp\.test\.key cannot be used: not a PEM private key; allowed .*openssl genrsa/);
  // Key rotation: a new key under a new selector, put in force by REFRESH.
  writeFileSync(rsaKey, original);
  const rotated = writeKey(dir, 'corp.test.2026.key', 'rsa');
  writeFileSync(path, readFileSync(path, 'utf8').replace(`Dkim { Domain corp.test Selector s1 KeyFile ${rsaKey} }`, `Dkim { Domain corp.test Selector s2 KeyFile ${rotated} }`));
  r = await spoolgateCli('modify', '--socket', config.controlSocket, 'REFRESH');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  await submitText(config, batch([mail('job@corp.test', 'ROTATED')]), 'DKIMJOB2');
  await until('the sixth message delivered', () => target.messages.length === 6);
  const rot = target.messages[5]!;
  assert.equal(tagOf(rot), 'ROTATED');
  assert.match(rot.toString('latin1'), /d=corp\.test; s=s2;/);
  const dns2 = records(path, gw.config().dkim);
  assert.deepEqual(dkimVerify(rot, dns2).results, [true]);
  assert.deepEqual(dkimVerify(rot, dns).results, [false], 'the old selector has no key for the new signature');

  // D,CONFIG shows the statement, never the key; and no log line carries key material.
  r = await spoolgateCli('modify', '--socket', config.controlSocket, 'DISPLAY,CONFIG');
  assert.match(r.stdout, /DKIM:\n.*DOMAIN +: corp\.test +SELECTOR +: s2/);
  const keyBodies = [original, readFileSync(rotated), readFileSync(edKey)].map((k) => k.toString('latin1').split('\n')[1]!);
  const text = JSON.stringify(logged) + r.stdout;
  for (const k of keyBodies) assert.ok(!text.includes(k), 'a key line appears in a log record or display');
  assert.doesNotMatch(text, /PRIVATE KEY/);
  assert.ok(logged.some((l) => l.event === 'mail.dkim-signed'), 'signing is logged (debug)');
});

test('a missing, unreadable or wrong key file is a configuration error naming file, line and the fix', async (t) => {
  const dir = tempDir(t);
  const unreadable = writeKey(dir, 'unreadable.key', 'rsa');
  chmodSync(unreadable, 0o000);
  const ed = writeKey(dir, 'ed.key', 'ed25519');
  const cases: readonly [string, RegExp][] = [
    [`Dkim { Domain corp.test Selector s1 KeyFile ${join(dir, 'missing.key')} }`, /spoolgate\.conf:8: Dkim KeyFile: cannot read .*missing\.key: .*ENOENT.*; allowed a file the gateway's user can read: .*openssl genrsa -out <KeyFile> 2048/],
    [`Dkim { Domain corp.test Selector s1 KeyFile ${ed} }`, /spoolgate\.conf:8: Dkim KeyFile: .*ed\.key holds an ed25519 key, Algorithm rsa-sha256 needs an RSA key/],
  ];
  for (const [statement, want] of cases) {
    const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 }\n${statement}`);
    await assert.rejects(startServices(config, { log: Logger.silent() }), (e: Error) => { assert.match(e.message, want); return true; });
  }
  // Root reads any file: the unreadable case is only meaningful for another user.
  if (process.getuid?.() !== 0) {
    const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 }\nDkim { Domain corp.test Selector s1 KeyFile ${unreadable} }`);
    await assert.rejects(startServices(config, { log: Logger.silent() }), /spoolgate\.conf:8: Dkim KeyFile: cannot read .*EACCES/);
  }
  // The statement itself: a bad domain, a missing selector, Headers without From, a second statement for a domain.
  const { parseConfig } = await import('../../src/config/index.js');
  const bad = parseConfig('TargetServer { TargetIP 127.0.0.1 }\nDkim { Domain "exa mple" Selector s1 KeyFile /k }\nDkim { Domain b.test KeyFile /k }\nDkim { Domain c.test Selector s1 KeyFile /k Headers To:Subject }\nDkim { Domain C.test Selector s2 KeyFile /k }\n', 'x.conf');
  assert.equal(bad.ok, false);
  const texts = bad.ok ? [] : bad.error.map((e) => e.message);
  assert.deepEqual(texts, [
    "x.conf:2: Dkim Domain: value 'exa mple' is not a valid domain; allowed a domain such as example.com (an IDN is converted to its A-label)",
    'x.conf:3: Dkim Selector: missing; allowed Domain, Selector and KeyFile in every Dkim statement, e.g. Selector s1',
    "x.conf:4: Dkim Headers: value 'To:Subject' does not name From; allowed header field names separated by colons, From among them, e.g. From:To:Subject:Date:Message-ID",
    'x.conf:5: Dkim Domain: c.test has a Dkim statement already (line 4); allowed one Dkim statement per domain',
  ]);
  // An IDN is kept as its A-label.
  const idn = parseConfig('TargetServer { TargetIP 127.0.0.1 }\nDkim { Domain bücher.example Selector s1 KeyFile /k }\n', 'x.conf');
  assert.ok(idn.ok);
  assert.equal(idn.value.config.dkim[0]?.domain, 'xn--bcher-kva.example');
});
