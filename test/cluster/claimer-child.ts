// A gateway node's queue side, as a child process of test/cluster/claim.test.ts: it opens its own
// pool on the shared PostgreSQL store and claims like a node would. One JSON argument:
//   {url, schema, node, writer, leaseSeconds, mode, path?}
// Modes (each writes one line per event on stdout):
//   drain  — claim in small batches, "deliver" (mark every recipient, the message, complete),
//            print `claimed <id>` per entry, exit 0 when nothing is left.
//   hold   — claim everything due, mark the first recipient of message 1 accepted, print
//            `held <id,id,…>`, then keep the leases alive with heartbeats until killed.
//   arrive — store the spool file at `path` and print `committed <id>` without unlinking it,
//            then wait to be killed (a crash between the commit and the unlink).
import { PgPool } from '../../src/store/pg/pool.js';
import { PgQueueStore } from '../../src/store/pg/queue.js';
import { LeaseKeeper } from '../../src/store/lease-keeper.js';

interface Args { url: string; schema: string; node: string; writer: string; leaseSeconds: number; mode: 'drain' | 'hold' | 'arrive'; path?: string }
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const db = new PgPool({ url: args.url, schema: args.schema, poolSize: 2, statementTimeoutMs: 30_000, applicationName: args.node });
const q = new PgQueueStore(db, { node: args.node, leaseSeconds: args.leaseSeconds });
const say = (line: string): void => { process.stdout.write(`${line}\n`); };

async function main(): Promise<void> {
  if (args.mode === 'drain') {
    for (;;) {
      const batch = await q.claim(args.writer, 2);
      if (batch.length === 0) break;
      for (const c of batch) {
        const to = (c.attributes.to ?? []) as string[];
        for (const address of to) await q.markRecipient(c.lease, 1, { address, outcome: 'accepted' });
        await q.markMessage(c.lease, 1, 'delivered');
        await q.complete(c.lease);
        say(`claimed ${c.id}`);
      }
    }
    await q.close();
    return;
  }
  if (args.mode === 'hold') {
    const held = await q.claim(args.writer, 1000);
    for (const c of held) {
      const first = ((c.attributes.to ?? []) as string[])[0];
      if (first !== undefined) await q.markRecipient(c.lease, 1, { address: first, outcome: 'accepted' });
    }
    // The node's real heartbeat keeps the leases until the process is killed.
    const keeper = new LeaseKeeper(q, { heartbeatMs: (args.leaseSeconds * 1000) / 4, leaseMs: args.leaseSeconds * 1000, onLost: (l) => { console.error(`lost ${l.entryId}`); process.exit(1); } });
    for (const c of held) keeper.track(c.lease);
    await keeper.beat();
    keeper.start();
    say(`held ${held.map((c) => c.id).join(',')}`);
    setInterval(() => undefined, 60_000).ref();
    return;
  }
  // Named as the node's arrival names it: by the file's spool entry id (here its file name).
  const out = await q.storeSpoolFile(args.writer, args.path ?? '', { node: args.node }, { name: (args.path ?? '').split('/').pop() ?? '' });
  say(`committed ${out.entryId}`);
  setInterval(() => undefined, 60_000).ref();
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
