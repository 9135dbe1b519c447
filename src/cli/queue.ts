// `spoolgate queue` and `spoolgate deadletter` (O1 #17, docs/queue.md): the operator's queue
// commands, as Postfix's mailq/postsuper/postcat/qshape. They talk to the running instance over
// its control socket, as `spoolgate modify` does, by sending the ext MODIFY commands
// (DISPLAY,QUEUE, HOLD, ...: src/control/queue-commands.ts) and printing the answer lines, or the
// answer's data with --json. When the instance is not running they say so and exit 1. The
// operator named in the journal is the user running the command (BY=).
import { sendCommand, quoteOperand } from '../control/index.js';
import { processIo, type CliIo } from './io.js';
import { parseCommand, usageError } from './parse.js';
import { parseAge, sinceError } from './since.js';
import { besideSocket, controlSocket } from './modify.js';

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
  const args = parseCommand(cmd, argv, io);
  if (typeof args === 'number') return args;
  const v = args.values as Values;
  // --min-age: minutes as before, or the common WHEN syntax (cli/since.ts) turned into minutes.
  if (typeof v['min-age'] === 'string') {
    const ms = parseAge(v['min-age'], Date.now(), 'm');
    if (ms === undefined) return usageError(cmd, io, sinceError('--min-age', v['min-age']));
    v['min-age'] = String(Math.ceil(ms / 60_000));
  }
  const control = controlSocket({ config: v.config as string | undefined, socket: v.socket as string | undefined }, io);
  if (!control.ok) {
    if (control.error.usage) return usageError(cmd, io, control.error.message);
    io.stderr.write(control.error.message);
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
  const usage = (msg: string): number => usageError('queue', io, msg);
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
        return (await send(ctx, ['D,QUEUE', ...filters, `LIMIT=${Math.min(limit ?? PAGE, PAGE)}`, ...(ctx.json ? ['BRIEF'] : [])].join(','))).code;
      }
      // --json: every matching item, in pages, as one {total, items} object.
      const items: unknown[] = [];
      let total: number;
      for (let offset = 0; ; offset += PAGE) {
        const r = await send(ctx, ['D,QUEUE', ...filters, `LIMIT=${PAGE}`, `OFFSET=${offset}`, 'BRIEF'].join(','), false);
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
  const usage = (msg: string): number => usageError('deadletter', io, msg);
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
      const given = typeof v['older-than'] === 'string' ? v['older-than'] : undefined;
      if (id !== undefined || given === undefined) return usage('purge needs --older-than AGE (days, or 30d, or an ISO date)');
      // Days as before, or the common WHEN syntax (cli/since.ts), rounded up to whole days (never removes more than asked).
      const ms = parseAge(given, Date.now(), 'd');
      if (ms === undefined) return usage(sinceError('--older-than', given));
      const days = String(Math.ceil(ms / 86_400_000));
      if (days.length > 4) return usage('--older-than: at most 9999 days');
      if (v.yes !== true && !(await confirm(io, `remove every dead letter stored more than ${days} days ago?`))) { io.stderr.write('spoolgate deadletter: nothing removed (answer y, or use --yes)\n'); return 1; }
      return (await send(ctx, `PURGEDEAD,AGE=${days}${who}`)).code;
    }
    case undefined: return usage('no action given');
    default: return usage(`unknown action "${action}"`);
  }
}
