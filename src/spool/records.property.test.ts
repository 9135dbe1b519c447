// Property test of the record decoder's Buffer path (RecordBatch arena, [B2] #20 item 5): random
// EBCDIC spools in every framing (FB80, NL X'15', LF X'25' text, VB with RDWs) with continuations,
// trailing blanks, NullTrnc and control characters, cut into random chunks, against a model that
// frames the whole file at once and translates with glibc iconv (the oracle of docs/codepages.md).
// The batch parser is checked too: fed the decoder's batches or the same records as RecordItems
// one at a time, it gives the same messages byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { getCodePage } from '../codepage/index.js';
import { RecordDecoder, type FramingFormat, type RecordItem } from './records.js';
import { BatchParser, type BatchEvent } from './batch.js';
import { baseOptions } from './batch-testutil.js';
import { FakeClock } from '../testing/clock.js';
import { prng } from '../testing/prng.js';

const cp = getCodePage('IBM-1047')!;
const enc = (s: string): Buffer => cp.encode(s, { newline: 'strict' });
const BLANK = 0x40;
const LT = enc('<')[0]!;
const NL = 0x15;
const LF = 0x25;
// Bytes a record is made of: text, blanks, '.', '<', Latin-1 letters, and a few controls.
const ALPHABET = [...enc('abcXYZ019 .<@:-'), ...enc('äöüßé'), BLANK, BLANK, BLANK];
const CONTROLS = [0x07, 0x3f, 0x00];

/** glibc iconv IBM-1047 → ISO-8859-1 (the page's asciiCharset), or the generated table without iconv. */
function oracle(bytes: Buffer): string {
  const r = spawnSync('iconv', ['-f', 'IBM1047', '-t', 'ISO-8859-1'], { input: bytes });
  if (r.status === 0) return r.stdout.toString('latin1');
  return Buffer.from(bytes.map((b) => cp.toAscii![b]!)).toString('latin1');
}

interface Case { format: FramingFormat; nullTrnc: boolean; input: Buffer; want: { kind: 'record' | 'error'; raw: Buffer; recordNo: number }[] }

/** Random physical records, the file in `format`, and the logical records the rules give. */
function makeCase(rnd: () => number, format: FramingFormat): Case {
  const nullTrnc = rnd() < 0.3;
  const phys: Buffer[] = [];
  const count = 1 + Math.floor(rnd() * 40);
  for (let k = 0; k < count; k++) {
    const len = format === 'fixed' ? 80 : rnd() < 0.3 ? 80 : Math.floor(rnd() * 100);
    const b = Buffer.alloc(len);
    for (let i = 0; i < len; i++) b[i] = ALPHABET[Math.floor(rnd() * ALPHABET.length)]!;
    if (len > 0 && rnd() < 0.05) b[Math.floor(rnd() * len)] = CONTROLS[Math.floor(rnd() * CONTROLS.length)]!;
    if (len > 0 && rnd() < 0.3) b.fill(BLANK, Math.floor(rnd() * len)); // trailing blanks
    if (nullTrnc && len > 0 && rnd() < 0.2) b.fill(0, Math.floor(rnd() * len)); // trailing X'00'
    if (len === 80 && rnd() < 0.3) b[79] = LT; // continued
    phys.push(b);
  }
  // The file.
  const parts: Buffer[] = [];
  for (const b of phys) {
    if (format === 'fixed') parts.push(b);
    else if (format === 'variable') parts.push(Buffer.from([(b.length + 4) >> 8, (b.length + 4) & 0xff, 0, 0]), b);
    else parts.push(b, Buffer.from([format === 'nl' ? NL : LF]));
  }
  // The model: the whole file at once.
  const want: Case['want'] = [];
  let log: Buffer[] = [];
  let first = 0;
  phys.forEach((b, k) => {
    if (log.length === 0) first = k + 1;
    if (b.length === 80 && b[79] === LT) {
      log.push(b.subarray(0, 79));
      if (k < phys.length - 1) return;
    } else {
      let n = b.length;
      while (n > 0 && (b[n - 1] === BLANK || (nullTrnc && b[n - 1] === 0))) n--;
      log.push(b.subarray(0, n));
    }
    const raw = Buffer.concat(log);
    log = [];
    const control = raw.some((x) => x < 0x40 && x !== 0x05) || raw.includes(0xff);
    want.push({ kind: control ? 'error' : 'record', raw, recordNo: first });
  });
  return { format, nullTrnc, input: Buffer.concat(parts), want };
}

/** Small random chunks, or (`large`) chunks of up to 4 KB: long runs of whole FB records. */
function cutInto(rnd: () => number, input: Buffer, large = false): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.length;) {
    const n = 1 + Math.floor(rnd() * (large ? 4096 : rnd() < 0.5 ? 7 : 300));
    chunks.push(input.subarray(i, i + n));
    i += n;
  }
  return chunks;
}

test('the decoder\'s batches equal a whole-file model translated by iconv (FB80, NL, LF text, VB; random chunks)', () => {
  const rnd = prng(0x5b2);
  const formats: FramingFormat[] = ['fixed', 'nl', 'text', 'variable'];
  for (let k = 0; k < 160; k++) {
    const format = formats[k % formats.length]!;
    const c = makeCase(rnd, format);
    const dec = new RecordDecoder({ format, recordLength: 80, codepage: cp, nullTrnc: c.nullTrnc });
    const got: { kind: string; text: string; recordNo: number; arena: string }[] = [];
    const take = (b: ReturnType<RecordDecoder['pushBatch']>): void => {
      for (let i = 0; i < b.length; i++) {
        const rec = b.isRecord(i);
        // Each record is followed by CRLF in the arena: a run of records is mail text.
        const arena = rec ? b.bytes.toString('latin1', b.start(i), b.end(i) + 2) : '';
        got.push({ kind: rec ? 'record' : 'error', text: rec ? b.text(i) : '', recordNo: b.recordNo(i), arena });
      }
    };
    // FB80 runs of whole records go through WebAssembly (fixed-wasm.ts): also in big chunks.
    const large = format === 'fixed' && k % 8 === 4;
    for (const chunk of cutInto(rnd, c.input, large)) take(dec.pushBatch(chunk));
    take(dec.endBatch());
    const texts = oracle(Buffer.concat(c.want.filter((w) => w.kind === 'record').map((w) => w.raw)));
    let at = 0;
    const want = c.want.map((w) => {
      if (w.kind === 'error') return { kind: 'error', text: '', recordNo: w.recordNo, arena: '' };
      const text = texts.slice(at, at + w.raw.length);
      at += w.raw.length;
      return { kind: 'record', text, recordNo: w.recordNo, arena: `${text}\r\n` };
    });
    assert.deepEqual(got, want, `case ${k} (${format}, NullTrnc ${c.nullTrnc})`);
  }
});

test('the batch parser gives the same messages from decoder batches as from RecordItems one at a time', () => {
  const rnd = prng(0xb47c);
  const words = ['Subject: s', 'From: a@b.example', '', 'body line', '.dotted', '..two', ' folded', 'x'.repeat(79) + '<', 'RSET', 'NOOP'];
  for (let k = 0; k < 60; k++) {
    const lines = ['HELO JOB'];
    const n = 1 + Math.floor(rnd() * 5);
    for (let m = 0; m < n; m++) {
      lines.push('MAIL FROM:<job@corp.example>', 'RCPT TO:<r@remote.example>', 'DATA');
      const body = Math.floor(rnd() * 30);
      for (let l = 0; l < body; l++) lines.push(words[Math.floor(rnd() * words.length)]!);
      lines.push('.');
    }
    lines.push('QUIT');
    const input = enc(lines.map((l) => l.padEnd(80, ' ')).join(''));
    const opts = { ...baseOptions(new FakeClock(1_700_000_000_000)), msgSizeKB: rnd() < 0.3 ? 1 : 0 };
    const run = (feed: (p: BatchParser, dec: RecordDecoder) => BatchEvent[]): string[] => {
      const dec = new RecordDecoder({ format: 'fixed', recordLength: 80, codepage: cp, nullTrnc: false });
      // Generated ids differ per run: compare without the Received id and Message-ID.
      return feed(new BatchParser(opts), dec).map((e) => (e.kind === 'message'
        ? `message ${e.message.messageNo} r${e.message.firstRecordNo}-${e.message.lastRecordNo} ${e.message.data.toString('latin1').replace(/<[0-9a-z]+\.spoolgate@[^>]*>/g, '<ID>')}`
        : `${e.kind} ${e.problem.recordNo} ${e.problem.text}`));
    };
    const batched = run((p, dec) => {
      const out: BatchEvent[] = [];
      for (const chunk of cutInto(rnd, input)) out.push(...p.push(dec.pushBatch(chunk)));
      return [...out, ...p.push(dec.endBatch()), ...p.end()];
    });
    const single = run((p, dec) => {
      const items: RecordItem[] = [...dec.push(input), ...dec.end()];
      return [...items.flatMap((it) => p.push([it])), ...p.end()];
    });
    assert.deepEqual(batched, single, `case ${k}`);
    assert.ok(batched.some((e) => e.startsWith('message ')) || opts.msgSizeKB > 0, `case ${k} has messages`);
  }
});
