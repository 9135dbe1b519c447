// `spoolgate queue` and `spoolgate deadletter` (O1 #17, docs/queue.md): the operator's queue
// commands, as Postfix's mailq/postsuper/postcat/qshape. They talk to the running instance over
// its control socket, as `spoolgate modify` does, by sending the ext MODIFY commands
// (DISPLAY,QUEUE, HOLD, ...: src/control/queue-commands.ts) and printing the answer lines, or the
// answer's data with --json. When the instance is not running they say so and exit 1. The
// operator named in the journal is the user running the command (BY=).
import { parseArgs } from 'node:util';
import { describeError } from '../core/errors.js';
import { sendCommand, quoteOperand } from '../control/index.js';
import { processIo, type CliIo } from './io.js';
import { configHelpLine } from './config-file.js';
import { besideSocket, controlSocket } from './modify.js';

const QUEUE_USAGE = `usage: spoolgate queue <action> [options] (--config FILE | --socket PATH)
  list [filters] [--json]         messages waiting, oldest first (all of them; --limit N for fewer)
  show ID [--body] [--json]       envelope, recipients and their replies, history, headers (--body: the message)
  hold|release|retry|bounce|delete (ID | filters) [--reason TEXT] [--operator NAME] [--yes]
                                  hold: no attempt until released; release: tried at once;
                                  retry: tried now; bounce: undeliverable, the sender is notified;
                                  delete: removed, nobody is notified (asks unless --yes)
  shape [--by domain|target]      age histogram (Postfix qshape): minutes 5, 10, 20, 40, ... 2560+
  filters: --state S[,S] (processing, retry, extended, held, dead, quarantined) --job NAME|ID
           --sender ADDR --recipient ADDR --target IP --domain DOMAIN --min-age MINUTES`;

const DEAD_USAGE = `usage: spoolgate deadletter <action> [options] (--config FILE | --socket PATH)
  list [--json]                   stored dead letters: queue id, dead-letter id, time, sender, reason
  requeue ID [--reason TEXT]      put it back on the spool (sent again); ID: dead-letter id or queue id
  purge --older-than DAYS [--yes] remove dead letters stored more than DAYS days ago`;

const FILTERS = { state: 'STATE', job: 'JOB', sender: 'SENDER', recipient: 'RCPT', target: 'TARGET', domain: 'DOMAIN', 'min-age': 'AGE' } as const;
/** Items per DISPLAY,QUEUE page (the queue role's MAX_LIMIT). */
const PAGE = 10_000;

type Values = Record<string, string | boolean | undefined>;

function filterOperands(v: Values): string[] {
  const out: string[] = [];
  for (const [opt, key] of Object.entries(FILTERS)) {
    const val = v[opt];
    if (typeof val === 'string') out.push(`${key}=${quoteOperand(val)}`);
  }
  return out;
}

/** The user running the command, as the operator the journal names. */
function operatorName(io: CliIo): string {
  const n = (io.env.SUDO_USER ?? io.env.USER ?? io.env.LOGNAME ?? 'cli').replace(/[^\x21-\x7e]/g, '_').slice(0, 64);
  return n === '' ? 'cli' : n;
}

/** Reads one answer line from standard input: true for y/yes. */
async function confirm(io: CliIo, question: string): Promise<boolean> {
  io.stderr.write(`${question} [y/N] `);
  let text = '';
  for await (const chunk of io.stdin) {
    text += chunk.toString('utf8');
    if (text.includes('\n') || text.length > 256) break;
  }
  return /^\s*y(es)?\s*$/i.test(text.split('\n')[0] ?? '');
}

interface Ctx {
  readonly io: CliIo;
  readonly cmd: string;
  readonly socket: string;
  readonly json: boolean;
  readonly timeoutMs: number | undefined;
}

/** Sends one MODIFY line; prints the lines (or --json data); the exit code. */
async function send(c: Ctx, line: string, print = true): Promise<{ code: number; data?: unknown }> {
  const r = await sendCommand(c.socket, line, c.timeoutMs === undefined ? {} : { timeoutMs: c.timeoutMs });
  if (!r.ok) {
    c.io.stderr.write(`spoolgate ${c.cmd}: the instance is not reachable: ${r.error}\n`);
    return { code: 1 };
  }
  if (print) {
    if (c.json) c.io.stdout.write(JSON.stringify(r.value.data, null, 2) + '\n');
    else for (const l of r.value.lines) (r.value.ok ? c.io.stdout : c.io.stderr).write(l + '\n');
  }
  return { code: r.value.ok ? 0 : 1, data: r.value.data };
}

async function start(argv: string[], io: CliIo, cmd: 'queue' | 'deadletter'): Promise<{ ctx: Ctx; v: Values; pos: string[] } | number> {
  const usageText = cmd === 'queue' ? QUEUE_USAGE : DEAD_USAGE;
  let args;
  try {
    args = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' }, socket: { type: 'string' }, json: { type: 'boolean' }, timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' }, body: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' }, reason: { type: 'string' },
        by: { type: 'string' }, operator: { type: 'string' }, limit: { type: 'string' }, 'older-than': { type: 'string' },
        state: { type: 'string' }, job: { type: 'string' }, sender: { type: 'string' }, recipient: { type: 'string' },
        target: { type: 'string' }, domain: { type: 'string' }, 'min-age': { type: 'string' },
      },
    });
  } catch (e) {
    io.stderr.write(`spoolgate ${cmd}: ${describeError(e)}\n${usageText}\n`);
    return 2;
  }
  const v = args.values as Values;
  if (v.help === true) { io.stdout.write(`${usageText}\n${configHelpLine(v.config as string | undefined, io)}\n`); return 0; }
  const control = controlSocket({ config: v.config as string | undefined, socket: v.socket as string | undefined }, io);
  if (!control.ok) {
    io.stderr.write(control.error.usage ? `spoolgate ${cmd}: ${control.error.message}\n${usageText}\n` : control.error.message);
    return 2;
  }
  const socket = v.socket === undefined ? besideSocket(control.value.socketPath, cmd, io) : control.value.socketPath;
  const timeoutMs = v.timeout === undefined ? undefined : Number(v.timeout) * 1000;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) { io.stderr.write(`spoolgate ${cmd}: --timeout takes seconds > 0\n`); return 2; }
  return { ctx: { io, cmd, socket, json: v.json === true, timeoutMs }, v, pos: args.positionals };
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const s = await start(argv, io, 'queue');
  if (typeof s === 'number') return s;
  const { ctx, v, pos } = s;
  const usage = (msg: string): number => { io.stderr.write(`spoolgate queue: ${msg}\n${QUEUE_USAGE}\n`); return 2; };
  const [action, id, ...extra] = pos;
  if (extra.length > 0) return usage(`unexpected "${extra[0]!}"`);
  const who = `${typeof v.reason === 'string' ? `,REASON=${quoteOperand(v.reason)}` : ''},BY=${quoteOperand(typeof v.operator === 'string' ? v.operator : operatorName(io))}`;
  const filters = filterOperands(v);
  switch (action) {
    case 'list': {
      if (id !== undefined) return usage('list takes filters, not an id');
      const limit = v.limit === undefined ? undefined : Number(v.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) return usage('--limit takes a whole number > 0');
      if (!ctx.json || (limit !== undefined && limit <= PAGE)) {
        return (await send(ctx, ['D,QUEUE', ...filters, `LIMIT=${Math.min(limit ?? PAGE, PAGE)}`].join(','))).code;
      }
      // --json: every matching item, in pages, as one {total, items} object.
      const items: unknown[] = [];
      let total: number;
      for (let offset = 0; ; offset += PAGE) {
        const r = await send(ctx, ['D,QUEUE', ...filters, `LIMIT=${PAGE}`, `OFFSET=${offset}`].join(','), false);
        if (r.code !== 0) return (await send(ctx, ['D,QUEUE', ...filters, `LIMIT=1`].join(','))).code;
        const d = r.data as { total: number; items: unknown[] };
        total = d.total;
        items.push(...d.items);
        if (d.items.length < PAGE || items.length >= (limit ?? Infinity)) break;
      }
      io.stdout.write(JSON.stringify({ total, items: items.slice(0, limit ?? items.length) }, null, 2) + '\n');
      return 0;
    }
    case 'show':
      if (id === undefined) return usage('show needs a queue id');
      return (await send(ctx, `D,QUEUE,ID=${quoteOperand(id)}${v.body === true ? ',BODY' : ''}`)).code;
    case 'shape': {
      const by = typeof v.by === 'string' ? v.by.toLowerCase() : 'domain';
      if (by !== 'domain' && by !== 'target') return usage('--by takes domain or target');
      return (await send(ctx, `D,QSHAPE,BY=${by.toUpperCase()}`)).code;
    }
    case 'hold': case 'release': case 'retry': case 'bounce': case 'delete': {
      if (id === undefined && filters.length === 0) return usage(`${action} needs a queue id or a filter (--sender, --recipient, --domain, --target, --job, --state, --min-age)`);
      if (id !== undefined && filters.length > 0) return usage(`${action} takes a queue id or filters, not both`);
      if (action === 'delete' && v.yes !== true) {
        const what = id ?? `every message matching ${filters.join(' ')}`;
        if (!(await confirm(io, `delete ${what} without notifying anyone?`))) { io.stderr.write('spoolgate queue: not deleted (answer y, or use --yes)\n'); return 1; }
      }
      const target = id !== undefined ? `ID=${quoteOperand(id)}` : filters.join(',');
      return (await send(ctx, `${action.toUpperCase()},${target}${who}`)).code;
    }
    case undefined: return usage('no action given');
    default: return usage(`unknown action "${action}"`);
  }
}

export async function runDeadLetter(argv: string[], io: CliIo = processIo): Promise<number> {
  const s = await start(argv, io, 'deadletter');
  if (typeof s === 'number') return s;
  const { ctx, v, pos } = s;
  const usage = (msg: string): number => { io.stderr.write(`spoolgate deadletter: ${msg}\n${DEAD_USAGE}\n`); return 2; };
  const [action, id, ...extra] = pos;
  if (extra.length > 0) return usage(`unexpected "${extra[0]!}"`);
  const who = `${typeof v.reason === 'string' ? `,REASON=${quoteOperand(v.reason)}` : ''},BY=${quoteOperand(typeof v.operator === 'string' ? v.operator : operatorName(io))}`;
  switch (action) {
    case 'list':
      if (id !== undefined) return usage('list takes no id');
      return (await send(ctx, 'D,DEADLETTERS')).code;
    case 'requeue':
      if (id === undefined) return usage('requeue needs a dead-letter id');
      return (await send(ctx, `REQUEUE,ID=${quoteOperand(id)}${who}`)).code;
    case 'purge': {
      const days = typeof v['older-than'] === 'string' ? v['older-than'] : undefined;
      if (id !== undefined || days === undefined || !/^[0-9]{1,4}$/.test(days)) return usage('purge needs --older-than DAYS (a whole number)');
      if (v.yes !== true && !(await confirm(io, `remove every dead letter stored more than ${days} days ago?`))) { io.stderr.write('spoolgate deadletter: nothing removed (answer y, or use --yes)\n'); return 1; }
      return (await send(ctx, `PURGEDEAD,AGE=${days}${who}`)).code;
    }
    case undefined: return usage('no action given');
    default: return usage(`unknown action "${action}"`);
  }
}
