// The measured part of benchmark 5 (bench/parsing.ts), run in its own process on the compiled
// build (bench/out/dist, or BENCH_DIST): stream a spool file through RecordDecoder + BatchParser
// (no delivery) and print bytes, messages, problems, seconds, peak RSS and CPU seconds as JSON.
// Usage: node bench/parse-child.mjs <dist dir> <file>
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, path] = process.argv.slice(2);
const mod = (p) => import(pathToFileURL(join(dist, p)).href);
const { getCodePage } = await mod('codepage/index.js');
const { RecordDecoder } = await mod('spool/records.js');
const { BatchParser } = await mod('spool/batch.js');
const { systemClock } = await mod('core/index.js');

const t0 = process.hrtime.bigint();
const codepage = getCodePage('IBM-1047');
const dec = new RecordDecoder({ format: 'fixed', recordLength: 80, codepage, nullTrnc: false });
const parser = new BatchParser({
  syntaxErrorLimit: 0, jobSizeKB: 0, msgSizeKB: 0, atSign: '@', maxRecipients: 2000, header: { date: true, userInfo: true },
  instance: 'BENCH', hostName: 'gw.test', job: { jobName: 'BENCH', jobId: 'J0000001', originUser: 'bench' }, clock: systemClock, timeZone: 'UTC',
});
let messages = 0;
let problems = 0;
let bytes = 0;
const count = (events) => {
  for (const e of events) if (e.kind === 'message') messages++; else problems++;
};
const batched = typeof dec.pushBatch === 'function';
for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
  bytes += chunk.length;
  count(parser.push(batched ? dec.pushBatch(chunk) : dec.push(chunk)));
}
count(parser.push(batched ? dec.endBatch() : dec.end()));
count(parser.end());
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const ru = process.resourceUsage();
process.stdout.write(JSON.stringify({ bytes, messages, problems, seconds, maxRssMB: ru.maxRSS / 1024, cpuS: (ru.userCPUTime + ru.systemCPUTime) / 1e6 }));
