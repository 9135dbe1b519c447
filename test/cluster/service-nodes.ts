// Gateway nodes started in the test process with startServices (main.ts), the whole gateway of
// `spoolgate start` (control socket, HTTP, forwarder), on the shared queue of the test's own
// PostgreSQL schema: the [P2] operator-view tests (operator, queue-tools, retry-count) drive them
// through their control sockets. The password goes through the environment, never the config.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { Logger } from '../../src/log/index.js';
import { startServices, type Services } from '../../src/main.js';
import { sendCommand, type ControlResponse } from '../../src/control/index.js';
import { tempDir } from '../../src/testing/peers.js';
import type { TestDatabase } from '../../src/testing/pg.js';
import { writeConfig } from '../../src/testing/gateway.js';
import { PASSWORD_ENV } from '../../src/store/pg/index.js';
import type { Config } from '../../src/config/index.js';

export interface ServiceNode { readonly name: string; readonly config: Config; services: Services | undefined }

/** The Store statement of node `name` on the test's schema (LeaseTime 10, Heartbeat 1); sets the password variable. */
export function storeLine(tdb: TestDatabase, name: string): string {
  const u = new URL(tdb.url);
  process.env[PASSWORD_ENV] = decodeURIComponent(u.password);
  u.password = '';
  return `Store { Backend PostgreSQL Url ${u.toString()} Schema ${tdb.schema} Node ${name} LeaseTime 10 Heartbeat 1 PoolSize 4 }`;
}

/** Writes node `name`'s configuration (`lines` plus its Store statement) and starts it; stopped after the test. */
export async function startServiceNode(t: TestContext, tdb: TestDatabase, name: string, lines: readonly string[]): Promise<ServiceNode> {
  const { config } = writeConfig(join(tempDir(t, `spoolgate-${name}-`)), [...lines, storeLine(tdb, name)].join('\n'));
  return runServiceNode(t, { name, config, services: undefined });
}

/** Starts (or restarts) a node whose configuration is written; stopped after the test. */
export async function runServiceNode<N extends ServiceNode>(t: TestContext, n: N): Promise<N> {
  n.services = await startServices(n.config, { log: process.env.GW_LOG ? undefined : Logger.silent() });
  t.after(async () => { await n.services?.stop(); n.services = undefined; });
  await n.services.gateway.forwarder.start();
  return n;
}

/** A MODIFY command on the node's control socket; fails the test when the socket does not answer. */
export async function cmd(n: ServiceNode, line: string): Promise<ControlResponse> {
  const r = await sendCommand(n.config.controlSocket, line, { timeoutMs: 60_000 });
  assert.ok(r.ok, `${n.name} ${line}: ${r.ok ? '' : r.error}`);
  return r.value;
}
