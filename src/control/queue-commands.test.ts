import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCommand, parseCommand } from './parse.js';

const GOOD: readonly { name: string; input: string; want: Record<string, unknown>; canonical: string }[] = [
  { name: 'list, no filter', input: 'D,QUE', want: { kind: 'queue-list', filter: { limit: 100, offset: 0 } }, canonical: 'DISPLAY,QUEUE' },
  {
    name: 'list with filters (AGE in minutes)', input: 'DISPLAY,QUEUE,STATE=retry,SENDER=<Job@Corp.test>,AGE=5,LIMIT=10',
    want: { kind: 'queue-list', filter: { states: ['retry'], sender: 'job@corp.test', minAge: 300, limit: 10, offset: 0 } },
    canonical: "DISPLAY,QUEUE,STATE=retry,SENDER='<Job@Corp.test>',AGE=5,LIMIT=10",
  },
  { name: 'show', input: 'D,QUEUE,ID=0123456789ab-2', want: { kind: 'queue-show', id: '0123456789ab-2', body: false }, canonical: 'DISPLAY,QUEUE,ID=0123456789ab-2' },
  { name: 'show with body', input: 'D,QUEUE,ID=0123456789ab-2,BODY', want: { kind: 'queue-show', id: '0123456789ab-2', body: true }, canonical: 'DISPLAY,QUEUE,ID=0123456789ab-2,BODY' },
  { name: 'qshape default', input: 'D,QSHAPE', want: { kind: 'queue-shape', by: 'domain' }, canonical: 'DISPLAY,QSHAPE,BY=DOMAIN' },
  { name: 'qshape by target', input: 'd,qshape,by=target', want: { kind: 'queue-shape', by: 'target' }, canonical: 'DISPLAY,QSHAPE,BY=TARGET' },
  { name: 'dead letters', input: 'D,DEAD', want: { kind: 'queue-deadletters' }, canonical: 'DISPLAY,DEADLETTERS' },
  { name: 'held files', input: 'D,HELD', want: { kind: 'queue-held' }, canonical: 'DISPLAY,HELD' },
  { name: 'held report', input: 'D,HELD,ID=JOB1.txt', want: { kind: 'queue-held', id: 'JOB1.txt' }, canonical: 'DISPLAY,HELD,ID=JOB1.txt' },
  {
    name: 'hold one, a quoted reason with blanks, commas and a quote', input: "HOLD,ID=0123456789ab-1,REASON='customer''s request, see ticket 7',BY=alice",
    want: { kind: 'queue-action', action: 'hold', id: '0123456789ab-1', reason: "customer's request, see ticket 7", by: 'alice' },
    canonical: "HOLD,ID=0123456789ab-1,REASON='customer''s request, see ticket 7',BY=alice",
  },
  {
    name: 'hold by sender (a flood)', input: 'HOLD,SENDER=spammer@corp.test,REASON=flood',
    want: { kind: 'queue-action', action: 'hold', filter: { sender: 'spammer@corp.test', limit: 100, offset: 0 }, filterText: 'SENDER=spammer@corp.test', reason: 'flood' },
    canonical: 'HOLD,SENDER=spammer@corp.test,REASON=flood',
  },
  { name: 'delete', input: 'DELETE,ID=0123456789ab-9', want: { kind: 'queue-action', action: 'delete', id: '0123456789ab-9', reason: '' }, canonical: 'DELETE,ID=0123456789ab-9' },
  { name: 'requeue', input: 'REQUEUE,ID=mhw0l2b30abcdefghijk', want: { kind: 'queue-requeue', id: 'mhw0l2b30abcdefghijk', reason: '' }, canonical: 'REQUEUE,ID=mhw0l2b30abcdefghijk' },
  { name: 'purge dead letters', input: 'PURGEDEAD,AGE=30', want: { kind: 'queue-purgedead', days: 30, reason: '' }, canonical: 'PURGEDEAD,AGE=30' },
  { name: 'release a held file', input: 'RELEASEHELD,ID=JOB1.txt', want: { kind: 'queue-held-action', action: 'release', id: 'JOB1.txt', reason: '' }, canonical: 'RELEASEHELD,ID=JOB1.txt' },
];

for (const c of GOOD) {
  test(`queue command parses: ${c.name}`, () => {
    const r = parseCommand(c.input);
    assert.ok(r.ok, r.ok ? '' : r.error.detail);
    const got = Object.fromEntries(Object.entries(r.value).filter(([k]) => k !== 'text'));
    assert.deepEqual(got, c.want);
    assert.equal(formatCommand(r.value), c.canonical);
    // The canonical form parses to the same command.
    const again = parseCommand(formatCommand(r.value));
    assert.ok(again.ok);
    assert.deepEqual(Object.fromEntries(Object.entries(again.value).filter(([k]) => k !== 'text')), c.want);
  });
}

const BAD: readonly { input: string; want: RegExp }[] = [
  { input: 'HOLD', want: /HOLD NEEDS ID=qid OR A FILTER/ },
  { input: 'HOLD,LIMIT=5', want: /HOLD NEEDS ID=qid OR A FILTER/ },
  { input: 'DELETE,ID=', want: /ID NEEDS A VALUE/ },
  { input: 'D,QUEUE,STATE=frozen', want: /UNKNOWN STATE 'FROZEN'/ },
  { input: `D,QUEUE,SENDER=${'a'.repeat(400)}`, want: /LONGER THAN 320/ },
  { input: 'D,QUEUE,AGE=-1', want: /AGE VALUE '-1'/ },
  { input: 'D,QUEUE,COLOUR=red', want: /OPERAND 'COLOUR=red' NOT VALID FOR DISPLAY,QUEUE/ },
  { input: "HOLD,ID=x,REASON='not closed", want: /NOT CLOSED/ },
  { input: "HOLD,ID=x,REASON='a'b", want: /TEXT AFTER THE CLOSING QUOTE/ },
  { input: 'HOLD,ID=x,REASON=two words', want: /BLANK INSIDE OPERAND/ },
  { input: 'HOLD,ID=x,BY=a b', want: /BLANK INSIDE OPERAND/ },
  { input: 'PURGEDEAD', want: /PURGEDEAD NEEDS AGE=days/ },
  { input: 'D,QSHAPE,BY=planet', want: /USE BY=TARGET OR BY=DOMAIN/ },
  // Actions on mail are whole words: no abbreviation deletes anything.
  { input: 'DEL,ID=0123456789ab-1', want: /UNKNOWN COMMAND 'DEL/ },
];

for (const c of BAD) {
  test(`queue command refused: ${c.input.slice(0, 40)}`, () => {
    const r = parseCommand(c.input);
    assert.ok(!r.ok, `parsed: ${JSON.stringify(r)}`);
    assert.match(r.error.detail, c.want);
  });
}
