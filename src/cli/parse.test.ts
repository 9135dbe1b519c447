// O2 #18 item 8: one parsing layer (cli/parse.ts over the table of cli/commands.ts) for every
// subcommand: the same --help layout, --json where data is printed, the option spellings that
// worked with each command's own node:util parseArgs still working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../testing/peers.js';
import { captureIo, runCli } from '../testing/cli.js';
import { COMMANDS } from './commands.js';
import { main } from './index.js';
import { parseCommand } from './parse.js';

test('every subcommand\'s --help: synopsis, each option with what it does, exit codes, an example, the configuration used', async (t) => {
  const conf = join(tempDir(t), 'here.conf');
  writeFileSync(conf, 'TargetServer { TargetIP 127.0.0.1 }\n');
  const env = { ...process.env, SPOOLGATE_CONFIG: conf };
  for (const c of COMMANDS) {
    const r = await runCli(main, [c.name, '--help'], { env });
    assert.equal(r.code, 0, `${c.name}: ${r.stderr}`);
    assert.equal(r.stderr, '', c.name);
    const out = r.stdout;
    assert.ok(out.startsWith(`usage: spoolgate ${c.name} `), `${c.name}: ${out.slice(0, 80)}`);
    for (const o of c.options) assert.ok(out.includes(`  ${o.flags}`), `${c.name}: ${o.flags} in the help`);
    assert.match(out, /\noptions:\n(.|\n)*-h, --help +print this help\n/, c.name);
    assert.match(out, /\nexit codes:\n {3}0 {2}\S/, c.name);
    assert.match(out, /\nexamples?:\n {2}(sudo )?(echo .*\| |printf .*\| )?spoolgate /, c.name);
    if (c.usesConfig) assert.ok(out.endsWith(`\n\nconfiguration: ${conf} (from the environment)\n`), `${c.name}: ${out.slice(-200)}`);
  }
});

test('--json is offered by every command that prints data', () => {
  const data = ['accounting', 'config', 'db', 'deadletter', 'doctor', 'journal', 'modify', 'queue', 'spool', 'status', 'user'];
  for (const name of data) {
    const c = COMMANDS.find((x) => x.name === name)!;
    assert.ok(c.options.some((o) => o.flags === '--json'), name);
  }
});

test('the spellings that worked before still parse to the same values', () => {
  const cases: { cmd: string; argv: string[]; values: Record<string, unknown>; positionals: string[] }[] = [
    { cmd: 'queue', argv: ['list', '--config', '/c', '--state', 'retry,held', '--json'], values: { config: '/c', state: 'retry,held', json: true }, positionals: ['list'] },
    { cmd: 'queue', argv: ['-c', '/c', 'delete', 'Q1', '-y', '--reason=spam'], values: { config: '/c', yes: true, reason: 'spam' }, positionals: ['delete', 'Q1'] },
    { cmd: 'queue', argv: ['list', '--min-age', '30', '--socket', '/s'], values: { 'min-age': '30', socket: '/s' }, positionals: ['list'] },
    { cmd: 'deadletter', argv: ['purge', '--older-than', '30', '--yes'], values: { 'older-than': '30', yes: true }, positionals: ['purge'] },
    { cmd: 'doctor', argv: ['--no-targets', '--user', 'spoolgate'], values: { 'no-targets': true, user: 'spoolgate' }, positionals: [] },
    { cmd: 'start', argv: ['-F', '-p', 'TCPIP', '--once'], values: { F: true, stack: 'TCPIP', once: true }, positionals: [] },
    { cmd: 'start', argv: ['-f', '-P', 'TCPIPB'], values: { cold: true, P: 'TCPIPB' }, positionals: [] },
    { cmd: 'start', argv: ['--cold'], values: { cold: true }, positionals: [] },
    { cmd: 'accounting', argv: ['--type', 'MAIL', '--type', '49', '--summary'], values: { type: ['MAIL', '49'], summary: true }, positionals: [] },
    { cmd: 'note', argv: ['--to', 'a@x', '--to', 'b@x', '--attach', 'f1', '--subject', 'S', '--body', '-'], values: { to: ['a@x', 'b@x'], attach: ['f1'], subject: 'S', body: '-' }, positionals: [] },
    { cmd: 'submit', argv: ['--spool-dir', '/sp', '--writer', 'W', '--record-format', 'fixed', 'a.smtp', '-'], values: { 'spool-dir': '/sp', writer: 'W', 'record-format': 'fixed' }, positionals: ['a.smtp', '-'] },
    { cmd: 'user', argv: ['--db', '/d', 'add', 'alice', '--password-stdin'], values: { db: '/d', 'password-stdin': true }, positionals: ['add', 'alice'] },
    { cmd: 'modify', argv: ['--config', '/c', 'CSSMTP', 'D,TARGETS'], values: { config: '/c' }, positionals: ['CSSMTP', 'D,TARGETS'] },
    { cmd: 'journal', argv: ['--db', '/d', '--id', 'X', '--limit', '5', '--json'], values: { db: '/d', id: 'X', limit: '5', json: true }, positionals: [] },
    { cmd: 'init', argv: ['--prefix', '/p', '--dry-run', '--force'], values: { prefix: '/p', 'dry-run': true, force: true }, positionals: [] },
    { cmd: 'pdfmail', argv: ['--to', 'a@x', '--format', 'fb:133', '--carriage', 'asa', 'r.txt'], values: { to: ['a@x'], format: 'fb:133', carriage: 'asa' }, positionals: ['r.txt'] },
  ];
  for (const c of cases) {
    const io = captureIo();
    const r = parseCommand(c.cmd, c.argv, io);
    assert.notEqual(typeof r, 'number', `${c.cmd} ${c.argv.join(' ')}: ${io.err()}`);
    assert.deepEqual(r, { values: c.values, positionals: c.positionals }, `${c.cmd} ${c.argv.join(' ')}`);
  }
});

test('a usage error: exit 2, the reason and the usage on stderr, nothing on stdout', () => {
  for (const argv of [['--bogus'], ['--since'], ['-x']]) {
    const io = captureIo();
    assert.equal(parseCommand('journal', argv, io), 2, argv.join(' '));
    assert.equal(io.out(), '');
    assert.match(io.err(), /^spoolgate journal: (unknown option '-(-bogus|x)'|option '--since <when>' argument missing)\nusage: spoolgate journal /);
  }
});
