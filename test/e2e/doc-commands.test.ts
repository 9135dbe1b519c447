// [O2] #18 acceptance: every command in README.md and docs/*.md runs in a test. The commands are
// extracted as test/e2e/doc-commands.ts describes (which blocks, the `<!-- doc-test: … -->`
// annotations) and run in order, per document, against a spoolgate instance of the document's own.
// A command that exits with a status its doc does not expect fails the test with file, line and
// command, its output beside it.
//
// Where the commands run (one sandbox per document, in a temp directory):
//   - the current source, transpiled once per run with esbuild (what tsx does, without its cost
//     per process) into <tmp>/pkg, which links the checkout's package.json, node_modules, config
//     and examples as an installed package has them;
//   - <sandbox>/bin first on PATH: `spoolgate` (and `sendmail`, `mailq` linked to it) run that
//     copy; `npx spoolgate …` is `spoolgate …` (no registry); `curl` is the real one with
//     --fail-with-body, so an HTTP 4xx/5xx is a failing command as the reader would take it;
//     sudo, systemctl, useradd, groupadd, apt-get, npm and docker refuse with exit 97: a doc
//     command that needs them is annotated (skip with a reason, or replace with a safe form);
//   - the sandbox is both a checkout and a root prefix: ./config/spoolgate.conf (the README's
//     path) and root/etc/spoolgate/spoolgate.conf are the instance's configuration (the shipped
//     sample with free ports chosen now), ./var/state and root/var/lib/spoolgate its state,
//     ./var/spool and root/var/spool/spoolgate its spool; README.md, package.json and examples/
//     are there as in a checkout. In a command, /etc/spoolgate, /var/lib/spoolgate,
//     /var/spool/spoolgate, /var/log/spoolgate, /etc/systemd/system, /etc/logrotate.d and
//     /usr/sbin/sendmail become the same paths under root/, and the sample's ports 2525, 1110 and
//     8025 the instance's. Any other absolute system path (/etc, /var, /usr, …) left in a command
//     fails the test before anything runs: the test never touches the machine's /etc, /var or
//     systemd.
//   - $DOCTEST_ROOT (root/) and $SANDBOX are set for the commands, so an annotation can name them
//     (`replace sudo spoolgate init --user spoolgate => spoolgate init --prefix $DOCTEST_ROOT`);
//   - each command is a bash of its own (stdin /dev/null; cwd, exported variables carried on to the
//     next command of the doc), bounded by COMMAND_MS.
// DOC_TEST_ONLY=docs/http.md (comma-separated) runs those documents only (MIN_RUN is then not
// checked); DOC_TEST_VERBOSE=1 prints every command with its exit status and output.
// Usage synopses (annotated `synopsis`) and `spoolgate …` written inline in the text are not run:
// their subcommand must exist and every --option they name must be in its --help.
// The documents run side by side (3 at a time). The totals (run, skipped with each reason, blocks
// that are not commands) are printed, and at least MIN_RUN commands must have run.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { docCommands, inlineCommands, type DocCommand } from './doc-commands.js';
import { until } from '../../src/testing/gateway.js';
import { findPeer, needPeer } from '../../src/testing/peers.js';
import { startRelayTarget } from './relay-harness.js';

const ROOT = resolve(import.meta.dirname, '../..');
const COMMAND_MS = 60_000;
const WAIT_MS = 60_000;
const MIN_RUN = 50;
/** System paths a command may name: they are mapped under the sandbox's root/. */
const MAPPED = /(?<![\w.$}/-])\/(etc\/spoolgate|var\/lib\/spoolgate|var\/spool\/spoolgate|var\/log\/spoolgate|etc\/systemd\/system|etc\/logrotate\.d|usr\/sbin\/sendmail)/g;
/** Any other system path: refused. */
const SYSTEM = /(?<![\w.$}/-])\/(etc|var|usr|lib|lib64|opt|root|home|boot|srv|sys|proc|run)(\/|\b)/;
const REFUSED = ['sudo', 'sudoedit', 'systemctl', 'useradd', 'groupadd', 'usermod', 'apt-get', 'apt', 'npm', 'docker'];
/** One of them in a command position anywhere in a command (also inside `$(…)`). */
const REFUSED_AT = new RegExp(`(^|[;&|(\`]|\\$\\()\\s*(${REFUSED.join('|')})(?=\\s|$)`, 'm');
/** A command that talks to the instance (the others run without one: no start to wait for). */
const NEEDS_INSTANCE = /(^|[\s;&|(`/])(spoolgate|sendmail|mailq|curl)(\s|$)/m;

function docs(): string[] {
  return ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
}

/** The current source transpiled into <dir>/pkg/dist (no type check: `npm run typecheck` does that). */
async function buildPackage(dir: string): Promise<string> {
  const pkg = join(dir, 'pkg');
  mkdirSync(pkg);
  const entries: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) { if (n !== 'testing') walk(p); } else if (n.endsWith('.ts') && !n.endsWith('.test.ts')) entries.push(p);
    }
  };
  walk(join(ROOT, 'src'));
  // esbuild comes with tsx (the loader every test runs under): resolve it from there.
  const esbuild = createRequire(createRequire(import.meta.url).resolve('tsx'))('esbuild') as typeof import('esbuild');
  await esbuild.build({ entryPoints: entries, outdir: join(pkg, 'dist'), outbase: join(ROOT, 'src'), format: 'esm', platform: 'node', target: 'node20', logLevel: 'error' });
  for (const x of ['package.json', 'node_modules', 'config', 'examples']) symlinkSync(join(ROOT, x), join(pkg, x));
  return pkg;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}

interface Sandbox {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  /** The instance's ports for the sample's 2525 (smtp), 1110 (pop3) and 8025 (http). */
  readonly ports: Record<'smtp' | 'pop3' | 'http', number>;
  readonly session: string;
  /** The target's port when it is not the instance's own receiver (target-defers). */
  readonly targetPort: number | undefined;
}

function sh(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

/** The instance's configuration: the shipped sample with the sandbox's paths and ports. */
function writeInstanceConfig(sb: Sandbox): void {
  const root = join(sb.dir, 'root');
  const conf = readFileSync(join(ROOT, 'config/spoolgate.conf'), 'utf8')
    .replace(/^StateDirectory .*$/m, `StateDirectory ${join(root, 'var/lib/spoolgate')}`)
    .replace(/^(\s*Directory\s+)\.\.\/var\/spool$/m, `$1${join(root, 'var/spool/spoolgate')}`)
    .replace(/(TargetIP\s+127\.0\.0\.1\n\s*ConnectPort\s+)2525\b/, `$1${sb.targetPort ?? sb.ports.smtp}`)
    .replace(/\b(2525|1110|8025)\b/g, (p) => String(p === '2525' ? sb.ports.smtp : p === '1110' ? sb.ports.pop3 : sb.ports.http))
    .replace(/RescanInterval 5/, 'RescanInterval 1');
  writeFileSync(join(root, 'etc/spoolgate/spoolgate.conf'), conf);
}

function makeSandbox(base: string, name: string, pkg: string, ports: Sandbox['ports'], targetPort?: number): Sandbox {
  const dir = mkdtempSync(join(base, `${name.replace(/\W/g, '_')}-`));
  const rootDir = join(dir, 'root');
  const etc = join(rootDir, 'etc/spoolgate');
  const state = join(rootDir, 'var/lib/spoolgate');
  const spool = join(rootDir, 'var/spool/spoolgate');
  for (const d of [etc, state, spool, join(rootDir, 'var/log/spoolgate'), join(rootDir, 'usr/sbin'), join(dir, 'bin'), join(dir, 'home'), join(dir, 'var'), join(dir, 'config'), join(dir, '.doc-test')]) mkdirSync(d, { recursive: true });
  symlinkSync(join(etc, 'spoolgate.conf'), join(dir, 'config/spoolgate.conf'));
  symlinkSync(state, join(dir, 'var/state'));
  symlinkSync(spool, join(dir, 'var/spool'));
  for (const f of ['README.md', 'package.json']) cpSync(join(ROOT, f), join(dir, f));
  cpSync(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
  const bin = join(dir, 'bin');
  sh(join(bin, 'spoolgate'), `#!/usr/bin/env node\nimport(${JSON.stringify(`file://${join(pkg, 'dist/cli.js')}`)});\n`);
  symlinkSync(join(bin, 'spoolgate'), join(bin, 'sendmail'));
  symlinkSync(join(bin, 'spoolgate'), join(bin, 'mailq'));
  sh(join(bin, 'npx'), '#!/bin/sh\nif [ "$1" = spoolgate ]; then shift; exec spoolgate "$@"; fi\necho "doc-test: npx $1: only spoolgate resolves here (no registry)" >&2\nexit 97\n');
  const curl = findPeer('curl');
  if (curl !== undefined) sh(join(bin, 'curl'), `#!/bin/sh\nexec ${curl} --fail-with-body --silent --show-error "$@"\n`);
  for (const r of REFUSED) sh(join(bin, r), `#!/bin/sh\necho "doc-test: ${r} is not run here (root, systemd or the network): annotate the command with skip REASON or replace" >&2\nexit 97\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: join(dir, 'home'), DOCTEST_ROOT: rootDir, SANDBOX: dir };
  delete env.SPOOLGATE_CONFIG;
  delete env.NODE_OPTIONS;
  const session = join(dir, '.doc-test');
  writeFileSync(join(session, 'cwd'), dir + '\n');
  writeFileSync(join(session, 'env.sh'), '');
  const sb = { dir, env, ports, session, targetPort };
  writeInstanceConfig(sb);
  return sb;
}

interface Started { readonly stop: () => Promise<void>; output: () => string }

/** Starts the instance; a port taken since freePort() chose it (another test) gets new ports. */
async function startInstance(sb: Sandbox, pkg: string): Promise<Started> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(sb, pkg);
    } catch (e) {
      if (attempt === 3 || !/EADDRINUSE|address already in use/i.test((e as Error).message)) throw e;
      Object.assign(sb.ports, { smtp: await freePort(), pop3: await freePort(), http: await freePort() });
      writeInstanceConfig(sb);
    }
  }
}

async function startOnce(sb: Sandbox, pkg: string): Promise<Started> {
  const child = spawn(process.execPath, [join(pkg, 'dist/cli.js'), 'start', '--config', join(sb.dir, 'config/spoolgate.conf')], { cwd: sb.dir, env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  let exited: string | undefined;
  const gone = new Promise<void>((r) => child.once('exit', (code, signal) => { exited = String(code ?? signal); r(); }));
  const stop = async (): Promise<void> => { if (exited === undefined) { child.kill('SIGTERM'); await gone; } };
  try {
    await until('the instance to say it is running', () => {
      if (exited !== undefined) throw new Error(`spoolgate start exited (${exited}) before it ran:\n${out}`);
      return out.includes(': running (') && out.includes('mailbox user "demo"');
    }, 90_000);
  } catch (e) {
    await stop();
    // Say what the instance printed: a start that never reports running is otherwise a bare timeout.
    throw new Error(`${e instanceof Error ? e.message : String(e)}; its output:\n${out.split('\n').slice(-40).join('\n')}`, { cause: e });
  }
  return { stop, output: () => out };
}

/** The command as it runs: the block's replacements, then the sandbox's paths and ports. */
function mapCommand(c: DocCommand, ports: Sandbox['ports']): string {
  let text = c.text;
  for (const [from, to] of c.replace) text = text.split(from).join(to);
  return text
    .replace(MAPPED, (_m, p: string) => `$DOCTEST_ROOT/${p}`)
    .replace(/\b(2525|1110|8025)\b/g, (p) => String(p === '2525' ? ports.smtp : p === '1110' ? ports.pop3 : ports.http));
}

interface Ran { readonly code: number; readonly out: string }

function runShell(sb: Sandbox, text: string): Promise<Ran> {
  const file = join(sb.session, 'cmd.sh');
  writeFileSync(file, text + '\n');
  const s = sb.session;
  const script = `. ${s}/env.sh\ncd "$(cat ${s}/cwd)" || exit 96\n. ${s}/cmd.sh\nrc=$?\nexport -p > ${s}/env.sh\npwd > ${s}/cwd\nexit $rc\n`;
  return new Promise((done) => {
    const child = spawn('bash', ['-c', script], { cwd: sb.dir, env: sb.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { if (out.length < 20_000) out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { if (out.length < 20_000) out += d.toString(); });
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } out += `\n(doc-test: killed after ${COMMAND_MS} ms)`; }, COMMAND_MS);
    child.once('close', (code, signal) => { clearTimeout(timer); done({ code: code ?? (signal === null ? 99 : 128), out }); });
  });
}

interface Tally { ran: number; skipped: Map<string, number>; other: number; synopses: number; inline: number; failures: string[] }

function where(c: { file: string; line: number }): string { return `${c.file}:${c.line}`; }

async function runDoc(t: TestContext, file: string, cmds: DocCommand[], targetDefers: boolean, base: string, pkg: string, tally: Tally): Promise<void> {
  const runnable = cmds.filter((c) => c.skip === undefined);
  for (const c of cmds) if (c.skip !== undefined) tally.skipped.set(c.skip, (tally.skipped.get(c.skip) ?? 0) + 1);
  if (runnable.length === 0) return;
  const failedBefore = tally.failures.length;
  const ports: Sandbox['ports'] = { smtp: await freePort(), pop3: await freePort(), http: await freePort() };
  // target-defers: a target that answers 451 to every recipient (so mail stays in the queue).
  const target = targetDefers ? await startRelayTarget(t, { onRcpt: () => Object.assign(new Error('4.3.0 try again later (doc-test target)'), { responseCode: 451 }) }) : undefined;
  const sb = makeSandbox(base, file, pkg, ports, target?.port);
  // Refuse before anything runs: a command that would touch the machine.
  const refusals: string[] = [];
  for (const c of runnable) {
    const mapped = mapCommand(c, ports);
    const sys = SYSTEM.exec(mapped);
    const refused = REFUSED_AT.exec(mapped)?.[2];
    if (sys !== null || refused !== undefined) {
      refusals.push(`${where(c)}: not run: ${sys !== null ? `it names the system path ${sys[0]}` : `${refused} needs root, systemd or the network`}; annotate it (<!-- doc-test: skip REASON --> or replace A => B)\n    ${c.text}`);
    }
  }
  if (refusals.length > 0) { tally.failures.push(...refusals); return; }
  let gw: Started | undefined;
  for (const c of runnable) {
    if (gw === undefined && (NEEDS_INSTANCE.test(c.text) || c.before.some((b) => NEEDS_INSTANCE.test(b.text)))) {
      gw = await startInstance(sb, pkg);
      t.after(gw.stop);
    }
    for (const b of c.before) {
      const hidden = mapCommand({ ...c, text: b.text }, ports);
      let r = await runShell(sb, hidden);
      if (b.until && r.code !== 0) {
        await until(`${where(c)}: until: ${b.text}`, async () => (r = await runShell(sb, hidden)).code === 0, WAIT_MS).catch(() => undefined);
      }
      if (r.code !== 0) tally.failures.push(`${where(c)}: its doc-test ${b.until ? 'until' : 'before'} command exited ${r.code}: ${b.text}\n${r.out}`);
    }
    const text = mapCommand(c, ports);
    let r = await runShell(sb, text);
    if (c.wait && !c.expect.includes(r.code)) {
      await until(`${where(c)} to exit ${c.expect.join(' or ')}`, async () => {
        r = await runShell(sb, text);
        return c.expect.includes(r.code);
      }, WAIT_MS).catch(() => undefined);
    }
    tally.ran++;
    if (process.env.DOC_TEST_VERBOSE) console.log(`${where(c)}: exit ${r.code}\n$ ${text}\n${r.out}`);
    if (!c.expect.includes(r.code)) {
      tally.failures.push(`${where(c)}: exit ${r.code}, the doc expects ${c.expect.join(' or ')}\n    ${c.text.replace(/\n/g, '\n    ')}${text !== c.text ? `\n  ran as: ${text.replace(/\n/g, '\n    ')}` : ''}\n  output:\n    ${r.out.trim().replace(/\n/g, '\n    ')}`);
    }
  }
  await gw?.stop();
  if (tally.failures.slice(failedBefore).some((f) => f.startsWith(`${file}:`)) && gw !== undefined) tally.failures.push(`${file}: the instance's output (last 40 lines):\n    ${gw.output().trim().split('\n').slice(-40).join('\n    ')}`);
  if (process.env.KEEP_TMP === undefined) rmSync(sb.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

/** `spoolgate SUB --help`, once per subcommand (no instance needed). */
function helpOf(pkg: string): (sub: string) => Promise<Ran> {
  const seen = new Map<string, Promise<Ran>>();
  return (sub) => {
    if (!seen.has(sub)) {
      seen.set(sub, new Promise((done) => {
        execFile(process.execPath, [join(pkg, 'dist/cli.js'), sub, '--help'], { timeout: COMMAND_MS }, (e, stdout, stderr) => {
          done({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : 99, out: stdout + stderr });
        });
      }));
    }
    return seen.get(sub)!;
  };
}

/**
 * A synopsis, or a command written inline in the text, names a subcommand and options: the
 * subcommand must exist and each option must be one its --help lists.
 */
async function checkOptions(at: string, text: string, help: (sub: string) => Promise<Ran>, tally: Tally): Promise<void> {
  const sub = /spoolgate\s+([a-z][a-z-]*)/.exec(text)?.[1];
  if (sub === undefined) { tally.failures.push(`${at}: a synopsis that names no spoolgate command`); return; }
  const h = await help(sub);
  if (h.code !== 0) { tally.failures.push(`${at}: \`spoolgate ${sub} --help\` exits ${h.code}: ${text}\n    ${h.out.trim().split('\n')[0]}`); return; }
  for (const opt of new Set(text.match(/--[a-z][a-z-]*/g) ?? [])) {
    if (!h.out.includes(opt)) tally.failures.push(`${at}: ${text}: names ${opt}, which \`spoolgate ${sub} --help\` does not list`);
  }
}

test('extraction: which blocks are commands, continuations, heredocs, quotes, annotations', () => {
  const md = [
    '# T', '', '<!-- doc-test: "status": exit 1 -->', '', '    spoolgate db status  # behind', '    spoolgate db migrate \\', '      --to 3', '',
    'Output:', '', '    spoolgate CSSMTP1: --once: 12 spool file(s)', '',
    '```', 'Store {', '  Backend PostgreSQL', '}', '```', '',
    '1. In a list:', '', '       cat > a.json <<EOF', '       {"x": 1}', '       EOF', '',
    '```sh', "printf 'a", "b' > f  # two lines, one command", '# a comment', 'node scripts/x.mjs', '```', '',
    '```console', '$ spoolgate F D,TARGETS', 'EZD1831I ...', '```', '',
    '<!-- doc-test: skip needs root -->', '```sh', 'sudo true', '```', '',
    '<!-- doc-test: synopsis -->', '```', 'spoolgate note --config FILE [--to ADDR]', '```', '',
    '```', 'node A (Store Node a)', '```', '',
  ].join('\n');
  const p = docCommands('t.md', md);
  assert.deepEqual(p.errors, []);
  assert.deepEqual(p.commands.map((c) => [c.line, c.text, c.expect, c.skip ?? '']), [
    [5, 'spoolgate db status  # behind', [1], ''],
    [6, 'spoolgate db migrate \\\n  --to 3', [0], ''],
    [21, 'cat > a.json <<EOF\n{"x": 1}\nEOF', [0], ''],
    [26, "printf 'a\nb' > f  # two lines, one command", [0], ''],
    [29, 'node scripts/x.mjs', [0], ''],
    [33, 'spoolgate F D,TARGETS', [0], ''],
    [39, 'sudo true', [0], 'needs root'],
  ]);
  assert.equal(p.synopses.length, 1);
  assert.equal(p.other, 3, 'the output line, the Store block and the diagram are not commands');
  // Annotations that cannot apply are errors, not silently ignored.
  assert.match(docCommands('u.md', '<!-- doc-test: "nope": exit 2 -->\n\n    spoolgate config check\n').errors.join(), /selector "nope" matches no command/);
  assert.match(docCommands('u.md', '<!-- doc-test: skip why -->\n\nSome text.\n').errors.join(), /must be followed by a code block/);
  assert.match(docCommands('u.md', '<!-- doc-test: exit two -->\n\n    spoolgate config check\n').errors.join(), /unknown doc-test directive/);
});

test('every command in README.md and docs/*.md runs against an instance of its own', { concurrency: 3 }, async (t) => {
  // The docs' commands use curl (HTTP API, POP3) and iconv (EBCDIC files).
  if (!needPeer(t, 'curl') || !needPeer(t, 'iconv')) return;
  const base = mkdtempSync(join(tmpdir(), 'spoolgate-doc-commands-'));
  t.after(() => { if (process.env.KEEP_TMP === undefined) rmSync(base, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }); else console.error(`kept ${base}`); });
  const pkg = await buildPackage(base);
  const tally: Tally = { ran: 0, skipped: new Map(), other: 0, synopses: 0, inline: 0, failures: [] };
  const help = helpOf(pkg);
  const only = process.env.DOC_TEST_ONLY?.split(',').map((x) => x.trim());
  const parsed = docs().filter((f) => only === undefined || only.includes(f)).map((f) => ({ file: f, ...docCommands(f, readFileSync(join(ROOT, f), 'utf8')) }));
  for (const p of parsed) { tally.failures.push(...p.errors); tally.other += p.other; }
  await Promise.all(parsed.map((p) => t.test(p.file, async (st) => {
    for (const s of p.synopses) { await checkOptions(where(s), s.lines.join('\n'), help, tally); tally.synopses++; }
    for (const c of inlineCommands(readFileSync(join(ROOT, p.file), 'utf8'))) { await checkOptions(`${p.file}:${c.line}`, c.text, help, tally); tally.inline++; }
    await runDoc(st, p.file, p.commands, p.targetDefers, base, pkg, tally);
  })));
  const skipped = [...tally.skipped.values()].reduce((a, b) => a + b, 0);
  console.log(`doc commands: ${tally.ran} ran, ${skipped} skipped; ${tally.synopses} synopses and ${tally.inline} inline \`spoolgate …\` checked against --help; ${tally.other} blocks are not commands`);
  for (const [why, n] of tally.skipped) console.log(`  skipped ${n}: ${why}`);
  assert.deepEqual(tally.failures, [], `\n${tally.failures.join('\n\n')}`);
  if (only === undefined) assert.ok(tally.ran >= MIN_RUN, `only ${tally.ran} doc commands ran (at least ${MIN_RUN} expected)`);
});
