// Child process for queue-quarantine.test.ts (not a test file): a real gateway (startServices:
// receiver, control socket, HTTP) on the given configuration, with the forwarder not started (so
// what reaches the target is sent by the parent's gateway after the restart, once). After the
// quarantine release step named on the command line it prints "AT <step>" and waits for the
// parent's SIGKILL. Prints "READY <smtp port>" when listening.
// Usage: quarantine-release-child.ts CONFIG STEP
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../src/config/index.js';
import { Logger } from '../../src/log/index.js';
import { startServices } from '../../src/main.js';

const [path, stopAt] = process.argv.slice(2);
if (path === undefined || stopAt === undefined) throw new Error('usage: quarantine-release-child.ts CONFIG STEP');
const parsed = parseConfig(readFileSync(path, 'utf8'), path);
if (!parsed.ok) throw new Error(parsed.error.map((e) => e.message).join('\n'));
const wait = (): Promise<never> => new Promise(() => { setInterval(() => undefined, 1 << 30); });
const services = await startServices(parsed.value.config, {
  log: Logger.silent(),
  releaseStep: async (step) => {
    if (step !== stopAt) return;
    process.stdout.write(`AT ${step}\n`);
    await wait();
  },
});
process.stdout.write(`READY ${services.listening.find((l) => l.role === 'smtp')!.port}\n`);
await wait();
