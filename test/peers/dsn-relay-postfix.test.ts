// Issue #16 item 14 with peers nobody here wrote: Python smtplib submits to the gateway's receiver
// with DSN options (RET, ENVID, NOTIFY, ORCPT); the gateway relays to a real Postfix smtpd, which
// offers DSN, and Postfix's own verbose log shows the MAIL and RCPT lines it was given. Then one
// `spoolgate journal --id` with the receiver's id shows the message from reception to delivery.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { run as journalCli } from '../../src/cli/journal.js';
import { captureIo } from '../../src/testing/cli.js';
import { until } from '../../src/testing/gateway.js';
import { needPeer, isRoot, tempDir } from '../../src/testing/peers.js';
import { startPostfix, startSmtpSink } from '../../src/testing/postfix.js';
import { startRelayGateway } from '../e2e/relay-harness.js';

const PY = `
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)
s.ehlo('client.test')
assert s.has_extn('dsn'), 'the receiver offers DSN'
code, _ = s.mail('payroll@client.test', ['RET=HDRS', 'ENVID=PAYROLL+2B0042'])
assert code == 250, code
code, _ = s.rcpt('clerk@far.test', ['NOTIFY=SUCCESS,DELAY', 'ORCPT=rfc822;clerk+2Bpay@far.test'])
assert code == 250, code
code, _ = s.rcpt('audit@far.test', ['NOTIFY=NEVER'])
assert code == 250, code
code, reply = s.data(b'From: payroll@client.test\\r\\nTo: clerk@far.test\\r\\nSubject: pay run 42\\r\\n\\r\\nTotals attached.\\r\\n')
assert code == 250, code
print(reply.decode())
s.quit()
`;

function python(py: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(py, ['-c', PY, ...args], { timeout: 60_000 }, (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout)));
  });
}

test('smtplib with DSN options → receiver → forwarder → Postfix smtpd: NOTIFY, ORCPT, RET and ENVID on the MAIL/RCPT lines; journal --id shows the way', async (t) => {
  const py = needPeer(t, 'python3');
  const sinkBin = needPeer(t, 'smtp-sink');
  if (!py || !sinkBin || !needPeer(t, 'postfix')) return;
  if (!isRoot) { t.skip('starting Postfix needs root'); return; }
  const dir = tempDir(t);
  const sink = await startSmtpSink({ bin: sinkBin, dir });
  // debug_peer_list: Postfix logs every command a client at that address sends.
  const pf = await startPostfix({ dir, relayPort: sink.port, extraMain: ['debug_peer_list = 127.0.0.1'] }).catch(async (e: unknown) => { await sink.stop(); throw e; });
  try {
    const gw = await startRelayGateway(t, pf.port);
    const out = await python(py, [String(gw.receiverPort)]);
    const id = /queued as (\S+)/.exec(out)?.[1];
    assert.ok(id !== undefined, `the receiver names its id: ${out}`);
    await sink.waitFor(1, 60_000).catch((e: unknown) => { throw new Error(`${String(e)}\n${pf.log()}`); });
    const log = pf.log();
    // Postfix's verbose smtpd log: "< localhost[127.0.0.1]: MAIL FROM:<...> ...".
    const mail = /< [^:]*\[127\.0\.0\.1\]: (MAIL FROM:.*)$/m.exec(log)?.[1];
    const rcpts = [...log.matchAll(/< [^:]*\[127\.0\.0\.1\]: (RCPT TO:.*)$/gm)].map((m) => m[1]!);
    assert.ok(mail !== undefined, `Postfix logged the MAIL line:\n${log}`);
    assert.match(mail, /^MAIL FROM:<payroll@client\.test>/);
    assert.match(mail, / RET=HDRS( |$)/);
    assert.match(mail, / ENVID=PAYROLL\+2B0042( |$)/);
    assert.equal(rcpts.length, 2, log);
    assert.match(rcpts[0]!, /^RCPT TO:<clerk@far\.test>/);
    assert.match(rcpts[0]!, / NOTIFY=SUCCESS,DELAY( |$)/);
    assert.match(rcpts[0]!, / ORCPT=rfc822;clerk\+2Bpay@far\.test( |$)/);
    assert.match(rcpts[1]!, /^RCPT TO:<audit@far\.test> NOTIFY=NEVER$/);
    // A target that offers DSN reports success itself: the gateway sends no "relayed" notice.
    // "Where is my mail?": one command, from the receiver's id to the target's answer.
    let lines: string[] = [];
    await until('the journal has the delivery', async () => {
      const io = captureIo();
      assert.equal(await journalCli(['--config', gw.config.configFile, '--id', id], io), 0, io.err());
      lines = io.out().trim().split('\n');
      return lines.filter((l) => / delivered /.test(l)).length === 2;
    }, 30_000);
    const types = lines.map((l) => l.split(/\s+/)[1]);
    for (const want of ['received-relay', 'queued', 'attempt', 'delivered']) assert.ok(types.includes(want), `${want} in:\n${lines.join('\n')}`);
    assert.ok(lines.some((l) => /delivered .*<payroll@client\.test> -> <clerk@far\.test> 88 sent by 127\.0\.0\.1:\d+: 250 /.test(l)), lines.join('\n'));
  } finally {
    await pf.stop();
    await sink.stop();
  }
});
