// Issue #16 item 1 acceptance: Options TLSEhlo YES against a real TLS SMTP server that nobody
// here wrote the client for — test/peers/tls-smtpd.py (Python's ssl module; it answers MAIL with
// 503 unless EHLO follows TLS, as the seed's diagnosis guide describes such servers). 20
// TLS-required messages, once over one reused connection and once over a new connection each,
// are all delivered: what was learned before TLS (STARTTLS offered) is kept for routing, the
// post-TLS EHLO (no STARTTLS keyword, RFC 3207) does not make the target "no STARTTLS".
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { testCerts } from '../../src/testing/certs.js';
import { needPeer, tempDir } from '../../src/testing/peers.js';
import { batchFile, runGateway, submitText, until, writeConfig } from '../../src/testing/gateway.js';

interface PyServer { port: number; events: string[] }

async function startServer(t: TestContext, python: string): Promise<PyServer> {
  const certs = testCerts();
  const child = spawn(python, [join(import.meta.dirname, 'tls-smtpd.py'), certs.certFile, certs.keyFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => { child.stdin.end(); if (child.exitCode === null) child.kill(); });
  const events: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`tls-smtpd.py exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^PORT (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
      else events.push(line);
    });
  });
  return { port, events };
}

const withStartTls = (text: string): string => text.replace('HELO JOBHOST\r\n', 'HELO JOBHOST\r\nSTARTTLS\r\n');

for (const mode of [
  { name: 'one reused connection', target: 'ConnectLimit 1', connections: (n: number) => n === 1 },
  { name: 'a new connection per message', target: 'ConnectLimit 1 MaxMsgSent 1', connections: (n: number) => n === 20 },
] as const) {
  test(`TLSEhlo YES, Python TLS server wanting EHLO after TLS: 20 TLS-required messages over ${mode.name} are all delivered`, async (t) => {
    const python = needPeer(t, 'python3');
    if (python === undefined) return;
    const server = await startServer(t, python);
    const dir = tempDir(t);
    const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} TlsCaFile ${testCerts().caFile} TlsServerName localhost ${mode.target} }
Options { TLSEhlo YES }
RetryLimit { Count 0 Interval 0 }
Undeliverable { DeadLetterDirectory ${join(dir, 'dead')} }`);
    const gw = await runGateway(config);
    t.after(() => gw.stop());
    await submitText(config, withStartTls(batchFile('TLS', 20).text));
    await until('20 messages or a failure', () => server.events.filter((e) => e.startsWith('MSG ')).length >= 20 || gw.forwarder.counters.undeliverable > 0, 60_000);
    await until('spool empty', async () => (await gw.queue.list()).length === 0, 60_000);
    const msgs = server.events.filter((e) => e.startsWith('MSG '));
    assert.equal(msgs.length, 20, server.events.join('\n'));
    assert.equal(gw.forwarder.counters.delivered, 20);
    assert.equal(gw.forwarder.counters.undeliverable, 0);
    assert.deepEqual(server.events.filter((e) => e.startsWith('MAIL ') && !e.endsWith(' tls=1 ok')), [], 'every MAIL over TLS after a new EHLO');
    const conns = server.events.filter((e) => e.startsWith('CONN ')).length;
    assert.ok(mode.connections(conns), `${conns} connections`);
    const target = gw.forwarder.listTargets()[0]!;
    assert.equal(target.capabilities?.startTls, true, 'D,TARGETS keeps STARTTLS : YES');
  });
}
