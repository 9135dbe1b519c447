// Benchmark 6's receiver curve (B2 item 6, a measurement, not a product mode): N node:cluster
// worker processes each run the real receiver (startReceiver, the SQLite store on the shared
// database file, relayed mail through the EnqueueGroup into the shared spool) on ONE port shared by
// the cluster. No forwarder: the curve measures acceptance only. The primary prints "READY" when
// every worker listens; SIGTERM stops them.
// Usage: node --import tsx bench/receiver-cluster.ts CONFIG PORT WORKERS [rr|none]
import cluster from 'node:cluster';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { Logger } from '../src/log/index.js';
import { startReceiver } from '../src/receiver/index.js';
import { EnqueueGroup } from '../src/spool/enqueue.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';

const [configPath, portArg, workersArg, policy] = process.argv.slice(2);
if (configPath === undefined || portArg === undefined || workersArg === undefined) throw new Error('usage: receiver-cluster.ts CONFIG PORT WORKERS [rr|none]');
const port = Number(portArg);
const workers = Number(workersArg);

if (cluster.isPrimary) {
  // 'none': every worker accepts on the shared socket itself (no handle passing through the primary).
  cluster.schedulingPolicy = policy === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    const w = cluster.fork();
    w.on('message', (m: unknown) => { if (m === 'listening' && ++ready === workers) process.stdout.write('READY\n'); });
  }
  cluster.on('exit', (_w, code, signal) => { if (code !== 0 && signal !== 'SIGTERM') process.stderr.write(`worker exited ${code ?? signal}\n`); });
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    cluster.disconnect(() => process.exit(0));
  });
} else {
  const r = loadConfig(configPath);
  if (!r.ok) throw new Error(r.error.map((e) => e.message).join('\n'));
  const config = r.value.config;
  mkdirSync(config.stateDirectory, { recursive: true });
  const store = openSqliteStore(join(config.stateDirectory, 'spoolgate.db'));
  const group = new EnqueueGroup({ root: config.spool.directory, writer: config.extWrtName, hostName: config.hostName });
  const rx = await startReceiver({
    config, store, log: Logger.silent(),
    resolver: { resolveAddresses: async () => [], resolveMx: async () => [], resolve4: async () => [] },
    spoolSubmit: async (m) => (await group.enqueue({ envelope: m.envelope, data: m.data, origin: { kind: 'receiver', ...m.origin }, jobName: 'RECEIVER' })).id,
    listen: [{ host: '127.0.0.1', port }],
  });
  process.send?.('listening');
  process.on('SIGTERM', () => { void rx.close().then(() => store.close()).then(() => process.exit(0), () => process.exit(1)); });
}
