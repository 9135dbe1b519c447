import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureIo, runCli } from '../testing/cli.js';
import { tempDir } from '../testing/peers.js';
import { parseStartArgs, run } from './start.js';
import { loadConfig } from '../config/index.js';
import { startServices } from '../main.js';

// Issue #16 item 11: the seed's start options, -f or -F (cold start) and -p or -P tcpipJobName.
test('start options: -f and -F are a cold start; -p/-P STACK is accepted with a warning', () => {
  const cases: { argv: string[]; cold: boolean; warnings: number }[] = [
    { argv: [], cold: false, warnings: 0 },
    { argv: ['-f'], cold: true, warnings: 0 },
    { argv: ['-F'], cold: true, warnings: 0 },
    { argv: ['--cold'], cold: true, warnings: 0 },
    { argv: ['-p', 'TCPIP'], cold: false, warnings: 1 },
    { argv: ['-P', 'TCPIPB', '-F'], cold: true, warnings: 1 },
  ];
  for (const c of cases) {
    const r = parseStartArgs(c.argv);
    assert.ok(r.ok, c.argv.join(' '));
    assert.equal(r.value.cold, c.cold, c.argv.join(' '));
    assert.equal(r.value.warnings.length, c.warnings, c.argv.join(' '));
  }
  const p = parseStartArgs(['-p', 'TCPIP']);
  assert.ok(p.ok);
  assert.deepEqual(p.value.warnings, ['spoolgate: start option -p TCPIP ignored: it chooses a z/OS TCP/IP stack; this host has one network stack']);
  const io = captureIo();
  assert.deepEqual(parseStartArgs(['-x'], io), { ok: false, code: 2 });
  assert.match(io.err(), /^spoolgate start: unknown option '-x'\nusage: spoolgate start /);
});

test('start -F -p TCPIP --once: runs and exits 0 with one warning line', async (t) => {
  const dir = tempDir(t);
  const conf = join(dir, 'spoolgate.conf');
  writeFileSync(conf, `Instance TEST\nStateDirectory ${join(dir, 'state')}\nSpool { Directory ${join(dir, 'spool')} }\nLogFile ${join(dir, 'log')}\nControlSocket ${join(dir, 'ctl.sock')}\nTargetServer { TargetIP 127.0.0.1 ConnectPort 9 }\n`);
  const r = await runCli(run, ['--config', conf, '-F', '-p', 'TCPIP', '--once']);
  assert.equal(r.stderr, 'spoolgate: start option -p TCPIP ignored: it chooses a z/OS TCP/IP stack; this host has one network stack\n');
  assert.equal(r.code, 0);
});

// Issue #16 item 16: a second instance on the same writer is refused in one line, not a stack.
test('start: a second instance on the same writer prints one line and exits 1', async (t) => {
  const dir = tempDir(t);
  const conf = join(dir, 'spoolgate.conf');
  writeFileSync(conf, `Instance TEST\nStateDirectory ${join(dir, 'state')}\nSpool { Directory ${join(dir, 'spool')} }\nLogFile ${join(dir, 'log')}\nControlSocket ${join(dir, 'ctl.sock')}\nTargetServer { TargetIP 127.0.0.1 ConnectPort 9 }\n`);
  const loaded = loadConfig(conf);
  assert.ok(loaded.ok);
  const first = await startServices(loaded.value.config);
  t.after(() => first.stop());
  const r = await runCli(run, ['--config', conf, '--once']);
  assert.equal(r.code, 1);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^spoolgate: TEST: not started: .*(already in use|already listening)/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
