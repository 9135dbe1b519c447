// Child process for receiver-crash.test.ts (not a test file): opens the store of the given
// configuration, starts the receiver on 127.0.0.1 port 0 and prints "PORT <n>". The test kills it
// with SIGKILL. Lives under test/ because it wires store/sqlite, which src/receiver may not import.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { Logger } from '../../src/log/index.js';
import { startReceiver } from '../../src/receiver/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { spoolSubmitFor } from './receiver-harness.js';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: receiver-crash-child.ts CONFIG');
const r = loadConfig(path);
if (!r.ok) throw new Error(r.error.map((e) => e.message).join('\n'));
const config = r.value.config;
mkdirSync(config.stateDirectory, { recursive: true });
const store = openSqliteStore(join(config.stateDirectory, 'spoolgate.db'));
const rx = await startReceiver({
  config, store, spoolSubmit: spoolSubmitFor(config), log: Logger.silent(),
  resolver: { resolveAddresses: async () => [], resolveMx: async () => [], resolve4: async () => [] },
  listen: [{ host: '127.0.0.1', port: 0 }],
});
process.stdout.write(`PORT ${rx.addresses()[0]!.port}\n`);
process.on('SIGTERM', () => { void rx.close().then(() => store.close()).then(() => process.exit(0), () => process.exit(1)); });
