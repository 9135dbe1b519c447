// Child of contain.test.ts, run as uid 65534 (root reads any mode, so EACCES needs another
// user): opens the extended-retry mail directory argv[2] and asks for due records, printing what
// it saw as one JSON line. An unhandled rejection would end it with exit code 1.
import { ExtendedRetry } from '../../src/forwarder/extended.js';
import { Health } from '../../src/core/index.js';
import { Logger } from '../../src/log/index.js';
import { systemClock } from '../../src/core/index.js';

const health = new Health();
const ext = new ExtendedRetry(process.argv[2]!, systemClock, Logger.silent(), health);
await ext.open();
const due = await ext.due(new Date());
process.stdout.write(JSON.stringify({ due: due.length, fault: health.get('extended-retry')?.problem ?? null }) + '\n');
