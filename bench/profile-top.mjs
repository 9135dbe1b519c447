#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (node --cpu-prof): self time per function (top 25) and the share
// of samples whose stack contains a given function name (argv[3..], e.g. "flush").
import { readFileSync } from 'node:fs';

const prof = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const counts = new Map();
for (const s of prof.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
const total = prof.samples.length;
const self = new Map();
for (const [id, c] of counts) {
  const f = byId.get(id).callFrame;
  const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + c);
}
console.log(`${total} samples`);
for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${((100 * c) / total).toFixed(1).padStart(5)} %  ${k}`);
for (const name of process.argv.slice(3)) {
  let hit = 0;
  for (const [id, c] of counts) {
    for (let x = id; x !== undefined; x = parent.get(x)) if (byId.get(x).callFrame.functionName === name) { hit += c; break; }
  }
  console.log(`inclusive ${name}: ${((100 * hit) / total).toFixed(1)} %`);
}
