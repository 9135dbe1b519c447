// O2 #18 item 6: /healthz (alive) and /readyz (no disabling fault, and at least one target that
// may take mail), without a token, read with curl. /readyz flips to 503 when the only target
// goes down (a delivery attempt finds it dead: NOT USABLE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Logger } from '../../src/log/index.js';
import { startServices } from '../../src/main.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { needPeer, tempDir } from '../../src/testing/peers.js';
import { submitText, batchFile, until, writeConfig } from '../../src/testing/gateway.js';

test('/healthz is 200; /readyz is 200 with a usable target and 503 once the only target is NOT USABLE', async (t) => {
  const curl = needPeer(t, 'curl');
  if (curl === undefined) return;
  const srv = await FakeSmtpServer.start();
  let closed = false;
  t.after(() => (closed ? undefined : srv.close()));
  const port = srv.port;
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${port} }
    Http { Listen 127.0.0.1:0 }`);
  const services = await startServices(config, { log: Logger.silent() });
  t.after(() => services.stop());
  await services.gateway.forwarder.start();
  const http = services.listening.find((l) => l.role === 'http')!;
  // curl runs beside the gateway's event loop (never a Sync call: the server is in this process).
  const get = (path: string): Promise<{ code: number; body: string }> => new Promise((done, fail) => {
    execFile(curl, ['-s', '--max-time', '30', '-w', '\n%{http_code}', `http://127.0.0.1:${http.port}${path}`], { encoding: 'utf8' }, (e, out) => {
      if (e !== null) { fail(e); return; }
      const i = out.lastIndexOf('\n');
      done({ code: Number(out.slice(i + 1)), body: out.slice(0, i) });
    });
  });
  assert.deepEqual(await get('/healthz'), { code: 200, body: '{"alive":true}\n' });
  const up = await get('/readyz');
  assert.equal(up.code, 200, up.body);
  assert.deepEqual(JSON.parse(up.body).targets, { total: 1, usable: 1 });

  // The only target goes away; the next message finds it dead.
  closed = true;
  await srv.close();
  await submitText(config, batchFile('DOWN', 1).text);
  await until('the target NOT USABLE', () => services.gateway.forwarder.listTargets().some((x) => x.state === 'NOT USABLE'));
  const down = await get('/readyz');
  assert.equal(down.code, 503, down.body);
  assert.deepEqual(JSON.parse(down.body), { ready: false, targets: { total: 1, usable: 0 }, faults: [] });
  assert.equal((await get('/healthz')).code, 200, 'alive all the same');
});
