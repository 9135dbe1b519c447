// Fault hook for [P2] arrival (test/cluster/arrival-kill.test.ts): loaded into a `spoolgate
// start` child process with `node --import tsx --import ./src/testing/fault-arrival.ts`, it freezes
// the process at the moment an arriving spool entry is about to leave the spool — after the
// database committed it (arriveSpoolFile: storeSpoolFile resolved), before the unlink
// (spool/disposition.ts deleteEntry renames `incoming/<id>` to `incoming/.deleting.<id>` first).
// The test then kills the frozen process with -9: a crash exactly between the commit and the unlink.
//
// How it is guarded in production: there is no pause point in the product. This module is under
// src/testing/ (which no role imports, src/architecture.test.ts) and runs only when a test puts it
// on node's command line; it wraps node:fs/promises `rename` (syncBuiltinESMExports updates the
// named imports the spool code holds). Nothing reads an environment variable for it.
//
// Frozen, not paused: it writes `fault.arrival-frozen <path>` to standard error and blocks the
// main thread (Atomics.wait), so nothing else of the node runs after the commit — no claim, no
// send, no heartbeat — just as if it had died there.
import fsp from 'node:fs/promises';
import { writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
import { DELETING_PREFIX } from '../spool/disposition.js';

const original = fsp.rename;

fsp.rename = async (from, to) => {
  if (basename(dirname(String(from))) === 'incoming' && basename(String(to)).startsWith(DELETING_PREFIX)) {
    writeSync(2, `fault.arrival-frozen ${String(from)}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
  return original(from, to);
};
syncBuiltinESMExports();
