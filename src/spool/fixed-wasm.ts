// The hot loop of the record decoder for fixed-length records of a single-byte EBCDIC page, as a
// small WebAssembly function ([B2] #20 item 5): per record, strip trailing blanks (and X'00'
// with NullTrnc), translate through the page's 256-entry table, check for control characters,
// append CR LF. A JavaScript byte loop over typed arrays costs about twice as much per byte.
//
// The module is assembled here from its opcodes (no toolchain, no binary file in the tree).
// Memory layout of one instance (one per decoder: the arena lives between pushes):
//   [0, 256)      the ASCII byte of each EBCDIC byte
//   [256, 512)    1 where the EBCDIC byte is a control character (records.ts decides which)
//   [512, ...)    the decoder's regions: record ends, the chunk's copy, the arena (FixedWasm.layout)
//
// fixed(src, end, L, dst, cols, blank, cont, contL, nul) → count
//   For each whole record of L bytes at src, src+L, … below end: stop before a record that
//   continues (L === contL and its last byte is `cont`) or holds a control character; else write
//   its stripped, translated text and CR LF at dst (onwards) and the position after the LF as an
//   i32 at cols + 4·i. Returns the number of records written. Bytes past the last recorded end
//   may have been written (the stopping record's text): the caller ignores them.

const Op = {
  Block: 0x02, Loop: 0x03, End: 0x0b, Br: 0x0c, BrIf: 0x0d,
  LocalGet: 0x20, LocalSet: 0x21, LocalTee: 0x22,
  Load8U: 0x2d, Store: 0x36, Store8: 0x3a, Const: 0x41,
  Eqz: 0x45, Eq: 0x46, GtU: 0x4b, LeU: 0x4d, GeU: 0x4f,
  Add: 0x6a, Sub: 0x6b, Mul: 0x6c, And: 0x71, Or: 0x72,
} as const;
const VOID = 0x40;
const I32 = 0x7f;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

// Parameters and locals.
const SRC = 0, END = 1, L = 2, DST = 3, COLS = 4, BLANK = 5, CONT = 6, CONTL = 7, NUL = 8;
const N = 9, K = 10, B = 11, BAD = 12, COUNT = 13;

const get = (i: number): number[] => [Op.LocalGet, i];
const set = (i: number): number[] => [Op.LocalSet, i];
const load8 = (offset: number): number[] => [Op.Load8U, 0, ...uleb(offset)];
const store8 = (offset: number): number[] => [Op.Store8, 0, ...uleb(offset)];
const konst = (n: number): number[] => [Op.Const, ...sleb(n)];
const inc = (i: number, by: number): number[] => [...get(i), ...konst(by), Op.Add, ...set(i)];
/** block { loop { body } }: `br 1` leaves, `br 0` repeats. */
const loop = (...body: number[][]): number[] => [Op.Block, VOID, Op.Loop, VOID, ...body.flat(), Op.End, Op.End];

/** One byte of the translation: dst[k'] = table[src[k]], bad |= control[src[k]]. */
const translateByte = (at: number): number[] => [
  ...get(DST), ...get(K), ...load8(at), Op.LocalTee, B, ...load8(0), ...store8(at),
  ...get(BAD), ...get(B), ...load8(256), Op.Or, ...set(BAD),
];

const body: number[] = [
  ...loop(
    // Leave when the next record is not whole: src + L > end.
    get(SRC), get(L), [Op.Add], get(END), [Op.GtU, Op.BrIf, 1],
    get(SRC), get(L), [Op.Add], set(N),
    // A continued record goes to the JavaScript path.
    get(L), get(CONTL), [Op.Eq], get(N), konst(1), [Op.Sub], load8(0), get(CONT), [Op.Eq, Op.And, Op.BrIf, 1],
    // Strip trailing blanks (and X'00' with nul).
    loop(
      get(N), get(SRC), [Op.LeU, Op.BrIf, 1],
      get(N), konst(1), [Op.Sub], load8(0), [Op.LocalTee, B], get(BLANK), [Op.Eq],
      get(NUL), get(B), [Op.Eqz, Op.And, Op.Or, Op.Eqz, Op.BrIf, 1],
      inc(N, -1), [Op.Br, 0],
    ),
    konst(0), set(BAD), get(SRC), set(K),
    // Four bytes a step, then the rest one by one; DST advances with K.
    loop(
      get(K), konst(4), [Op.Add], get(N), [Op.GtU, Op.BrIf, 1],
      translateByte(0), translateByte(1), translateByte(2), translateByte(3),
      inc(K, 4), inc(DST, 4), [Op.Br, 0],
    ),
    loop(
      get(K), get(N), [Op.GeU, Op.BrIf, 1],
      translateByte(0),
      inc(K, 1), inc(DST, 1), [Op.Br, 0],
    ),
    get(BAD), [Op.BrIf, 1],
    get(DST), konst(0x0d), store8(0), get(DST), konst(0x0a), store8(1), inc(DST, 2),
    get(COLS), get(COUNT), konst(4), [Op.Mul, Op.Add], get(DST), [Op.Store, 2, 0],
    inc(COUNT, 1), get(SRC), get(L), [Op.Add], set(SRC),
    [Op.Br, 0],
  ),
  ...get(COUNT),
];

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}
const name = (s: string): number[] => [s.length, ...Buffer.from(s, 'latin1')];

function moduleBytes(): Uint8Array {
  const code = [1, 5, I32, ...body, Op.End]; // one local group: 5 × i32 (N K B BAD COUNT)
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 9, ...new Array<number>(9).fill(I32), 1, I32]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 1]), // memory: 1 page at first, grown by FixedWasm.layout
    ...section(7, [2, ...name('mem'), 2, 0, ...name('fixed'), 0, 0]),
    ...section(10, [1, ...uleb(code.length), ...code]),
  ]);
}

// The few WebAssembly JS API members used here (the project's lib has no DOM types).
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmInstance { readonly exports: Record<string, unknown> }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => WasmInstance;
}
const Wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;

function wasmModule(): object | undefined {
  if (compiled === undefined) {
    try {
      compiled = Wasm === undefined ? null : new Wasm.Module(moduleBytes());
    } catch {
      compiled = null; // no WebAssembly (e.g. --jitless): the JavaScript path is used
    }
  }
  return compiled ?? undefined;
}

type FixedFn = (src: number, end: number, l: number, dst: number, cols: number, blank: number, cont: number, contL: number, nul: number) => number;

const PAGE = 65536;
const TABLES = 512;

/**
 * One instance of the module, with its regions: `cols` (record ends), `stage` (a copy of the
 * chunk) and `arena` (the RecordBatch's bytes, a view of the module's memory).
 */
export class FixedWasm {
  readonly fixed: FixedFn;
  readonly #mem: WasmMemory;
  #cols = TABLES;
  #colsCap = 0;
  #stage = TABLES;
  #stageCap = 0;
  #arenaOff = TABLES;
  /** The arena, a view of the memory (replaced by layout()). */
  arena: Buffer = Buffer.alloc(0);
  /** Record ends written by fixed(), as an Int32Array view (replaced by layout()). */
  ends: Int32Array = new Int32Array(0);

  private constructor(instance: WasmInstance, ascii: Uint8Array, control: Uint8Array) {
    this.fixed = instance.exports.fixed as FixedFn;
    this.#mem = instance.exports.mem as WasmMemory;
    const m = new Uint8Array(this.#mem.buffer);
    m.set(ascii.subarray(0, 256), 0);
    m.set(control.subarray(0, 256), 256);
  }

  /** An instance for this page's tables, or undefined when WebAssembly is not available. */
  static create(ascii: Uint8Array, control: Uint8Array): FixedWasm | undefined {
    const mod = wasmModule();
    if (mod === undefined || Wasm === undefined) return undefined;
    try {
      return new FixedWasm(new Wasm.Instance(mod), ascii, control);
    } catch {
      return undefined;
    }
  }

  /** Offsets in the memory, for fixed(): the chunk's copy and the arena. */
  get stageOffset(): number { return this.#stage; }
  get arenaOffset(): number { return this.#arenaOff; }
  get colsOffset(): number { return this.#cols; }

  /**
   * Makes room for a chunk of `chunkLen` bytes of `recordLength`-byte records and an arena of
   * `arenaLen` bytes, keeping the arena's first `keep` bytes. The views (arena, ends) change
   * when the memory grows; true when the arena was replaced.
   */
  layout(chunkLen: number, recordLength: number, arenaLen: number, keep: number): boolean {
    const colsCap = 4 * (Math.ceil(chunkLen / recordLength) + 2);
    if (chunkLen <= this.#stageCap && colsCap <= this.#colsCap && arenaLen <= this.arena.length) return false;
    const kept = keep > 0 ? Buffer.from(this.arena.subarray(0, keep)) : undefined;
    this.#colsCap = Math.max(colsCap, this.#colsCap);
    this.#stageCap = Math.max(chunkLen, this.#stageCap);
    const arenaCap = Math.max(arenaLen, this.arena.length);
    this.#cols = TABLES;
    this.#stage = this.#cols + this.#colsCap;
    this.#arenaOff = (this.#stage + this.#stageCap + 7) & ~7;
    const need = this.#arenaOff + arenaCap;
    const have = this.#mem.buffer.byteLength;
    if (need > have) this.#mem.grow(Math.ceil((need - have) / PAGE));
    const buf = this.#mem.buffer;
    this.arena = Buffer.from(buf, this.#arenaOff, arenaCap);
    this.ends = new Int32Array(buf, this.#cols, this.#colsCap / 4);
    if (kept !== undefined) kept.copy(this.arena, 0);
    return true;
  }

  /** Copies the chunk into the memory (after layout()). */
  stage(chunk: Buffer): void {
    new Uint8Array(this.#mem.buffer, this.#stage, chunk.length).set(chunk);
  }
}
