// Benchmark 5 — spool parsing (issue B1): a 1 GB (× BENCH_SCALE) EBCDIC IBM-1047 FB80 batch-SMTP
// file through RecordDecoder + BatchParser (no delivery), in a child process so its peak RSS is
// the parser's own (bench/parse-child.mjs on the compiled build; tsx only without one); compared with `iconv -f IBM1047 -t UTF-8` over the same file (byte
// translation only: no records, no SMTP). Writes bench/out/parsing.json.
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { getCodePage } from '../src/codepage/index.js';
import { RecordDecoder } from '../src/spool/records.js';
import { BatchParser } from '../src/spool/batch.js';
import { systemClock } from '../src/core/index.js';
import { SCALE, writeResult } from './lib.js';

const SIZE = Math.round(1024 ** 3 * SCALE);

function codepage(): NonNullable<ReturnType<typeof getCodePage>> {
  const cp = getCodePage('IBM-1047');
  if (cp === undefined) throw new Error('IBM-1047 missing');
  return cp;
}

/** One block of 100 messages (~3.5 KB each) as 80-byte EBCDIC card images. */
function block(): Buffer {
  const cards: string[] = ['HELO BENCHJOB'];
  for (let i = 1; i <= 100; i++) {
    cards.push('MAIL FROM:<job@corp.test>', 'RCPT TO:<rcpt@remote.test>', 'DATA', 'From: job@corp.test', 'To: rcpt@remote.test', `Subject: parse bench ${i}`, '');
    for (let l = 0; l < 40; l++) cards.push(`Line ${l} of message ${i}: the quick brown fox jumps over the lazy dog 0123`);
    cards.push('.');
  }
  // No QUIT: text after QUIT is not processed, and the blocks are repeated to fill the file.
  return codepage().encode(cards.map((c) => c.padEnd(80, ' ').slice(0, 80)).join(''));
}

async function generate(path: string): Promise<number> {
  const b = block();
  const out = createWriteStream(path);
  let written = 0;
  while (written + b.length <= SIZE || written === 0) {
    if (!out.write(b)) await new Promise<void>((r) => out.once('drain', () => r()));
    written += b.length;
  }
  await new Promise<void>((r) => out.end(() => r()));
  return written;
}

/** The measured part, run in a child: stream the file through the decoder and the parser. */
async function parse(path: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  const dec = new RecordDecoder({ format: 'fixed', recordLength: 80, codepage: codepage(), nullTrnc: false });
  const parser = new BatchParser({
    syntaxErrorLimit: 0, jobSizeKB: 0, msgSizeKB: 0, atSign: '@', maxRecipients: 2000, header: { date: true, userInfo: true },
    instance: 'BENCH', hostName: 'gw.test', job: { jobName: 'BENCH', jobId: 'J0000001', originUser: 'bench' }, clock: systemClock, timeZone: 'UTC',
  });
  let messages = 0;
  let problems = 0;
  let bytes = 0;
  const count = (events: ReturnType<BatchParser['push']>): void => {
    for (const e of events) if (e.kind === 'message') messages++; else problems++;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    bytes += buf.length;
    count(parser.push(dec.pushBatch(buf)));
  }
  count(parser.push(dec.endBatch()));
  count(parser.end());
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const ru = process.resourceUsage();
  process.stdout.write(JSON.stringify({ bytes, messages, problems, seconds, maxRssMB: ru.maxRSS / 1024, cpuS: (ru.userCPUTime + ru.systemCPUTime) / 1e6 }));
}

function child(args: readonly string[], cmd = process.execPath): Promise<{ out: string; seconds: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { if (cmd === process.execPath) out += d.toString(); });
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve({ out, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }) : reject(new Error(`${cmd} exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-bench-parse-'));
  try {
    const file = join(dir, 'fb80.ebcdic');
    const size = await generate(file);
    const mb = size / 2 ** 20;
    // Warm the page cache for both contenders alike.
    await child(['-c', `cat ${file} > /dev/null`], '/bin/sh');
    // The compiled build (run-all.mjs builds it), as the goal asks; tsx only when it is missing.
    const dist = process.env.BENCH_DIST ?? join(import.meta.dirname, 'out', 'dist');
    const args = existsSync(join(dist, 'spool', 'records.js'))
      ? [join(import.meta.dirname, 'parse-child.mjs'), dist, file]
      : ['--import', 'tsx', import.meta.filename, 'parse', file];
    const r = JSON.parse((await child(args)).out) as { bytes: number; messages: number; problems: number; seconds: number; maxRssMB: number; cpuS: number };
    if (r.bytes !== statSync(file).size) throw new Error('short read');
    const ic = await child(['-c', `iconv -f IBM1047 -t UTF-8 ${file} > /dev/null`], '/bin/sh');
    const rows = [
      { name: 'spoolgate RecordDecoder + BatchParser', seconds: r.seconds, mbPerSec: mb / r.seconds, maxRssMB: r.maxRssMB, messages: r.messages },
      { name: 'iconv -f IBM1047 -t UTF-8', seconds: ic.seconds, mbPerSec: mb / ic.seconds },
    ];
    console.log(`\nSpool parsing: ${mb.toFixed(0)} MB EBCDIC FB80, ${r.messages} messages, ${r.problems} problems`);
    console.table(rows.map((x) => ({ run: x.name, seconds: x.seconds.toFixed(2), 'MB/s': x.mbPerSec.toFixed(1), 'peak RSS MB': x.maxRssMB?.toFixed(0) ?? '' })));
    console.log(`spoolgate/iconv = ${(rows[0]!.mbPerSec / rows[1]!.mbPerSec).toFixed(3)}`);
    writeResult('parsing', { sizeMB: mb, messages: r.messages, problems: r.problems, rows });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'parse') await parse(process.argv[3]!);
else await main();
