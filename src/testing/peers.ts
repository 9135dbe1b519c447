// Finding the real peers that tests run against (Postfix, Dovecot, swaks, fetchmail, curl,
// PostgreSQL). A missing peer skips the test with a visible reason on a developer's machine and
// FAILS it when CI=true (DEVELOPERS.md): CI installs them with `npm run peers`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export type PeerName = 'smtp-sink' | 'smtp-source' | 'postfix' | 'swaks' | 'curl' | 'python3' | 'fetchmail' | 'dovecot' | 'iconv' | 'openssl' | 'postgres' | 'mailx' | 'git-send-email' | 'pdftotext' | 'dkimpy' | 'chromium' | 'groff';

const BINARIES: Record<PeerName, readonly string[]> = {
  'smtp-sink': ['/usr/sbin/smtp-sink'],
  'smtp-source': ['/usr/sbin/smtp-source'],
  postfix: ['/usr/sbin/postfix'],
  swaks: ['/usr/bin/swaks'],
  curl: ['/usr/bin/curl'],
  python3: ['python3'],
  fetchmail: ['/usr/bin/fetchmail'],
  dovecot: ['/usr/sbin/dovecot'],
  iconv: ['/usr/bin/iconv'],
  openssl: ['/usr/bin/openssl'],
  postgres: ['/usr/lib/postgresql/15/bin/postgres'],
  mailx: ['/usr/bin/bsd-mailx'],
  'git-send-email': ['/usr/lib/git-core/git-send-email'],
  pdftotext: ['/usr/bin/pdftotext'],
  // Debian python3-dkim: the independent DKIM verifier, run with /usr/bin/python3 (testing/dkim.ts).
  dkimpy: ['/usr/bin/dkimverify'],
  // The web console's browser tests (test/e2e/console-browser.test.ts), driven by playwright-core;
  // SPOOLGATE_CHROMIUM names another build (or a missing one, to see the test skip or fail).
  chromium: [process.env.SPOOLGATE_CHROMIUM ?? '/usr/bin/chromium'],
  // Renders the generated man pages with every warning on (src/cli/man.test.ts).
  groff: ['/usr/bin/groff'],
};

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Path of a peer binary, or undefined when it is not installed. */
export function findPeer(name: PeerName): string | undefined {
  for (const b of BINARIES[name]) {
    if (b.startsWith('/') ? existsSync(b) : onPath(b)) return b;
  }
  return undefined;
}

export const inCI = process.env.CI === 'true';

/**
 * Returns the peer's path, or skips the test (developer machine) / throws (CI) when missing.
 * Usage: `const sink = needPeer(t, 'smtp-sink'); if (!sink) return;`
 */
export function needPeer(t: TestContext, name: PeerName): string | undefined {
  const p = findPeer(name);
  if (p !== undefined) return p;
  const reason = `peer ${name} is not installed (run: npm run peers)`;
  if (inCI) throw new Error(`${reason}; CI=true requires every peer`);
  t.skip(reason);
  return undefined;
}

/** True when running as root (smtp-sink needs `-u nobody`, Postfix needs root to start). */
export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A temporary directory removed at the end unless the test failed (STYLE.md §6: keep it then). */
export function tempDir(t: TestContext, prefix = 'spoolgate-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => {
    // node:test has no "did this test fail" hook before after(); keep the dir when KEEP_TMP is set.
    if (process.env.KEEP_TMP) { console.error(`kept ${dir}`); return; }
    // The checkpoint's worker thread closes its SQLite connection (and its WAL files) a moment
    // after a gateway's stop() returns: retry a removal that races with it.
    // A cleanup that fails must not fail the test, nor stop the hooks after it (a gateway's
    // stop() registered later, which is what would stop the writes the removal raced with).
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    } catch (e) {
      console.error(`left ${dir}: ${(e as Error).message}`);
    }
  });
  return dir;
}

/** Runs a command and returns stdout; throws with stderr on failure. */
export function run(cmd: string, args: readonly string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
  return execFileSync(cmd, args, { input: opts.input, env: opts.env ?? process.env, cwd: opts.cwd, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * For tests that change file owners (chown) and run a step as another uid (setpriv): true when
 * running as root; otherwise skips the test with the reason (developer machine) or throws (CI).
 */
export function needRoot(t: TestContext, why: string): boolean {
  if (isRoot) return true;
  const reason = `needs root to ${why}`;
  if (inCI) throw new Error(`${reason}; CI=true runs as root`);
  t.skip(reason);
  return false;
}
