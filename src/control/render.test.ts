// Golden tests of the displays: exact lines for a known snapshot, and the seed's own examples
// reproduced (compared with blanks collapsed, since the seed's spacing differs between examples).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config/index.js';
import { render, canonicalIp } from './render.js';
import type { DisplayCommand } from './render.js';
import { parseCommand } from './parse.js';
import { targetSnapshot, taskSnapshot, type Snapshot, type TargetSnapshot, type TaskSnapshot } from './snapshot.js';

function cmd(text: string): DisplayCommand {
  const r = parseCommand(text);
  if (!r.ok || !r.value.kind.startsWith('display-')) throw new Error(`not a display: ${text}`);
  return r.value as DisplayCommand;
}

const squash = (lines: readonly string[]): string[] => lines.map((l) => l.trim().split(/\s+/).join(' '));

function task(tkid: number, type: 'WRITER' | 'DEST', jobName: string | null, state: TaskSnapshot['state'], pend: number, lrt: number, extra: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return { tkid, type, state, jobName, jobId: jobName === null ? null : 'STC00055', pend, lrt, mailRead: 0, undeliverable: 0, ...extra };
}

function target(address: string, extra: Partial<TargetSnapshot> = {}): TargetSnapshot {
  return {
    address, port: 25, source: { kind: 'TargetIP' }, connectLimit: 5, maxMsgSent: 1000, messageSize: 524288, secure: false,
    state: 'ACTIVE', esmtp: true, startTls: false, effectiveMessageSize: 20000000, mailAttempts: 0, mailSent: 0, connectFail: 0, lostAttempts: 0, lastError: '',
    ...extra,
  };
}

const COUNTERS = { mailSent: 0, totalRetry: 0, currentRetry: 0, deadLetter: 0, undeliver: 0, extendedCurrent: 0, extendedTotal: 0 };

function snap(extra: Partial<Snapshot>): Snapshot {
  return { instance: 'CSSMTP', logLevel: 15, userExit: null, suspendMode: 'none', counters: COUNTERS, tasks: [], targets: [], ...extra };
}

test('D,LOGLEVEL (Example 1)', () => {
  assert.deepEqual(render(cmd('D,LOGLEVEL'), snap({})), ['EZD1828I CSSMTP DISPLAY LOGLEVEL = 15']);
});

test('D,TARGETS reproduces Example 6 field by field', () => {
  const s = snap({
    targets: [
      target('1.1.1.1', { mailAttempts: 24, mailSent: 24 }),
      target('::6', { startTls: true, mailAttempts: 30, mailSent: 30 }),
    ],
    compat: 'ibm',
  });
  const lines = render(cmd('F,DIS,TARGETS'.slice(2)), s);
  assert.deepEqual(squash(lines), [
    'EZD1831I CSSMTP TARGETS:',
    'GLOBAL INFORMATION:',
    'MAIL SENT : 0 TOTAL RETRY : 0',
    'DEADLETTER: 0 CURRENT RETRY: 0',
    'UNDELIVER : 0',
    'EXTENDED RETRY:',
    'CURRENT : 0 TOTAL : 0',
    'TARGET SERVER 1.1.1.1',
    'STATE : ACTIVE',
    'ESMTP : YES MESSAGE SIZE : 20000000',
    'STARTTLS : NO MAIL ATTEMPTS: 24',
    'MAIL SENT : 24 CONNECT FAIL : 0',
    'TARGET SERVER ::6',
    'STATE : ACTIVE',
    'ESMTP : YES MESSAGE SIZE : 20000000',
    'STARTTLS : YES MAIL ATTEMPTS: 30',
    'MAIL SENT : 30 CONNECT FAIL : 0',
  ]);
});

// A running instance: counters everywhere, targets in every state, a non-25 port.
const LIVE = snap({
  instance: 'TEST',
  counters: { mailSent: 1234, totalRetry: 17, currentRetry: 3, deadLetter: 2, undeliver: 5, extendedCurrent: 4, extendedTotal: 9 },
  targets: [
    target('192.0.2.10', { mailAttempts: 700, mailSent: 698, connectFail: 1 }),
    target('2001:db8::25', { port: 2525, state: 'NOT USABLE', esmtp: false, startTls: false, effectiveMessageSize: 524288, mailAttempts: 540, mailSent: 536, connectFail: 7, lostAttempts: 4, lastError: 'ECONNREFUSED' }),
    target('192.0.2.11', { state: 'UNKNOWN', esmtp: null, startTls: null, effectiveMessageSize: 524288 }),
  ],
  tasks: [
    task(1, 'WRITER', 'PAYROLL', 'ACTIVE', 15, 5, { jobId: 'JOB00123', mailRead: 20, undeliverable: 1 }),
    task(2, 'DEST', 'NOTIFY', 'READ', 5, 0, { jobId: 'JOB00124', mailRead: 5 }),
    task(3, 'WRITER', 'BILLING', 'SUPND', 2, 0, { jobId: 'JOB00125', mailRead: 2 }),
    task(4, 'WRITER', null, 'IDLE', 0, 0, { mailRead: 7, undeliverable: 2 }),
    task(5, 'WRITER', 'LONGJOBNAME9', 'WAIT', 100000, 99999, { jobId: 'JOB99999', mailRead: 123456 }),
  ],
});

test('D,TARGETS golden: exact columns', () => {
  assert.deepEqual(render(cmd('DISPLAY,TARGETS'), LIVE), [
    'EZD1831I TEST TARGETS:',
    'GLOBAL INFORMATION:',
    'MAIL SENT : 1234             TOTAL RETRY  : 17',
    'DEADLETTER: 2                CURRENT RETRY: 3',
    'UNDELIVER : 5',
    'EXTENDED RETRY:',
    'CURRENT   : 4                TOTAL        : 9',
    'TARGET SERVER 192.0.2.10',
    'STATE     : ACTIVE',
    'ESMTP     : YES              MESSAGE SIZE : 20000000',
    'STARTTLS  : NO               MAIL ATTEMPTS: 700',
    'MAIL SENT : 698              CONNECT FAIL : 1',
    'LOST ATTEMPTS: 0',
    'TARGET SERVER 2001:db8::25 PORT 2525',
    'STATE     : NOT USABLE',
    'ESMTP     : NO               MESSAGE SIZE : 524288',
    'STARTTLS  : NO               MAIL ATTEMPTS: 540',
    'MAIL SENT : 536              CONNECT FAIL : 7',
    'LOST ATTEMPTS: 4',
    'TARGET SERVER 192.0.2.11',
    'STATE     : UNKNOWN',
    'ESMTP     : N/A              MESSAGE SIZE : 524288',
    'STARTTLS  : N/A              MAIL ATTEMPTS: 0',
    'MAIL SENT : 0                CONNECT FAIL : 0',
    'LOST ATTEMPTS: 0',
  ]);
});

test('D,TARGETS,ADDR= has Example 7\'s fields and only that address (IPv6 in any spelling); (ext) STARTTLS and LOST ATTEMPTS follow', () => {
  assert.deepEqual(render(cmd('D,TARGETS,ADDR=2001:0db8:0:0::25'), LIVE), [
    'EZD1831I TEST TARGETS:',
    'GLOBAL INFORMATION:',
    'MAIL SENT : 1234             LONG RETRY   : 3',
    'DEADLETTER: 2                UNDELIVERABLE: 5',
    'TARGET SERVER 2001:db8::25 PORT 2525',
    'STATE     : NOT USABLE',
    'ESMTP     : NO               MESSAGE SIZE : 524288',
    'SECURE    : NO               MAIL ATTEMPTS: 540',
    'MAIL SENT : 536              CONNECT FAIL : 7',
    'STARTTLS  : NO',
    'LOST ATTEMPTS: 4',
  ]);
  assert.deepEqual(render(cmd('D,TARGET,ADDR=192.0.2.10'), LIVE).slice(4, 5), ['TARGET SERVER 192.0.2.10']);
  assert.deepEqual(render(cmd('D,TARGETS,ADDR=::1'), LIVE), ['EZD1838E TEST DISPLAY TARGETS ADDR=::1 IS NOT A TARGET SERVER IN USE']);
  assert.equal(canonicalIp('0:0:0:0:0:0:0:1'), '::1');
});

test('D,SPOOL summary reproduces Example 5 (two tasks per line)', () => {
  const rows: [number, string, TaskSnapshot['state'], number, number][] = [
    [2, 'JOBNM25', 'ACTIVE', 15, 5], [3, 'JOBNM132', 'READ', 5, 0], [4, 'JOBNM45', 'ACTIVE', 10, 10], [5, 'JOBNM232', 'READ', 10, 0],
    [6, 'JOBNM48', 'ACTIVE', 20, 0], [7, 'JOBNM332', 'IDLE', 0, 0],
  ];
  const s = snap({ tasks: rows.map(([k, j, st, p, l]) => task(k, k % 2 === 0 ? 'WRITER' : 'DEST', j, st, p, l)) });
  assert.deepEqual(squash(render(cmd('D,SPOOL'), s)), [
    'EZD1832I CSSMTP SPOOLSTATUS:',
    'TKID JOBNAME STATE PEND LRT TKID JOBNAME STATE PEND LRT',
    'W 002 JOBNM25 ACTIVE 15 5 D 003 JOBNM132 READ 5 0',
    'W 004 JOBNM45 ACTIVE 10 10 D 005 JOBNM232 READ 10 0',
    'W 006 JOBNM48 ACTIVE 20 0 D 007 JOBNM332 IDLE 0 0',
  ]);
});

test('D,SPOOL golden: exact columns, odd task count, every state', () => {
  assert.deepEqual(render(cmd('D,SPOOLSTATUS,SUMMARY'), LIVE), [
    'EZD1832I TEST SPOOLSTATUS:',
    'TKID  JOBNAME  STATE   PEND   LRT    TKID  JOBNAME  STATE   PEND   LRT',
    'W 001 PAYROLL  ACTIVE    15     5    D 002 NOTIFY   READ       5     0',
    'W 003 BILLING  SUPND      2     0    W 004 N/A      IDLE       0     0',
    'W 005 LONGJOBNAME9 WAIT   100000 99999',
    'WAIT REASON: no target server is usable now',
  ]);
  // R3 #22: the checkpoint's reason when that is why the forwarder waits; none with DisplayCompat IBM.
  const cp = { ...LIVE, waitReason: 'checkpoint cannot be written: SQLITE_FULL: database or disk is full' };
  assert.equal(render(cmd('D,SPOOL'), cp).at(-1), 'WAIT REASON: checkpoint cannot be written: SQLITE_FULL: database or disk is full');
  assert.equal(render(cmd('D,SPOOL'), { ...cp, compat: 'ibm' }).at(-1), 'W 005 LONGJOBNAME9 WAIT   100000 99999');
});

test('D,SPOOL,DETAIL reproduces Example 5 detail blocks', () => {
  const s = snap({ tasks: [
    task(2, 'WRITER', 'JOBNM25', 'ACTIVE', 15, 5, { jobId: 'STC00055', mailRead: 0 }),
    task(3, 'DEST', 'JOBNM132', 'READ', 5, 0, { jobId: 'STC00055', mailRead: 5, undeliverable: 20 }),
    task(7, 'DEST', 'JOBNM332', 'IDLE', 0, 0),
  ] });
  assert.deepEqual(squash(render(cmd('D,SPOOL,DETAIL'), s)), [
    'EZD1833I CSSMTP SPOOLSTATUS:',
    'TASK ACTIVE : WRITER TKID : 2',
    'JOBNAME : JOBNM25 JOBID : STC00055',
    'PEND : 15 LRT : 5',
    'MAIL READ : 0 UNDELIVERABLE: 0',
    'TASK READ : DEST TKID : 3',
    'JOBNAME : JOBNM132 JOBID : STC00055',
    'PEND : 5 LRT : 0',
    'MAIL READ : 5 UNDELIVERABLE: 20',
  ]);
  // An idle task is shown when asked for by TKID (Example 5, TKID=2 idle).
  assert.deepEqual(squash(render(cmd('D,SPOOL,DETAIL,TKID=7'), s)).slice(1, 2), ['TASK IDLE : DEST TKID : 7']);
  assert.deepEqual(render(cmd('D,SPOOL,DETAIL,TKID=9'), s), ['EZD1833I CSSMTP SPOOLSTATUS:', 'No TKID 9 to display']);
  assert.deepEqual(render(cmd('D,SPOOL,DETAIL'), snap({ tasks: [task(1, 'WRITER', null, 'IDLE', 0, 0)] })), [
    'EZD1833I CSSMTP SPOOLSTATUS:',
    'No non-idle TKIDs to display',
  ]);
});

test('D,SPOOL,DETAIL golden: exact columns', () => {
  assert.deepEqual(render(cmd('D,SPOOL,D,TKID=1'), LIVE), [
    'EZD1833I TEST SPOOLSTATUS:',
    'TASK ACTIVE  : WRITER     TKID         : 1',
    'JOBNAME      : PAYROLL    JOBID        : JOB00123',
    'PEND         : 15         LRT          : 5',
    'MAIL READ    : 20         UNDELIVERABLE: 1',
  ]);
  const all = render(cmd('D,SPOOL,D'), LIVE);
  assert.equal(all.length, 1 + 4 * 4 + 1, 'four non-idle tasks, and why the WAIT task waits');
  assert.deepEqual(render(cmd('D,SPOOL,D,TKID=5'), { ...LIVE, waitReason: 'checkpoint cannot be written: EACCES' }).slice(1), [
    'TASK WAIT    : WRITER     TKID         : 5',
    'JOBNAME      : LONGJOBNAME9 JOBID        : JOB99999',
    'PEND         : 100000     LRT          : 99999',
    'MAIL READ    : 123456     UNDELIVERABLE: 0',
    'WAIT REASON  : checkpoint cannot be written: EACCES',
  ]);
  assert.deepEqual(all.filter((l) => l.startsWith('TASK')).map((l) => l.split(/\s+/)[1]), ['ACTIVE', 'READ', 'SUPND', 'WAIT']);
  assert.deepEqual(render(cmd('D,SPOOL,D,TKID=4'), LIVE).slice(1, 3), [
    'TASK IDLE    : WRITER     TKID         : 4',
    'JOBNAME      : N/A        JOBID        : N/A',
  ]);
});

test('D,IPLIST reproduces Examples 3 and 4', () => {
  const s = snap({ targets: [
    target('9.100.1.5'),
    target('9.56.231.69', { source: { kind: 'TargetName', name: 'ralvms' }, connectLimit: 2, maxMsgSent: 2000, secure: true }),
    target('9.56.200.55', { source: { kind: 'TargetMx', name: 'mxName', exchange: 'mx1.example', preference: 1 }, connectLimit: 2, maxMsgSent: 2000 }),
  ] });
  assert.deepEqual(squash(render(cmd('D,IPLIST'), s)), [
    'EZD1830I CSSMTP IPLIST:',
    'TARGETIP : 9.100.1.5',
    'CONNECTPORT : 25 CONNECTLIMIT : 5',
    'MAXMSGSENT : 1000 MESSAGESIZE : 524288',
    'SECURE : NO',
    'TARGETIP : 9.56.231.69',
    'CONFIG TARGETNAME : RALVMS',
    'CONNECTPORT : 25 CONNECTLIMIT : 2',
    'MAXMSGSENT : 2000 MESSAGESIZE : 524288',
    'SECURE : YES',
    'TARGETIP : 9.56.200.55',
    'CONFIG TARGETMX : mxName',
    'PREFERENCE : 1',
    'CONNECTPORT : 25 CONNECTLIMIT : 2',
    'MAXMSGSENT : 2000 MESSAGESIZE : 524288',
    'SECURE : NO',
  ]);
  assert.deepEqual(render(cmd('D,IPL'), s).slice(1, 5), [
    'TARGETIP            : 9.100.1.5',
    'CONNECTPORT         : 25             CONNECTLIMIT     : 5',
    'MAXMSGSENT          : 1000           MESSAGESIZE      : 524288',
    'SECURE              : NO',
  ]);
  assert.deepEqual(render(cmd('D,IPL'), snap({})), ['EZD1830I CSSMTP IPLIST:', 'No target server addresses to display']);
});

test('D,CONFIG is EZD1829I with the log level and user exit in force', () => {
  const r = parseConfig('Instance CSSMTP\nLogLevel 7\nTargetServer { TargetIP 9.100.1.2 }\n', '/etc/spoolgate.conf', {}, { hostName: 'vic142.raleigh.ibm.com' });
  assert.ok(r.ok);
  const lines = render(cmd('D,CONF'), snap({ logLevel: 255, config: r.value.config, runtime: { pid: 67108874, chkpoint: 'WARM' } }));
  assert.equal(lines[0], 'EZD1829I CSSMTP CONFIGURATION:');
  assert.ok(lines.includes('PID                 : 67108874'));
  assert.match(lines.find((l) => l.startsWith('LOGLEVEL')) ?? '', /^LOGLEVEL\s+: 255\s+USEREXIT\s+: NONE$/);
  assert.ok(lines.includes('TARGETIP            : 9.100.1.2'));
  assert.match(render(cmd('D,CONF'), snap({}))[0]!, /^EZD1836E /);
});

test('an IDLE task shows the previous job, with PEND and LRT 0 (seed: SPOOLSTATUS field meanings)', () => {
  const job = { attrs: { jobName: 'PAYROLL', jobId: 'JOB00123', taskType: 'DEST' as const } };
  const idle = taskSnapshot({ tkid: 2, state: 'IDLE', entry: undefined, lastEntry: job, counters: { pend: 3, lrt: 1, mailRead: 20, undeliverable: 2 } });
  assert.deepEqual(idle, { tkid: 2, type: 'DEST', state: 'IDLE', jobName: 'PAYROLL', jobId: 'JOB00123', pend: 0, lrt: 0, mailRead: 20, undeliverable: 2 });
  const busy = taskSnapshot({ tkid: 2, state: 'READ', entry: { attrs: { ...job.attrs, jobName: 'BILLING' } }, lastEntry: job, counters: { pend: 3, lrt: 1, mailRead: 4, undeliverable: 0 } });
  assert.equal(busy.jobName, 'BILLING');
  assert.equal(busy.pend, 3);
  const never = taskSnapshot({ tkid: 3, state: 'IDLE', counters: { pend: 0, lrt: 0, mailRead: 0, undeliverable: 0 } });
  assert.equal(never.jobName, null, 'a task that never read a file has no job: N/A');
});

test('(ext) D,TARGETS shows the rate limits, their use now and the back-off; IBM leaves them out; none set = no lines', () => {
  const rate = {
    msgPerSecond: 20, msgPerMinute: 600, rcptPerMsg: 10, connectPerMinute: null, backoff: true,
    sentLastSecond: 12, sentLastMinute: 340, connectsLastMinute: null,
    backoffLevel: 2, backoffSpacingMs: 500, rateReplies: 3, lastRateReply: '451 4.7.0 rate limited',
  };
  const s = snap({ targets: [target('192.0.2.10', { rate }), target('192.0.2.11')] });
  const lines = render(cmd('D,TARGETS'), s);
  const at = lines.indexOf('TARGET SERVER 192.0.2.10');
  assert.deepEqual(lines.slice(at + 5, at + 10), [
    'LOST ATTEMPTS: 0',
    'RATE LIMIT   : 20/SEC, 600/MIN, 10 RCPT/MSG',
    'RATE NOW     : 12/SEC, 340/MIN',
    'BACKOFF      : LEVEL 2, 500 MS APART (3 RATE REPLIES)',
    'RATE REPLY   : 451 4.7.0 rate limited',
  ]);
  const other = lines.slice(lines.indexOf('TARGET SERVER 192.0.2.11'));
  assert.ok(!other.some((l) => l.startsWith('RATE') || l.startsWith('BACKOFF')), 'no limiter state: no rate lines');
  assert.ok(render(cmd('D,TARGETS,ADDR=192.0.2.10'), s).includes('BACKOFF      : LEVEL 2, 500 MS APART (3 RATE REPLIES)'));
  assert.ok(!render(cmd('D,TARGETS'), { ...s, compat: 'ibm' }).some((l) => l.startsWith('RATE') || l.startsWith('BACKOFF')));
});

test('(ext) snapshot: a target whose statement sets no limit and never got a rate reply has no rate part', () => {
  const base = { addr: { address: '192.0.2.1', port: 25, source: { kind: 'TargetIP' as const }, server: { connectLimit: 1, maxMsgSent: 0, messageSize: 1, secure: false } }, state: 'ACTIVE' as const, capabilities: undefined, counters: { mailAttempts: 0, mailSent: 0, connectFail: 0 }, lastError: '', acquire: async () => { throw new Error('unused'); } };
  const idle = { msgPerSecond: null, msgPerMinute: null, rcptPerMsg: null, connectPerMinute: null, backoff: true, sentLastSecond: null, sentLastMinute: null, connectsLastMinute: null, backoffLevel: 0, backoffSpacingMs: 0, rateReplies: 0, lastRateReply: '' };
  assert.equal(targetSnapshot({ ...base, limiter: { snapshot: () => idle } }).rate, undefined);
  assert.equal(targetSnapshot({ ...base, limiter: { snapshot: () => ({ ...idle, rateReplies: 1, backoffLevel: 1 }) } }).rate?.backoffLevel, 1);
  assert.equal(targetSnapshot({ ...base, limiter: { snapshot: () => ({ ...idle, msgPerMinute: 30 }) } }).rate?.msgPerMinute, 30);
});

test('R3 item 7: (ext) D,SPOOL lists parked files (all remaining mail in long retry) under the tasks; not with DisplayCompat IBM', () => {
  const s = snap({
    instance: 'TEST',
    tasks: [task(1, 'WRITER', 'NEXT', 'READ', 3, 0), task(2, 'WRITER', 'PAYROLL', 'IDLE', 0, 0)],
    parked: [{ tkid: 2, jobName: 'PAYROLL', jobId: 'JOB00123', lrt: 1, mailRead: 5000, undeliverable: 4999 }],
  });
  assert.deepEqual(render(cmd('D,SPOOL'), s), [
    'EZD1832I TEST SPOOLSTATUS:',
    'TKID  JOBNAME  STATE   PEND   LRT    TKID  JOBNAME  STATE   PEND   LRT',
    'W 001 NEXT     READ       3     0    W 002 PAYROLL  IDLE       0     0',
    'PARKED (ALL REMAINING MAIL IN LONG RETRY): 1',
    'W 002 PAYROLL  JOB00123 LRT 1 MAIL READ 5000 UNDELIVERABLE 4999',
  ]);
  assert.deepEqual(render(cmd('D,SPOOL,DETAIL')/* all */, s).slice(-2), ['PARKED (ALL REMAINING MAIL IN LONG RETRY): 1', 'W 002 PAYROLL  JOB00123 LRT 1 MAIL READ 5000 UNDELIVERABLE 4999']);
  assert.equal(render(cmd('D,SPOOL,DETAIL,TKID=2'), s).some((l) => l.startsWith('PARKED')), false);
  assert.equal(render(cmd('D,SPOOL'), { ...s, compat: 'ibm' }).some((l) => l.startsWith('PARKED')), false);
});
