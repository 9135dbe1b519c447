import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../testing/peers.js';
import { runCli } from '../testing/cli.js';
import { run } from './config.js';

// In-process: `spoolgate config ...` through run(argv, io); the paths are relative to the
// repository root, where the test runner runs.
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...rest] = args;
  assert.equal(cmd, 'config');
  return runCli(run, rest, { env: { ...process.env, CSSMTP_CODEPAGE_CONFIG: '', ...env } });
}

test('config check: the shipped sample configuration is valid', async () => {
  const r = await cli(['config', 'check', '--config', 'config/spoolgate.conf']);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'config/spoolgate.conf: valid\n');
  assert.equal(r.code, 0);
});

test('config check: warnings are printed, exit 0', async (t) => {
  const f = join(tempDir(t), 'w.conf');
  writeFileSync(f, 'Report None\nOptions { TestMode YES }\nTargetServer { TargetIP 192.0.2.1 }\n');
  const r = await cli(['config', 'check', '--config', f]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `warning: ${f}:2: Options TestMode: YES with Report None: problems found in test mode are reported nowhere (EZD1841I); allowed Report Sysout or Report Admin\n${f}: valid\n`);
});

test('config check: errors are printed, exit 2', async (t) => {
  const f = join(tempDir(t), 'bad.conf');
  writeFileSync(f, 'RetryLimit {\n  Count 9000\n}\n');
  const r = await cli(['config', 'check', '--config', f]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, [
    `${f}:2: RetryLimit Count: value 9000 out of range; allowed 0..7200 (and Count × Interval ≤ 7200)`,
    `${f}:3: TargetServer: statement missing; allowed at least one TargetServer { TargetIP|TargetName|TargetMx ... }`,
    `${f}: 2 errors; configuration not valid`,
    '',
  ].join('\n'));
});

test('config check: a missing file is a configuration error, exit 2', async (t) => {
  const f = join(tempDir(t), 'nope.conf');
  const r = await cli(['config', 'check', '--config', f]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /nope\.conf:0: \(file\): cannot read: ENOENT/);
});

test('config check: an EBCDIC file with CSSMTP_CODEPAGE_CONFIG', async (t) => {
  const f = join(tempDir(t), 'ebcdic.conf');
  // "TargetServer { TargetIP 192.0.2.1 }" + NL in IBM-1047, written by hand.
  const ascii = 'TargetServer { TargetIP 192.0.2.1 }';
  const map: Record<string, number> = { ' ': 0x40, '{': 0xc0, '}': 0xd0, '.': 0x4b };
  const bytes = [...ascii].map((c) => {
    if (map[c] !== undefined) return map[c];
    if (c >= '0' && c <= '9') return 0xf0 + Number(c);
    const u = c.toUpperCase();
    const base = u <= 'I' ? 0xc1 + u.charCodeAt(0) - 65 : u <= 'R' ? 0xd1 + u.charCodeAt(0) - 74 : 0xe2 + u.charCodeAt(0) - 83;
    return c === u ? base : base - 0x40;
  });
  writeFileSync(f, Buffer.from([...bytes, 0x15]));
  assert.equal((await cli(['config', 'check', '--config', f], { CSSMTP_CODEPAGE_CONFIG: 'IBM-1047' })).code, 0);
  assert.equal((await cli(['config', 'check', '--config', f])).code, 2);
});

test('config show: EZD1829I layout of the values in force', async () => {
  const r = await cli(['config', 'show', '--config', 'config/spoolgate.conf']);
  assert.equal(r.code, 0);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'EZD1829I SPOOLGATE CONFIGURATION:');
  assert.ok(lines.includes('TARGETIP            : 127.0.0.1'));
  assert.ok(lines.includes('CONNECTPORT         : 2525           CONNECTLIMIT     : 5'));
  assert.ok(lines.includes('LOGLEVEL            : 7              USEREXIT         : NONE'));
});

test('config: usage errors exit 2', async () => {
  assert.equal((await cli(['config'])).code, 2);
  assert.equal((await cli(['config', 'frob'])).code, 2);
  assert.equal((await cli(['config', 'check', '--bogus'])).code, 2);
  const help = await cli(['config', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /spoolgate config check/);
});

// Issue #16 item 16: `config show` runs no gateway: no PID of its own, no checkpoint mode.
test('config show: PID and CHKPOINT are N/A offline', async () => {
  const r = await cli(['config', 'show', '--config', 'config/spoolgate.conf']);
  assert.equal(r.code, 0);
  assert.ok(r.stdout.split('\n').some((l) => /^PID\s+: N\/A$/.test(l)), r.stdout);
  assert.ok(r.stdout.split('\n').some((l) => /CHKPOINT\s+: N\/A$/.test(l)), r.stdout);
  assert.ok(!r.stdout.includes(String(process.pid)));
  assert.ok(!/WARM/.test(r.stdout));
});

// O2 #18 item 8: --json on every command that prints data.
test('config check --json / show --json: the verdict and the configuration as data', async (t) => {
  const ok = await cli(['config', 'check', '--config', 'config/spoolgate.conf', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout), { file: 'config/spoolgate.conf', valid: true, errors: [], warnings: [] });
  const f = join(tempDir(t), 'bad.conf');
  writeFileSync(f, 'RetryLimit { Count 9000 }\nTargetServer { TargetIP 192.0.2.1 }\n');
  const bad = await cli(['config', 'check', '--config', f, '--json']);
  assert.equal(bad.code, 2);
  const j = JSON.parse(bad.stdout) as { valid: boolean; errors: string[] };
  assert.equal(j.valid, false);
  assert.match(j.errors[0]!, /bad\.conf:1: RetryLimit Count: value 9000 out of range/);
  const show = await cli(['config', 'show', '--config', 'config/spoolgate.conf', '--json']);
  assert.equal(show.code, 0, show.stderr);
  const c = JSON.parse(show.stdout) as { logLevel: number; targetServers: { targetIp: string[] }[] };
  assert.equal(c.logLevel, 7);
  assert.deepEqual(c.targetServers[0]!.targetIp, ['127.0.0.1']);
  // A target's AuthPassword is never printed.
  const sec = join(tempDir(t), 'auth.conf');
  writeFileSync(sec, 'TargetServer { TargetIP 192.0.2.1 Secure YES AuthUser relay AuthPassword hunter2 }\n');
  const shown = await cli(['config', 'show', '--config', sec, '--json']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.ok(!shown.stdout.includes('hunter2'));
  assert.equal((JSON.parse(shown.stdout) as { targetServers: { authPassword: string }[] }).targetServers[0]!.authPassword, '(set)');
});
