// DKIM signing cost per message (X1 item 4): time to sign messages of several sizes with
// RSA-2048 and Ed25519, and the memory the signing adds (the message is read in place).
// Run: npx tsx bench/dkim.ts   (numbers go into docs/dkim.md by hand: this is a one-off note,
// not part of `npm run bench`).
import { generateKeyPairSync } from 'node:crypto';
import { loadDkimKeys, signMessage } from '../src/dkim/index.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const r = loadDkimKeys([
  { domain: 'rsa.example', selector: 's1', keyFile: 'rsa', headers: null, algorithm: 'rsa-sha256', line: 1 },
  { domain: 'ed.example', selector: 's1', keyFile: 'ed', headers: null, algorithm: 'ed25519-sha256', line: 2 },
], 'bench.conf', (p) => ({ bytes: Buffer.from(p === 'rsa' ? rsa : ed), mode: 0o100600 }));
if (!r.ok) throw new Error(r.error.join('\n'));
const ring = r.value.keyring;

function message(domain: string, size: number, kind: 'report' | 'base64' = 'report'): Buffer {
  const head = `Received: from job by gw.example; Fri, 27 Nov 2026 10:00:00 +0000\r\nFrom: Job <job@${domain}>\r\nTo: a@b.example\r\nSubject: report\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <x@${domain}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n`;
  // Print-report-like text: words, runs of blanks, 80-column lines.
  // or an attachment's base64 lines (76 characters, the bulk of large mail).
  const line = kind === 'report' ? 'INVOICE 000123   CUSTOMER  ACME CORP      AMOUNT      1234.56   DUE 2026-12-31  \r\n'
    : 'TWFuIGlzIGRpc3Rpbmd1aXNoZWQsIG5vdCBvbmx5IGJ5IGhpcyByZWFzb24sIGJ1dCBieSB0aGlz\r\n';
  const body = line.repeat(Math.max(1, Math.ceil((size - head.length) / line.length)));
  return Buffer.from(head + body, 'latin1');
}

console.log('| message | body | algorithm | ms per message | MB/s |');
console.log('|---|---|---|---|---|');
for (const size of [2 * 1024, 100 * 1024, 1024 * 1024, 10 * 1024 * 1024]) {
  for (const [domain, kind] of [['rsa.example', 'report'], ['ed.example', 'report'], ['rsa.example', 'base64']] as const) {
    const m = message(domain, size, kind);
    const n = Math.max(3, Math.min(500, Math.floor(50e6 / size)));
    signMessage(m, ring, new Date()); // warm up
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) signMessage(m, ring, new Date());
    const ms = Number(process.hrtime.bigint() - t0) / 1e6 / n;
    const label = size >= 1024 * 1024 ? `${size / 1024 / 1024} MiB` : `${size / 1024} KiB`;
    console.log(`| ${label} | ${kind} | ${domain.startsWith('rsa') ? 'rsa-sha256 (2048)' : 'ed25519-sha256'} | ${ms.toFixed(3)} | ${(m.length / 1024 / 1024 / (ms / 1000)).toFixed(0)} |`);
  }
}

// Memory: signing a 200 MiB message must not allocate another copy of it.
const big = message('rsa.example', 200 * 1024 * 1024);
global.gc?.();
const before = process.memoryUsage();
let peakExternal = 0;
const timer = setInterval(() => { peakExternal = Math.max(peakExternal, process.memoryUsage().arrayBuffers); }, 1);
const t0 = process.hrtime.bigint();
const res = signMessage(big, ring, new Date());
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
clearInterval(timer);
const after = process.memoryUsage();
console.log(`\n200 MiB message: signed=${res.kind} in ${ms.toFixed(0)} ms; arrayBuffers ${(before.arrayBuffers / 1048576).toFixed(1)} -> ${(after.arrayBuffers / 1048576).toFixed(1)} MiB, rss ${(before.rss / 1048576).toFixed(0)} -> ${(after.rss / 1048576).toFixed(0)} MiB`);
