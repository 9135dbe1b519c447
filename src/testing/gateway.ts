// Helpers for end-to-end tests: a configuration file in a temp dir, a running gateway, spool
// submission of generated batch-SMTP files, and waiting for a condition with a bound.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseConfig, type Config } from '../config/index.js';
import { Logger } from '../log/index.js';
import { startGateway, type Gateway } from '../main.js';
import { submitToSpool } from '../spool/submit.js';
import { dotStuff } from '../smtp/protocol/dot-stuff.js';
import type { FakeSmtpServer } from './fake-smtp-server.js';
import { main } from '../cli/index.js';
import { captureIo } from './cli.js';
import { storeStatement } from './backend.js';

/**
 * The test's configuration file in `dir`. With SPOOLGATE_TEST_BACKEND=postgresql it also has a
 * Store statement on a migrated schema of the test database (testing/backend.ts), unless `body`
 * has its own.
 */
export function writeConfig(dir: string, body: string): { path: string; config: Config } {
  const path = join(dir, 'spoolgate.conf');
  const store = /^\s*Store\b/m.test(body) ? '' : storeStatement(dir);
  const text = `Instance TEST\nExtWrtName TESTW\nStateDirectory ${join(dir, 'state')}\nSpool { Directory ${join(dir, 'spool')} RecordFormat Text RescanInterval 1 }\nTranslate ISO8859-1\nHostName gw.test\n${body}\n${store === '' ? '' : `${store}\n`}`;
  writeFileSync(path, text);
  const r = parseConfig(text, path);
  if (!r.ok) throw new Error(r.error.map((e) => e.message).join('\n'));
  return { path, config: r.value.config };
}

export async function runGateway(config: Config, opts: { cold?: boolean } = {}): Promise<Gateway> {
  const gw = await startGateway(config, { log: process.env.GW_LOG ? undefined : Logger.silent(), cold: opts.cold });
  await gw.forwarder.start();
  return gw;
}

/** A batch-SMTP file with n messages; message bodies carry `tag` so tests can find them. */
export function batchFile(tag: string, n: number, recipients: readonly string[] = ['rcpt@remote.test']): { text: string; bodies: string[] } {
  let text = 'HELO JOBHOST\r\n';
  const bodies: string[] = [];
  for (let i = 1; i <= n; i++) {
    const body = `From: job@corp.test\r\nTo: ${recipients.join(', ')}\r\nSubject: ${tag} message ${i}\r\nDate: Sun, 22 Nov 2026 12:00:00 +0000\r\nMessage-ID: <${tag}.${i}@corp.test>\r\n\r\nLine one of ${tag}/${i}\r\n.a line that starts with a dot\r\n\r\nÄ 8-bit line\r\n`;
    bodies.push(body);
    text += ['MAIL FROM:<job@corp.test>', ...recipients.map((r) => `RCPT TO:<${r}>`), 'DATA'].join('\r\n') + '\r\n';
    text += dotStuff(Buffer.from(body, 'latin1')).toString('latin1');
  }
  return { text: text + 'QUIT\r\n', bodies };
}

export async function submitText(config: Config, text: string, jobName = 'TESTJOB'): Promise<string> {
  const e = await submitToSpool({ root: config.spool.directory, writer: config.extWrtName, data: Buffer.from(text, 'latin1'), attrs: { jobName, recordFormat: 'text', encoding: 'ISO8859-1' } });
  return e.id;
}

/**
 * The spool files the gateway has taken in and not finished, by job name, through its interfaces
 * on either backend: the writer's incoming/ (with SQLite a file stays there while it is read; on
 * a cluster only while it arrives), and on a cluster the shared queue's entries of the writer
 * (stored, claimed or not: cluster.ts queuePort). A file between the arrival's commit and its
 * unlink is named twice for that moment.
 */
export async function unfinishedFiles(gw: Gateway): Promise<string[]> {
  const local = (await gw.queue.list()).map((e) => e.attrs.jobName);
  const stored = gw.cluster === undefined ? [] : (await gw.cluster.queuePort.entries(10_000)).map((r) => String(r.attributes.jobName ?? ''));
  return [...local, ...stored];
}

/**
 * Job names of the spool files the gateway has taken in since this call, on either backend:
 * handed to the forwarder (SQLite: it starts them unless suspended) or stored in the shared queue
 * (a cluster: any node not suspended claims them). Resolves the question "was it seen?" without
 * sleeping through rescans.
 */
export function takenIn(gw: Gateway): () => Promise<string[]> {
  const handed: string[] = [];
  const enqueue = gw.forwarder.enqueue.bind(gw.forwarder);
  gw.forwarder.enqueue = (e) => { enqueue(e); handed.push(e.attrs.jobName); };
  return async () => [...handed, ...(gw.cluster === undefined ? [] : (await gw.cluster.queuePort.entries(10_000)).map((r) => String(r.attributes.jobName ?? '')))];
}

/** What became of a job's spool file (disposedJob). */
export interface JobOutcome {
  /** The SPOOL accounting record's disposition: finished or held. */
  readonly disposition: string;
  /** Whether the gateway's held files list it (by job name). */
  readonly held: boolean;
  /** Its reports of problems, joined ('' when none was written). */
  readonly report: string;
}

/**
 * Waits until the gateway is done with job `jobName`'s spool file, then tells through the
 * gateway's interfaces — the SPOOL accounting record written when the file is finished or held
 * (the configuration needs `SMF119 { SPOOL YES }`), the held files (Gateway.held) and their reports
 * — whether it was held and what its report says. On both backends: a file leaving incoming/ is
 * not its end on PostgreSQL (it leaves when it is stored), and held/ and sysout/ are not where a
 * cluster keeps them.
 */
export async function disposedJob(gw: Gateway, jobName: string, maxMs = 30_000, entryId?: string): Promise<JobOutcome> {
  let rec: Record<string, unknown> | undefined;
  // `entryId`: that spool file's record only — the entries a file makes (a print report's section
  // mails) carry its job name too, and theirs may be written first.
  await until(`job ${jobName}'s spool file finished or held`, async () => {
    for await (const r of gw.accounting.sink.read({ job: jobName, types: ['SPOOL'] })) if (entryId === undefined || r.spoolId === entryId) rec = { ...r };
    return rec !== undefined;
  }, maxMs);
  const spoolId = String(rec!.spoolId);
  const jobId = String(rec!.jobId);
  const held = (await gw.held.list()).some((h) => h.jobName === jobName);
  return { disposition: String(rec!.disposition), held, report: (await gw.held.reportOf({ id: spoolId, jobId })) ?? '' };
}

export async function until(what: string, cond: () => boolean | Promise<boolean>, maxMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > maxMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The message without the Received header(s) the gateway prepended. */
export function withoutTrace(data: Buffer): string {
  const lines = data.toString('latin1').split('\r\n');
  let i = 0;
  while (i < lines.length && /^Received:/i.test(lines[i]!)) {
    i++;
    while (i < lines.length && /^[ \t]/.test(lines[i]!)) i++;
  }
  return lines.slice(i).join('\r\n');
}

/** How often each batchFile() message ("<tag> message <n>") reached the server; '?' = unrecognised. */
export function subjects(server: FakeSmtpServer): Map<string, number> {
  const seen = new Map<string, number>();
  for (const m of server.messages) {
    const s = /Subject: (\S+ message \d+)/.exec(m.data.toString('latin1'))?.[1] ?? '?';
    seen.set(s, (seen.get(s) ?? 0) + 1);
  }
  return seen;
}

const ROOT = resolve(import.meta.dirname, '../..');

export interface ProgramResult { readonly code: number; readonly stdout: string; readonly stderr: string }

/** Runs a program from the repository root without blocking the event loop; code 99 = no exit code (killed). */
export function execProgram(file: string, args: readonly string[]): Promise<ProgramResult> {
  return new Promise((done) => {
    execFile(file, args, { cwd: ROOT, timeout: 60_000 }, (e, stdout, stderr) => {
      done({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : 99, stdout, stderr });
    });
  });
}

/**
 * `spoolgate <args>` through the real command table, in-process (cli/index.ts main(argv, io)):
 * what an operator's command prints and its exit code, without a child process per call.
 */
export async function spoolgateCli(...args: string[]): Promise<ProgramResult> {
  const io = captureIo();
  const code = await main(args, io);
  return { code, stdout: io.out(), stderr: io.err() };
}
