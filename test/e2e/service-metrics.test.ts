// O2 #18 item 6: receiver and POP3 counters, per-target replies by class, process metrics, read
// with curl from /metrics of a real instance (startServices) and checked with the exposition
// checker. Real clients: Python smtplib (accepted mail, a relay refusal, a filtered message, a
// DNSBL-listed source address) and poplib (a login, a wrong password, the throttle).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Logger } from '../../src/log/index.js';
import { startServices } from '../../src/main.js';
import { FakeResolver } from '../../src/testing/resolver.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { batchFile, submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { needPeer, tempDir } from '../../src/testing/peers.js';
import { checkExposition, sampleValue, type ExpoSample } from '../../src/web/exposition-testutil.js';
import { runAsync } from './receiver-harness.js';

/** Each argument: [from, rcpt, subject]; prints one line per message: the code of RCPT and of the end of DATA ('-' when not sent). */
const PY_SMTP = String.raw`
import json, smtplib, sys
port, source, msgs = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
try:
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=60, source_address=(source, 0))
except smtplib.SMTPConnectError as e:
    print("connect", e.smtp_code)
    sys.exit(0)
for frm, rcpt, subject in msgs:
    e = s.ehlo()
    if e[0] != 250:
        print("ehlo", e[0], e[1].decode())
        continue
    m = s.mail(frm)
    if m[0] != 250:
        print("mail", m[0], m[1].decode())
        continue
    code = s.rcpt(rcpt)[0]
    if code != 250:
        s.rset()
        print(code, "-")
        continue
    body = "From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nhello\r\n" % (frm, rcpt, subject)
    print(code, s.data(body)[0])
s.quit()
`;

// Each (user, password) pair after the port is one connection, in one process: the throttle's
// lock (10 s) must not run out between the attempts while a loaded machine starts interpreters.
const PY_POP = String.raw`
import poplib, sys
args = sys.argv[2:]
for i in range(0, len(args), 2):
    p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=60)
    try:
        p.user(args[i])
        print(p.pass_(args[i + 1]).decode().split()[0])
        p.quit()
    except poplib.error_proto as e:
        print(e.args[0].decode())
        p.close()
`;

test('/metrics: receiver and POP3 counters move with real clients; per-target replies by class; process metrics; valid exposition', async (t) => {
  const py = needPeer(t, 'python3');
  const curl = needPeer(t, 'curl');
  if (py === undefined || curl === undefined) return;
  // gone@ is refused, and so is the job's own address: the notification of the refusal cannot be
  // returned either and becomes a dead letter.
  const target = await FakeSmtpServer.start({ rcpt: (a) => (a.startsWith('gone') || a === 'job@corp.test' ? '550 5.1.1 no such user' : undefined) });
  t.after(() => target.close());
  const { config } = writeConfig(tempDir(t), `TargetServer { TargetIP 127.0.0.1 ConnectPort ${target.port} }
Receiver {
 Listen 127.0.0.1:0
 HostName mx.local.test
 LocalDomain local.test
 Dnsbl bl.test
}
Filter { Subject *spam* Action Discard }
Pop3 {
 Listen 127.0.0.1:0
 AllowPlaintext YES
 MaxFailedLogins 2
}
Http { Listen 127.0.0.1:0 }`);
  const resolver = new FakeResolver();
  resolver.a.set('2.0.0.127.bl.test', ['127.0.0.2']); // 127.0.0.2 is listed, 127.0.0.1 is not
  const services = await startServices(config, { log: Logger.silent(), resolver });
  t.after(() => services.stop());
  await services.store!.users.addUser('alice', 'secret-alice');
  await services.gateway.forwarder.start();
  const port = (role: string): number => services.listening.find((l) => l.role === role)!.port;
  const scrape = (): Promise<ExpoSample[]> => new Promise((done, fail) => {
    execFile(curl, ['-s', '--fail', '--max-time', '30', `http://127.0.0.1:${port('http')}/metrics`], { encoding: 'utf8' }, (e, out) => {
      if (e !== null) { fail(e); return; }
      try { done(checkExposition(out)); } catch (x) { fail(x); }
    });
  });
  const v = (s: ExpoSample[], name: string, labels: Record<string, string> = {}): number | undefined => sampleValue(s, name, labels);

  const before = await scrape();
  for (const n of ['spoolgate_receiver_connections_total', 'spoolgate_receiver_messages_accepted_total', 'spoolgate_receiver_relay_refused_total',
    'spoolgate_receiver_filtered_total', 'spoolgate_receiver_dnsbl_hits_total', 'spoolgate_pop3_logins_total', 'spoolgate_pop3_login_failures_total', 'spoolgate_pop3_login_throttled_total']) {
    assert.equal(v(before, n), 0, n);
  }
  assert.equal(v(before, 'spoolgate_receiver_replies_total', { class: '5xx' }), 0);

  // One connection: local mail accepted, a relay refused (554/550), a message the filter discards (still 250).
  const smtp = (await runAsync(py, ['-c', PY_SMTP, String(port('smtp')), '127.0.0.1', JSON.stringify([
    ['someone@remote.test', 'alice@local.test', 'hello'],
    ['someone@remote.test', 'victim@elsewhere.test', 'relay?'],
    ['someone@remote.test', 'alice@local.test', 'cheap spam here'],
  ])])).trim().split('\n');
  assert.equal(smtp[0], '250 250');
  assert.match(smtp[1]!, /^5\d\d -$/);
  assert.equal(smtp[2], '250 250');
  // A listed source address: refused at connect (554).
  assert.equal((await runAsync(py, ['-c', PY_SMTP, String(port('smtp')), '127.0.0.2', '[]'])).trim(), 'connect 554');

  const pop = (await runAsync(py, ['-c', PY_POP, String(port('pop3')), 'alice', 'secret-alice', 'alice', 'wrong', 'alice', 'wrong', 'alice', 'secret-alice'])).trim().split('\n');
  assert.equal(pop[0], '+OK');
  assert.match(pop[1]!, /^-ERR \[AUTH\]/);
  assert.match(pop[2]!, /^-ERR \[AUTH\]/);
  assert.match(pop[3]!, /^-ERR \[SYS\/TEMP\]/, 'throttled after MaxFailedLogins 2');

  // The forwarder: one message to two recipients, one accepted (2xx), one refused (5xx); the
  // notification of the refusal to the job's sender is refused too (5xx): a dead letter.
  await submitText(config, batchFile('MET', 1, ['ok@remote.test', 'gone@remote.test']).text);
  const fc = services.gateway.forwarder.counters;
  await until('the message and its notification finished', () => fc.undeliver >= 1 && fc.deadLetter >= 1);
  // A spool file with a command batch SMTP does not know is held (BadSpoolDisp Hold).
  await submitText(config, 'HELO JOBHOST\r\nXYZZY <bad@command>\r\nQUIT\r\n', 'BADJOB');
  await until('the bad file held', async () => (await services.gateway.held.list()).length === 1);

  const after = await scrape();
  assert.equal(v(after, 'spoolgate_receiver_connections_total'), 2);
  assert.equal(v(after, 'spoolgate_receiver_messages_accepted_total'), 2, 'the filtered message was answered 250 too');
  assert.equal(v(after, 'spoolgate_receiver_relay_refused_total'), 1);
  assert.equal(v(after, 'spoolgate_receiver_filtered_total'), 1);
  assert.equal(v(after, 'spoolgate_receiver_dnsbl_hits_total'), 1);
  assert.equal(v(after, 'spoolgate_receiver_replies_total', { class: '5xx' }), 2, 'the relay refusal and the DNSBL refusal');
  assert.equal(v(after, 'spoolgate_receiver_replies_total', { class: '4xx' }), 0);
  assert.equal(v(after, 'spoolgate_pop3_logins_total'), 1);
  assert.equal(v(after, 'spoolgate_pop3_login_failures_total'), 2);
  assert.equal(v(after, 'spoolgate_pop3_login_throttled_total'), 1);
  const tl = { address: '127.0.0.1', port: String(target.port) };
  assert.equal(v(after, 'spoolgate_target_replies_total', { ...tl, class: '2xx' }), 1);
  assert.equal(v(after, 'spoolgate_target_replies_total', { ...tl, class: '5xx' }), 2);
  assert.equal(v(before, 'spoolgate_held_files'), 0);
  assert.equal(v(after, 'spoolgate_held_files'), 1);
  assert.equal(v(before, 'spoolgate_dead_letters_stored'), 0);
  assert.equal(v(after, 'spoolgate_dead_letters_stored'), 1);
  assert.equal(v(after, 'spoolgate_extended_retry_oldest_age_seconds'), 0, 'no extended retry configured');
  assert.equal(v(after, 'spoolgate_target_replies_total', { ...tl, class: '4xx' }), 0);
  // Label values carry no spaces.
  assert.ok(after.filter((s) => s.name === 'spoolgate_target_state').some((s) => s.labels.state === 'NOT_USABLE'));
  assert.ok(after.every((s) => Object.values(s.labels).every((l) => !/\s/.test(l))), 'no label value with a space');
  // Process facts: present and plausible.
  assert.ok(v(after, 'process_resident_memory_bytes')! > 0);
  assert.ok(v(after, 'nodejs_heap_size_used_bytes')! > 0);
  assert.ok(v(after, 'nodejs_eventloop_lag_seconds', { stat: 'max' })! >= 0);
  assert.ok(v(after, 'process_cpu_user_seconds_total')! > 0);
  assert.notEqual(v(after, 'nodejs_gc_runs_total', { kind: 'major' }), undefined);
});
