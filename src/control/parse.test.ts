import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abbreviates, formatCommand, parseCommand, type Command } from './parse.js';

const GOOD: readonly { input: string; want: Command }[] = [
  // Display and its abbreviations (capitals are the minimum)
  { input: 'D,TARGET', want: { kind: 'display-targets' } },
  { input: 'DIS,TARGETS', want: { kind: 'display-targets' } },
  { input: 'DISPLAY,TARGETS,ADDR=::1', want: { kind: 'display-targets', addr: '::1' } },
  { input: 'd,targets,addr=192.0.2.1', want: { kind: 'display-targets', addr: '192.0.2.1' } },
  { input: 'DISP, TARGETS, ADDR=1.1.1.1', want: { kind: 'display-targets', addr: '1.1.1.1' } },
  { input: 'D,CONF', want: { kind: 'display-config' } },
  { input: 'DISPLAY,CONFIG', want: { kind: 'display-config' } },
  { input: 'D,IP', want: { kind: 'display-iplist' } },
  { input: 'D,IPL', want: { kind: 'display-iplist' } },
  { input: 'DIS,IPLIST', want: { kind: 'display-iplist' } },
  { input: 'DISPLAY,LOG', want: { kind: 'display-loglevel' } },
  { input: 'DISplay,LOGlevel', want: { kind: 'display-loglevel' } },
  { input: 'D,SPOOL', want: { kind: 'display-spool-summary' } },
  { input: 'D,SPOOLSTATUS,SUMMARY', want: { kind: 'display-spool-summary' } },
  { input: 'D,SPOOLS,S', want: { kind: 'display-spool-summary' } },
  { input: 'F,Display,Spoolstatus,detail'.slice(2), want: { kind: 'display-spool-detail' } },
  { input: 'D,SPOOL,D,ALL', want: { kind: 'display-spool-detail' } },
  { input: 'DISPLAY,SPOOLSTATUS,DETAIL,TKID=11', want: { kind: 'display-spool-detail', tkid: 11 } },
  // Actions
  { input: 'FLUSHR,TKID=0', want: { kind: 'flushretry-tkid', tkid: 0 } },
  { input: 'FLUSHRETRY, TKID=2', want: { kind: 'flushretry-tkid', tkid: 2 } },
  { input: 'FLUSHRETRY,AGE=0', want: { kind: 'flushretry-age', days: 0 } },
  { input: 'flushretry,age=2', want: { kind: 'flushretry-age', days: 2 } },
  { input: 'LOGL,LEVEL=15', want: { kind: 'loglevel', level: 15 } },
  { input: 'LOGLEVEL,LEVEL=255', want: { kind: 'loglevel', level: 255 } },
  { input: 'LOGLEVEL', want: { kind: 'loglevel' } },
  { input: 'LOGLEVEL,LEVEL=', want: { kind: 'loglevel' } },
  { input: 'USER,LEVEL=NONE', want: { kind: 'userexit', value: null } },
  { input: 'USEREXIT,LEVEL=/opt/exits/Check.js', want: { kind: 'userexit', value: '/opt/exits/Check.js' } },
  { input: 'USEREXIT', want: { kind: 'userexit' } },
  // Issue #16 item 5: the seed's VERSION2/VERSION3 (and VERSION4) are accepted, the exit unchanged.
  { input: 'USEREXIT,LEVEL=VERSION2', want: { kind: 'userexit', mvsExit: 'VERSION2' } },
  { input: 'USER,LEVEL=version3', want: { kind: 'userexit', mvsExit: 'VERSION3' } },
  { input: 'REFRESH', want: { kind: 'refresh' } },
  { input: 'refresh', want: { kind: 'refresh' } },
  { input: 'REFRESH,ALL', want: { kind: 'refresh', all: true } },
  { input: 'refresh,all', want: { kind: 'refresh', all: true } },
  { input: 'REFRESHIP', want: { kind: 'refresh-iplist' } },
  { input: 'REFRESHIPLIST', want: { kind: 'refresh-iplist' } },
  { input: 'REFRESHT', want: { kind: 'refresh-targets' } },
  { input: 'REFRESHTARGETS', want: { kind: 'refresh-targets' } },
  { input: 'SUS', want: { kind: 'suspend', mode: 'immediate' } },
  { input: 'SUSPEND,I', want: { kind: 'suspend', mode: 'immediate' } },
  { input: 'SUSP,IMMEDIATE', want: { kind: 'suspend', mode: 'immediate' } },
  { input: 'SUSPEND,DELAY', want: { kind: 'suspend', mode: 'delay' } },
  { input: 'SUS,D', want: { kind: 'suspend', mode: 'delay' } },
  { input: 'RES', want: { kind: 'resume' } },
  { input: '  RESUME  ', want: { kind: 'resume' } },
];

const BAD: readonly { input: string; want: RegExp }[] = [
  { input: '', want: /NO COMMAND GIVEN/ },
  // (ext, [P2]) REFRESH,ALL takes nothing after ALL, and nothing else after REFRESH.
  { input: 'REFRESH,ALL,NOW', want: /OPERAND 'NOW' NOT VALID FOR REFRESH,ALL/ },
  { input: 'REFRESH,ALL,X=1', want: /OPERAND 'X=1' NOT VALID FOR REFRESH,ALL/ },
  { input: 'REFRESH,ALL=YES', want: /OPERAND 'ALL=YES' NOT VALID FOR REFRESH/ },
  { input: 'REFRESH,AL', want: /OPERAND 'AL' NOT VALID FOR REFRESH/ },
  { input: "REFRESH,ALL,'; DROP TABLE nodes", want: /NOT VALID FOR REFRESH,ALL|BLANK INSIDE/ },
  { input: 'DI', want: /DISPLAY NEEDS/ },
  { input: 'DISPLAYX,TARGETS', want: /UNKNOWN COMMAND 'DISPLAYX'/ },
  { input: 'D,TARGE', want: /UNKNOWN DISPLAY 'TARGE'/ },
  { input: 'D,TARGETSS', want: /UNKNOWN DISPLAY/ },
  { input: 'D,CON', want: /UNKNOWN DISPLAY 'CON'/ },
  { input: 'D,I', want: /UNKNOWN DISPLAY/ },
  { input: 'D,SPOO', want: /UNKNOWN DISPLAY/ },
  { input: 'D,TARGETS,ADDR=not-an-ip', want: /IS NOT AN IP ADDRESS/ },
  { input: 'D,TARGETS,ADDR=', want: /IS NOT AN IP ADDRESS/ },
  { input: 'D,TARGETS,IP=1.1.1.1', want: /OPERAND 'IP=1.1.1.1' NOT VALID FOR DISPLAY,TARGETS/ },
  { input: 'D,TARGETS,ADDR=1.1.1.1,X', want: /OPERAND 'X' NOT VALID/ },
  { input: 'D,CONFIG,EXTRA', want: /NOT VALID FOR DISPLAY,CONFIG/ },
  { input: 'D,SPOOL,X', want: /NOT VALID FOR DISPLAY,SPOOLSTATUS/ },
  { input: 'D,SPOOL,S,ALL', want: /NOT VALID FOR DISPLAY,SPOOLSTATUS,SUMMARY/ },
  { input: 'D,SPOOL,DETAIL,TKID=x', want: /TKID VALUE 'x' IS NOT A WHOLE NUMBER/ },
  { input: 'D,SPOOL,DETAIL,TKID=1000', want: /NOT A WHOLE NUMBER 0-999/ },
  { input: 'D,SPOOL,DETAIL,ALL,TKID=1', want: /NOT VALID/ },
  { input: 'LOG,LEVEL=15', want: /UNKNOWN COMMAND 'LOG'/ },
  { input: 'LOGL,LEVEL=256', want: /NOT A WHOLE NUMBER 0-255/ },
  { input: 'LOGL,LEVEL=-1', want: /NOT A WHOLE NUMBER/ },
  { input: 'LOGL,LEVL=15', want: /NOT VALID FOR LOGLEVEL/ },
  { input: 'LOGL,15', want: /NOT VALID FOR LOGLEVEL/ },
  { input: 'FLUSHR', want: /NEEDS TKID=tkid OR AGE=days/ },
  { input: 'FLUSH,TKID=0', want: /UNKNOWN COMMAND 'FLUSH'/ },
  { input: 'FLUSHR,TKID=0,AGE=1', want: /NOT VALID FOR FLUSHRETRY/ },
  { input: 'FLUSHR,AGE=366', want: /0-365/ },
  { input: 'FLUSHR,DAYS=1', want: /NOT VALID FOR FLUSHRETRY/ },
  { input: 'REFRESHI', want: /UNKNOWN COMMAND/ },
  { input: 'REFRESHX', want: /UNKNOWN COMMAND/ },
  { input: 'REFRESH,NOW', want: /NOT VALID FOR REFRESH/ },
  { input: 'SU', want: /UNKNOWN COMMAND/ },
  { input: 'SUS,LATER', want: /USE IMMEDIATE OR DELAY/ },
  { input: 'RE', want: /UNKNOWN COMMAND/ },
  { input: 'RES,NOW', want: /NOT VALID FOR RESUME/ },
  { input: 'D TARGETS', want: /BLANK INSIDE OPERAND/ },
  { input: 'D,,TARGETS', want: /EMPTY OPERAND/ },
  { input: 'TKID=1', want: /IS NOT A COMMAND/ },
];

test('parseCommand accepts the seed\'s commands and abbreviations', () => {
  for (const c of GOOD) {
    const r = parseCommand(c.input);
    assert.ok(r.ok, `${c.input}: ${r.ok ? '' : r.error.detail}`);
    assert.deepEqual(r.value, c.want, c.input);
  }
});

test('parseCommand rejects bad commands with a reason', () => {
  for (const c of BAD) {
    const r = parseCommand(c.input);
    assert.ok(!r.ok, `${JSON.stringify(c.input)} should fail`);
    assert.match(r.error.detail, c.want, c.input);
  }
});

test('formatCommand output parses back to the same command', () => {
  for (const c of GOOD) {
    const again = parseCommand(formatCommand(c.want));
    assert.ok(again.ok);
    assert.deepEqual(again.value, c.want, formatCommand(c.want));
  }
});

test('abbreviates: minimum is the capital letters, any longer prefix of the word', () => {
  const table: [string, string, boolean][] = [
    ['D', 'Display', true], ['DISPLAY', 'Display', true], ['DISPLAYS', 'Display', false], ['', 'Display', false],
    ['CONF', 'CONFig', true], ['CON', 'CONFig', false], ['TARGET', 'TARGETs', true], ['TARGETS', 'TARGETs', true],
    ['LOGL', 'LOGLevel', true], ['LOG', 'LOGLevel', false], ['FLUSHR', 'FLUSHRetry', true], ['FLUSHRX', 'FLUSHRetry', false],
  ];
  for (const [tok, spec, want] of table) assert.equal(abbreviates(tok, spec), want, `${tok} ~ ${spec}`);
});
