// Benchmark 5 — spool parsing (issue B1): a 1 GB (× BENCH_SCALE) EBCDIC IBM-1047 FB80 batch-SMTP
// file read in 1 MB chunks of one reused buffer (readChunks, as the forwarder reads) through
// RecordDecoder + BatchParser (no delivery), in a child process so its peak RSS is
// the parser's own; compared with `iconv -f IBM1047 -t UTF-8` over the same file (byte
// translation only: no records, no SMTP). The child runs compiled (bench/lib.ts compiledScript:
// this file bundled by esbuild against bench/out/dist, no tsx). The file is generated once; then
// spoolgate and iconv alternate, 3 rounds (BENCH_RUNS), each figure their median with min and max;
// spoolgate's child once more under --cpu-prof. Writes bench/out/parsing.json.
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { getCodePage } from '../src/codepage/index.js';
import { RecordDecoder, readChunks } from '../src/spool/records.js';
import { BatchParser } from '../src/spool/batch.js';
import { systemClock } from '../src/core/index.js';
import { COMPILED, RUNS, SCALE, alternate, compiledScript, nodeArgsFor, printSeries, profileDir, ratio, runTimed, writeResult, type Run, type Series } from './lib.js';

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
  // One reused 1 MB read buffer (readChunks), as the forwarder reads spool files.
  const fh = await open(path);
  for await (const buf of readChunks(fh, 1 << 20)) {
    bytes += buf.length;
    // The batch path is the one spool tasks use (records as one Buffer, strings only for commands and headers).
    count(parser.push(dec.pushBatch(buf)));
  }
  await fh.close();
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
    const script = await compiledScript(import.meta.filename);
    let info = { messages: 0, problems: 0 };
    const runs = await alternate<Run>([
      {
        key: 'spoolgate', run: async (round, profile) => {
          const r = JSON.parse((await child([...nodeArgsFor(profile), ...script, 'parse', file])).out) as { bytes: number; messages: number; problems: number; seconds: number; maxRssMB: number; cpuS: number };
          if (r.bytes !== statSync(file).size) throw new Error('short read');
          info = { messages: r.messages, problems: r.problems };
          return { round, seconds: r.seconds, count: mb, usage: { spoolgate: { maxRssMB: r.maxRssMB, cpuUserS: r.cpuS, cpuSysS: 0 } }, extra: { messages: r.messages } };
        },
      },
      {
        key: 'iconv', run: async (round) => {
          const ic = await runTimed('/bin/sh', ['-c', `iconv -f IBM1047 -t UTF-8 ${file} > /dev/null`]);
          return { round, seconds: ic.seconds, count: mb, usage: { iconv: ic.usage } };
        },
      },
    ], { profiled: 'spoolgate', profileName: 'parsing' });
    const series: Series[] = [
      { key: 'spoolgate', name: 'spoolgate RecordDecoder + BatchParser', system: 'spoolgate', unit: 'MB', runs: (runs.get('spoolgate') ?? []).map((r) => r.value), note: script.includes('tsx') ? 'under tsx (no compiled build)' : 'compiled (bench/out/dist), no tsx' },
      { key: 'iconv', name: 'iconv -f IBM1047 -t UTF-8', system: 'iconv', unit: 'MB', runs: (runs.get('iconv') ?? []).map((r) => r.value) },
    ];
    const r = ratio(series[0], series[1]);
    console.log(`\nSpool parsing: ${mb.toFixed(0)} MB EBCDIC FB80, ${info.messages} messages, ${info.problems} problems; ${RUNS} alternating runs, median (min–max)`);
    printSeries(series);
    console.log(`spoolgate/iconv = ${r === undefined ? 'n/a' : `${r.median.toFixed(3)} (${r.min.toFixed(3)}–${r.max.toFixed(3)})`}`);
    writeResult('parsing', { scale: SCALE, compiled: COMPILED && !script.includes('tsx'), runsPerFigure: RUNS, sizeMB: mb, messages: info.messages, problems: info.problems, series, ratio: r, profile: profileDir('parsing') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'parse') await parse(process.argv[3]!);
else await main();
