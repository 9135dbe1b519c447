// Benchmark 7 — print report → PDF (issue X1 item 1, the 1 GB-class case): a generated 1 GB
// (× BENCH_SCALE) 132-column report with form feeds through `spoolgate pdfmail --output` (the
// compiled CLI, streaming, no mail), pages per second, peak RSS and CPU; compared with the
// classic Unix pipeline `enscript | ps2pdf` (GNU enscript + Ghostscript) on the first
// PEER_MB of the same report (the peer is far slower; both are linear in pages, so pages per
// second compare). pdfinfo (poppler) counts the pages of both outputs. Writes bench/out/pdf.json.
// Sizes: 1 GB (~134,000 pages) takes spoolgate a quarter of an hour or more per run on this
// 2-core machine, too long for 3 alternating runs inside `npm run bench`; pages/s is linear in
// pages (streaming), so the runs use BENCH_PDF_MB (default 64) MB for spoolgate and an eighth of it
// for the pipeline (× BENCH_SCALE). BENCH_PDF_MB=1024 measures the full 1 GB case.
import { createWriteStream, existsSync, mkdtempSync, openSync, readSync, closeSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { COMPILED, RUNS, SCALE, alternate, printSeries, ratio, runSpoolgate, runTimed, writeResult, type Run, type Series, type Usage } from './lib.js';

const PDF_MB = Number(process.env.BENCH_PDF_MB ?? '64');
const SIZE = Math.round(PDF_MB * 2 ** 20 * SCALE);
const PEER_SIZE = Math.round((PDF_MB / 8) * 2 ** 20 * SCALE);
const LINES_PER_PAGE = 60;
const WIDTH = 132;

/** One page: a report header, 57 detail lines of 132 columns, a footer, then a form feed. */
function page(n: number): string {
  const lines: string[] = [`ACME CORP  DAILY SETTLEMENT REPORT${' '.repeat(70)}PAGE ${String(n).padStart(8)}`.padEnd(WIDTH).slice(0, WIDTH)];
  for (let l = 1; l < LINES_PER_PAGE - 1; l++) {
    const acct = String((n * 97 + l * 13) % 99_999_991).padStart(10, '0');
    lines.push(`${acct}  CUSTOMER ${String(l).padStart(3, '0')} SETTLEMENT ITEM  ${String((n * l) % 1_000_000).padStart(12)}.00  EUR  ${'REF'.padEnd(20, '.')} ${'OK'.padEnd(40)}`.padEnd(WIDTH).slice(0, WIDTH));
  }
  lines.push(`END OF PAGE ${n}`.padEnd(WIDTH).slice(0, WIDTH));
  return lines.join('\n') + '\n\f';
}

async function generate(path: string): Promise<number> {
  const out = createWriteStream(path);
  let written = 0;
  let pages = 0;
  while (written < SIZE) {
    let chunk = '';
    for (let i = 0; i < 64; i++) chunk += page(++pages);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    written += Buffer.byteLength(chunk);
  }
  await new Promise<void>((r) => out.end(() => r()));
  return pages;
}

/** The first `bytes` of the report, cut at a page boundary. */
function slice(from: string, to: string, bytes: number): void {
  const fd = openSync(from, 'r');
  const buf = Buffer.alloc(bytes);
  const n = readSync(fd, buf, 0, bytes, 0);
  closeSync(fd);
  const end = buf.lastIndexOf(0x0c, n - 1);
  writeFileSync(to, buf.subarray(0, end + 1));
}

function pdfPages(file: string): number {
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  return Number(/^Pages:\s+(\d+)/m.exec(info)?.[1] ?? NaN);
}

async function peer(input: string, output: string): Promise<{ seconds: number; usage: Usage }> {
  // -B no enscript header, -r -f Courier8: 132 columns fit A4 landscape unwrapped (as
  // spoolgate lays a 132-column report out), -L 60 lines per page (the form feeds also break
  // pages), -M A4; ps2pdf is Ghostscript's pdfwrite. GNU time: CPU of the whole pipeline, peak
  // RSS of its largest process.
  return runTimed('/bin/sh', ['-c', `enscript -q -B -r -M A4 -f Courier8 -L ${LINES_PER_PAGE} -p - "$0" | ps2pdf - "$1"`, input, output]);
}

async function main(): Promise<void> {
  for (const bin of ['/usr/bin/enscript', '/usr/bin/ps2pdf', '/usr/bin/pdfinfo']) {
    if (!existsSync(bin)) throw new Error(`${bin} missing: apt-get install enscript ghostscript poppler-utils (BENCH_INSTALL=1 npm run bench)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-bench-pdf-'));
  try {
    const report = join(dir, 'report.txt');
    const pages = await generate(report);
    const mb = statSync(report).size / 2 ** 20;
    const part = join(dir, 'part.txt');
    slice(report, part, Math.min(PEER_SIZE, statSync(report).size));
    const partMB = statSync(part).size / 2 ** 20;
    const sizes = { spoolgate: { inputMB: mb, pdfMB: 0 }, peer: { inputMB: partMB, pdfMB: 0 } };
    const runs = await alternate<Run>([
      {
        key: 'spoolgate', run: async (round) => {
          const out = join(dir, 'report.pdf');
          const sg = await runSpoolgate(['pdfmail', '--output', out, '--lines', String(LINES_PER_PAGE + 6), report], 'pdf');
          if (sg.code !== 0) throw new Error(`spoolgate pdfmail exited ${sg.code}: ${sg.stderr}`);
          const sgPages = pdfPages(out);
          if (sgPages !== pages) console.error(`page count differs: generated ${pages}, spoolgate's PDF has ${sgPages}`);
          sizes.spoolgate.pdfMB = statSync(out).size / 2 ** 20;
          rmSync(out);
          return { round, seconds: (sg.endedAt - sg.startedAt) / 1000, count: sgPages, usage: { spoolgate: sg.usage } };
        },
      },
      {
        key: 'peer', run: async (round) => {
          const peerOut = join(dir, 'peer.pdf');
          const pr = await peer(part, peerOut);
          const n = pdfPages(peerOut);
          sizes.peer.pdfMB = statSync(peerOut).size / 2 ** 20;
          rmSync(peerOut);
          return { round, seconds: pr.seconds, count: n, usage: { 'enscript|ps2pdf': pr.usage } };
        },
      },
    ]);
    const series: Series[] = [
      { key: 'spoolgate', name: 'spoolgate pdfmail --output', system: 'spoolgate', unit: 'page', runs: (runs.get('spoolgate') ?? []).map((r) => r.value), note: `${mb.toFixed(0)} MB input, PDF ${sizes.spoolgate.pdfMB.toFixed(1)} MB` },
      { key: 'peer', name: 'enscript | ps2pdf', system: 'enscript|ps2pdf', unit: 'page', runs: (runs.get('peer') ?? []).map((r) => r.value), note: `first ${partMB.toFixed(1)} MB of the same report, PDF ${sizes.peer.pdfMB.toFixed(1)} MB` },
    ];
    const r = ratio(series[0], series[1]);
    console.log(`\nReport → PDF: ${mb.toFixed(0)} MB, ${pages} pages generated (132 columns, ${LINES_PER_PAGE} lines, form feeds); ${RUNS} alternating runs, median (min–max)`);
    printSeries(series);
    console.log(`spoolgate/enscript|ps2pdf pages per second = ${r === undefined ? 'n/a' : `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`}`);
    writeResult('pdf', { scale: SCALE, compiled: COMPILED, runsPerFigure: RUNS, sizeMB: mb, peerMB: partMB, pagesGenerated: pages, series, ratio: r });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
