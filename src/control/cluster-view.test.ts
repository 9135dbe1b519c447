// (ext, [P2]) The cluster parts of the displays and REFRESH,ALL against a fake cluster (no
// database): the NODE table after the node's own, unchanged display; none with one node (SQLite)
// or DisplayCompat IBM; STALE rows; REFRESH,ALL's line per node; REFRESH,ALL with SQLite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config/index.js';
import { ok } from '../core/result.js';
import { Logger } from '../log/logger.js';
import { executeLine, type ClusterOps, type OperatorTarget } from './execute.js';
import type { ForwarderView, TargetView } from './snapshot.js';
import type { NodeStatusRow, StoreEntryRow } from '../store/operator-store.js';

function target(address: string, port: number, sent: number): TargetView {
  return {
    addr: { address, port, source: { kind: 'TargetIP' }, server: { connectLimit: 1, maxMsgSent: 0, messageSize: 1000, secure: false } },
    state: 'ACTIVE', capabilities: { esmtp: true, size: 0, startTls: false }, counters: { mailAttempts: sent, mailSent: sent, connectFail: 0 }, lastError: '',
    acquire: () => new Promise(() => undefined),
  };
}

function fixture(cluster: ClusterOps | undefined, compat = '') {
  const f: ForwarderView = {
    counters: { mailSent: 2, totalRetry: 0, currentRetry: 0, deadLetter: 0, undeliver: 0, extendedCurrent: 0, extendedTotal: 0 },
    tasks: [{ tkid: 1, state: 'ACTIVE', entry: { attrs: { jobName: 'JOBB', jobId: 'J1', taskType: 'WRITER' } }, counters: { pend: 1, lrt: 0, mailRead: 2, undeliverable: 0 } }],
    suspendMode: 'none',
    listTargets: () => [target('192.0.2.1', 25, 2)],
    suspend: () => undefined, resume: () => undefined, flushRetry: () => 0, flushExtended: async () => 0, resolve: async () => undefined, refreshTargets: () => undefined,
  };
  const parsed = parseConfig(`Instance Test\nTargetServer { TargetIP 192.0.2.1 }\n${compat}`, '/etc/sg.conf', {}, { hostName: 'gw.test' });
  if (!parsed.ok) throw new Error(parsed.error.map((e) => e.message).join('\n'));
  const t: OperatorTarget = {
    forwarder: f, config: () => parsed.value.config,
    refresh: async () => ok({ ignored: [], changed: ['RetryLimit'] }),
    userExit: () => null, setUserExit: async () => ok(undefined),
    ...(cluster === undefined ? {} : { cluster: () => cluster }),
  };
  return { target: t, log: Logger.silent() };
}

const rowA: NodeStatusRow = {
  node: 'a', age: 1.5,
  status: {
    suspendMode: 'none', counters: { mailSent: 7, totalRetry: 0, currentRetry: 1, deadLetter: 0, undeliver: 0, extendedCurrent: 0, extendedTotal: 0 },
    tasks: [{ tkid: 1, type: 'WRITER', state: 'WAIT', jobName: 'JOBA', jobId: 'JA', pend: 3, lrt: 1, mailRead: 4, undeliverable: 0 }],
    targets: [{ address: '192.0.2.1', port: 25, source: { kind: 'TargetIP' }, connectLimit: 1, maxMsgSent: 0, messageSize: 1000, secure: false, state: 'NOT USABLE', esmtp: null, startTls: null, effectiveMessageSize: 1000, mailAttempts: 9, mailSent: 7, connectFail: 2, lostAttempts: 0, lastError: 'refused' }],
  },
};
const rowC: NodeStatusRow = { node: 'c', age: 45, status: { ...(rowA.status as object), tasks: [], targets: [] } as NodeStatusRow['status'] };
const gone: NodeStatusRow = { node: 'z', age: 1000, status: rowA.status };

const cluster = (extra: Partial<ClusterOps> = {}): ClusterOps => ({
  node: 'b', nodes: async () => [], staleSeconds: 30, statuses: async () => [rowA, rowC, gone], ...extra,
});

test('D,TARGETS on a cluster: the node\'s own display unchanged, then the NODE table; STALE and long-gone rows', async () => {
  const single = fixture(undefined);
  const alone = (await executeLine('D,TARGETS', single)).lines;
  const { target, log } = fixture(cluster());
  const r = await executeLine('D,TARGETS', { target, log });
  assert.deepEqual(r.lines.slice(0, alone.length), alone, 'the single-node lines come first, unchanged');
  assert.deepEqual(r.lines.slice(alone.length), [
    'EZD1864I TEST CLUSTER: 3 NODES (THIS NODE b)',
    '  NODE             TARGET                         STATE      ATTEMPTS     SENT CONNFAIL  RETRY AGE',
    '  a                192.0.2.1:25                   NOT USABLE        9        7        2      1 1.5S',
    '  b                192.0.2.1:25                   ACTIVE            2        2        0      0 0.0S',
    '  c                -                              -                          7               1 45.0S STALE',
  ]);
  const data = r.data as { cluster: { nodes: { node: string; stale: boolean }[] } };
  assert.deepEqual(data.cluster.nodes.map((x) => [x.node, x.stale]), [['a', false], ['b', false], ['c', true]]);
  // ADDR= keeps that address's rows.
  const addr = (await executeLine('D,TARGETS,ADDR=192.0.2.1', { target, log })).lines;
  assert.ok(addr.some((l) => /^ {2}a +192\.0\.2\.1:25 +NOT USABLE/.test(l)));
});

test('D,TARGETS on a cluster: RETRY is each node\'s own, the store\'s released long retry is one line and one field (the sum over nodes counts it once)', async () => {
  // Every node counts the 2 released messages in its CURRENT RETRY: b 1 own + 2, a 1 own + 2 (its
  // published status), c of an older version without the split (taken as it is: 1).
  const released = (c: number, r: number): NodeStatusRow['status'] => ({ ...(rowA.status as object), counters: { ...(rowA.status as { counters: object }).counters, currentRetry: c, retryReleased: r } }) as NodeStatusRow['status'];
  const a: NodeStatusRow = { ...rowA, status: released(3, 2) };
  const { target, log } = fixture(cluster({ statuses: async () => [a, rowC] }));
  const f = target.forwarder as { counters: { currentRetry: number } } & ForwarderView;
  f.counters.currentRetry = 3;
  const withRelease: OperatorTarget = { ...target, forwarder: { ...f, retryReleased: () => 2 } };
  const r = await executeLine('D,TARGETS', { target: withRelease, log });
  assert.ok(r.lines.includes('DEADLETTER: 0                CURRENT RETRY: 3'), `the node's own CURRENT RETRY keeps its meaning\n${r.lines.join('\n')}`);
  const table = r.lines.slice(r.lines.indexOf('EZD1864I TEST CLUSTER: 3 NODES (THIS NODE b)'));
  assert.deepEqual(table.slice(2), [
    '  a                192.0.2.1:25                   NOT USABLE        9        7        2      1 1.5S',
    '  b                192.0.2.1:25                   ACTIVE            2        2        0      1 0.0S',
    '  c                -                              -                          7               1 45.0S STALE',
    '  RELEASED: 2 MESSAGES IN LONG RETRY ON THE SHARED QUEUE, NO NODE HOLDS THEM (CLUSTER, NOT IN RETRY ABOVE)',
  ]);
  const data = r.data as { counters: { currentRetry: number; retryReleased?: number }; cluster: { released?: number; nodes: { node: string; counters: { currentRetry: number; retryReleased?: number } }[] } };
  assert.deepEqual(data.cluster.nodes.map((x) => [x.node, x.counters.currentRetry, x.counters.retryReleased]), [['a', 1, undefined], ['b', 1, undefined], ['c', 1, undefined]]);
  assert.equal(data.cluster.released, 2);
  assert.equal(data.cluster.nodes.reduce((n, x) => n + x.counters.currentRetry, 0) + data.cluster.released, 5, 'own 1 + 1 + 1, released 2: once');
  assert.deepEqual([data.counters.currentRetry, data.counters.retryReleased], [3, 2], 'the node\'s own counters as they were, with the released part named');
  // Without a shared queue (retryReleased absent): no RELEASED line, no field.
  const plain = await executeLine('D,TARGETS', { target, log });
  assert.ok(!plain.lines.some((l) => l.includes('RELEASED:')), plain.lines.join('\n'));
  assert.equal((plain.data as { cluster: { released?: number } }).cluster.released, undefined);
});

test('D,SPOOLSTATUS on a cluster lists every node\'s tasks; DETAIL only the busy ones', async () => {
  const { target, log } = fixture(cluster());
  const s = (await executeLine('D,SPOOLSTATUS', { target, log })).lines;
  assert.ok(s.includes('  a                W 001 JOBA     JA       WAIT       3     1      4 1.5S'), s.join('\n'));
  assert.ok(s.includes('  b                W 001 JOBB     J1       ACTIVE     1     0      2 0.0S'), s.join('\n'));
  const d = (await executeLine('D,SPOOLSTATUS,DETAIL,TKID=1', { target, log })).lines;
  assert.ok(d.some((l) => l.startsWith('  a                W 001 JOBA')));
});

test('D,SPOOLSTATUS on a cluster lists the shared queue\'s entries no node holds: not read yet, long retry, held; not the claimed ones', async () => {
  const at = new Date(Date.now() - 12_000);
  const entry = (id: string, o: Partial<StoreEntryRow>): StoreEntryRow => ({
    id, name: `E${id}`, kind: 'spool', state: 'ready', attributes: { jobName: `JOB${id}`, jobId: `J${id}` }, size: 1, arrivedNode: 'a', arrivedAt: at, nextAttempt: at,
    attempts: 0, leaseNode: null, lastNode: null, retryAttempts: 0, hold: null, ...o,
  }) as StoreEntryRow;
  const rows = [entry('1', {}), entry('2', { nextAttempt: new Date(Date.now() + 600_000), attempts: 1, lastNode: 'a', retryAttempts: 1 }), entry('3', { state: 'held' }), entry('4', { leaseNode: 'a' })];
  const { target, log } = fixture(cluster({ sharedQueue: async () => rows }));
  const s = (await executeLine('D,SPOOLSTATUS', { target, log })).lines;
  const shared = s.slice(s.indexOf('  SHARED QUEUE: 3 ENTRIES NO NODE HOLDS'));
  assert.equal(shared.length, 4, s.join('\n'));
  assert.match(shared[1]!, /^ {2}- {16}- {5}JOB1 {5}J1 {7}QUEUED {20}1\d\.\dS$/);
  assert.match(shared[2]!, /^ {2}- +- +JOB2 +J2 +LRT +\d+\.\dS$/);
  assert.match(shared[3]!, /^ {2}- +- +JOB3 +J3 +HELD +\d+\.\dS$/);
  assert.ok(!s.some((l) => l.includes('JOB4')), 'a claimed entry is its node\'s task');
  const detail = (await executeLine('D,SPOOLSTATUS,DETAIL', { target, log })).lines;
  assert.ok(detail.includes('  SHARED QUEUE: 3 ENTRIES NO NODE HOLDS'));
  const one = (await executeLine('D,SPOOLSTATUS,DETAIL,TKID=1', { target, log })).lines;
  assert.ok(!one.some((l) => l.includes('SHARED QUEUE')), 'TKID= shows that task only');
});

test('no NODE table with one node (SQLite) or DisplayCompat IBM; a store that cannot be read is one line', async () => {
  for (const f of [fixture(undefined), fixture(cluster(), 'DisplayCompat IBM\n')]) {
    for (const c of ['D,TARGETS', 'D,SPOOLSTATUS', 'D,SPOOLSTATUS,DETAIL']) {
      assert.ok(!(await executeLine(c, f)).lines.some((l) => l.includes('EZD1864I')), c);
    }
  }
  const broken = fixture(cluster({ statuses: async () => { throw new Error('connection refused'); } }));
  const r = await executeLine('D,TARGETS', broken);
  assert.ok(r.ok, 'the display itself still answers');
  assert.match(r.lines.at(-1)!, /^CLUSTER: THE OTHER NODES' STATE CANNOT BE READ FROM THE STORE: CONNECTION REFUSED$/);
});

test('REFRESH,ALL: this node\'s REFRESH, then one line per other node; not ok when one was not refreshed', async () => {
  const { target, log } = fixture(cluster({
    refreshOthers: async () => [
      { node: 'a', answered: true, reply: { node: 'a', ok: true, lines: [], data: { ignored: [], changed: ['RetryLimit', 'LogLevel'] } } },
      { node: 'c', answered: true, reply: { node: 'c', ok: false, lines: ['EZD1844E C REFRESH REJECTED : x'], data: { errors: ['/etc/c.conf:3: unknown statement Foo'] } } },
      { node: 'd', answered: false, detail: 'NO ANSWER WITHIN 10 SECONDS' },
    ],
  }));
  const r = await executeLine('REFRESH,ALL', { target, log });
  assert.equal(r.ok, false);
  assert.equal(r.command, 'REFRESH,ALL');
  assert.deepEqual(r.lines.slice(-5), [
    'EZD1848I TEST MODIFY REFRESH COMMAND COMPLETED',
    'EZD1863I TEST MODIFY REFRESH,ALL : 3 OTHER NODES ASKED',
    'EZD1861I TEST NODE a REFRESHED : CHANGED RETRYLIMIT, LOGLEVEL',
    'EZD1862E TEST NODE c NOT REFRESHED : /ETC/C.CONF:3: UNKNOWN STATEMENT FOO',
    'EZD1862E TEST NODE d NOT REFRESHED : NO ANSWER WITHIN 10 SECONDS',
  ]);
});

test('REFRESH,ALL with one node (SQLite) is REFRESH with a note', async () => {
  const f = fixture(undefined);
  const plain = await executeLine('REFRESH', f);
  const all = await executeLine('REFRESH,ALL', f);
  assert.ok(all.ok);
  assert.deepEqual(all.lines, [...plain.lines, 'EZD1863I TEST MODIFY REFRESH,ALL : STORE BACKEND IS SQLITE: THIS NODE IS THE ONLY NODE']);
});
