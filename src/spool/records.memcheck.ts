// Memory check for the record decoder (run by records.test.ts in a child process; not a test).
// Decodes an FB80 EBCDIC stream of the given size (MB, default 256) generated on the fly — no
// file — and prints one JSON line: bytes, records, errors, heap growth (MB, measured after a
// forced GC when --expose-gc is given) and peak RSS.
// Usage: node --expose-gc --import tsx src/spool/records.memcheck.ts [MB]
import { Readable } from 'node:stream';
import { getCodePage } from '../codepage/index.js';
import { readRecords } from './records.js';

const mb = Number(process.argv[2] ?? '256');
const page = getCodePage('IBM-1047');
if (page === undefined) throw new Error('IBM-1047 missing');
const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => undefined);

// One 64 KiB-ish chunk of 80-byte records, with '<' continuations, reused for every chunk.
const lines: string[] = [];
for (let i = 0; i < 819; i++) {
  if (i % 10 === 9) lines.push(`${'c'.repeat(79)}<`);
  else lines.push(`RCPT TO:<user${i}@example.com>`.padEnd(80, ' '));
}
const block = page.encode(lines.join(''), { newline: 'strict' });
const chunks = Math.ceil((mb * 1024 * 1024) / block.length);

function* generate(): Generator<Buffer> {
  for (let i = 0; i < chunks; i++) yield Buffer.from(block); // a fresh chunk, as a file stream gives
}

gc();
const base = process.memoryUsage().heapUsed;
let maxHeap = 0;
let peakRss = 0;
let records = 0;
let errors = 0;
let n = 0;
for await (const batch of readRecords(Readable.from(generate(), { objectMode: true }), {
  format: 'fixed', recordLength: 80, codepage: page, nullTrnc: false,
})) {
  for (const item of batch) {
    if (item.kind === 'record') records++;
    else errors++;
  }
  if (++n % 256 === 0) {
    gc();
    const m = process.memoryUsage();
    maxHeap = Math.max(maxHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }
}
gc();
maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
const heapGrowthMB = Math.round(((maxHeap - base) / 1024 / 1024) * 10) / 10;
console.log(JSON.stringify({ bytes: chunks * block.length, records, errors, heapGrowthMB, rssMB: Math.round(peakRss / 1024 / 1024) }));
