// R1: `spoolgate journal` returns the receiver's events (by id, sender, recipient, time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { run } from '../../src/cli/journal.js';
import { TEST_BACKEND } from '../../src/testing/backend.js';
import { runCli } from '../../src/testing/cli.js';
import { runAsync, sendOne, startTestReceiver } from './receiver-harness.js';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runCli(run, argv);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

test('spoolgate journal: by id, sender, recipient, since; --db and --config', async (t) => {
  const r = await startTestReceiver(t);
  const res = await sendOne(r.port, 'S@Client.Test', ['alice@local.test', 'victim@far.test'], Buffer.from('Subject: j\r\n\r\nx\r\n'));
  assert.equal(res.rcpts[1]!.code, 550);
  const id = /queued as (\S+)/.exec(res.data!.text)![1]!;
  // The journal of the configuration: <StateDirectory>/spoolgate.db, or with Store Backend
  // PostgreSQL the shared table; every query goes through --config, and on SQLite --db (the file
  // named directly) must answer the same.
  const conf = ['--config', r.config.configFile];
  const db = join(r.config.stateDirectory, 'spoolgate.db');
  const both = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    const viaConfig = await cli([...conf, ...argv]);
    if (TEST_BACKEND === 'sqlite') assert.deepEqual(await cli(['--db', db, ...argv]), viaConfig, `--db answers as --config: ${argv.join(' ')}`);
    return viaConfig;
  };

  const byId = await both(['--id', id]);
  assert.equal(byId.code, 0, byId.err);
  const lines = byId.out.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, new RegExp(`^\\S+Z received +${id} <S@Client\\.Test> -> <alice@local\\.test> ip=127\\.0\\.0\\.1 94 local mail`));
  assert.match(lines[1]!, /delivered .* user=alice B8 delivered to mailbox of alice/);

  const refused = await both(['--to', '<VICTIM@far.test>']);
  assert.match(refused.out, /relay-refused .*<S@Client\.Test> -> <victim@far\.test> ip=127\.0\.0\.1 9V RELAY REFUSED 127\.0\.0\.1/);

  const bySender = await both(['--from', 's@client.test', '--json']);
  const events = bySender.out.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
  assert.deepEqual(events.map((e) => e.type), ['relay-refused', 'received', 'delivered']);

  assert.equal((await both(['--since', '2999-01-01'])).out, '');
  assert.equal((await both(['--since', 'yesterday'])).code, 2);
  // O2 #18 item 8: the one --since syntax (cli/since.ts): a duration back from now, as accounting
  // took it (journal took ISO only and refused 1h with exit 2).
  const recent = await both(['--from', 's@client.test', '--since', '1h']);
  assert.equal(recent.code, 0, recent.err);
  assert.equal(recent.out.trim().split('\n').length, 3);
  assert.equal((await cli(['--db', join(r.dir, 'missing.db')])).code, 1);
  // Neither --db nor a configuration (the search finds none: $SPOOLGATE_CONFIG names a missing file).
  const none = await runCli(run, [], { env: { ...process.env, SPOOLGATE_CONFIG: join(r.dir, 'missing.conf') } });
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /missing\.conf/);

  // Through the real command table as an operator runs it.
  const out = await runAsync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'journal', ...conf, '--id', id]);
  assert.equal(out, byId.out);
});
