// The queue as REST resources (docs/http.md "Queue", the O1 contract): list, summary, shape and
// show of queued messages, the actions on one message, dead letters and held spool files. Every
// route needs the bearer token. Untrusted input: path ids (decoded, checked by the queue role
// before any look-up: a bad one is a 400), query filters (model.ts parseFilter: unknown keys,
// unknown states, over-long values are 400s) and small JSON bodies ({"reason", "operator"},
// {"olderThanDays"}, at most QUEUE_BODY_BYTES).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseFilter, QUEUE_ACTIONS, type Actor, type QueueAction, type QueueApi, type QueueError } from '../queue/index.js';
import { json, readBody, type Route } from './respond.js';

/** A queue action's body is a reason and an operator name: small. */
export const QUEUE_BODY_BYTES = 8 * 1024;
const MAX_REASON = 500;
const MAX_OPERATOR = 64;

function fail(res: ServerResponse, e: QueueError): void {
  json(res, e.status, { ok: false, error: e.error });
}

function decodeId(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** The JSON body of an action: {} or {"reason": "...", "operator": "..."}; an empty body is {}. */
async function readJson(req: IncomingMessage): Promise<{ ok: true; value: Record<string, unknown> } | { ok: false; status: 400 | 413 | 415; error: string }> {
  const body = await readBody(req, QUEUE_BODY_BYTES);
  if (body === 'too-large') return { ok: false, status: 413, error: `body larger than ${QUEUE_BODY_BYTES} bytes` };
  if (body.length === 0) return { ok: true, value: {} };
  const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return { ok: false, status: 415, error: 'send application/json' };
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return { ok: false, status: 400, error: 'body is not valid UTF-8 JSON' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, status: 400, error: 'body must be a JSON object' };
  return { ok: true, value: v as Record<string, unknown> };
}

/** Who acts: "http" or "http:<operator>" (the token holder names themselves), and why (required text, bounded). */
function actorOf(body: Record<string, unknown>): { ok: true; value: Actor } | { ok: false; error: string } {
  const reason = body.reason ?? '';
  const operator = body.operator;
  if (typeof reason !== 'string' || reason.length > MAX_REASON) return { ok: false, error: `"reason" must be a string of at most ${MAX_REASON} characters` };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(reason)) return { ok: false, error: '"reason" must not contain control characters' };
  if (operator !== undefined && (typeof operator !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(operator))) return { ok: false, error: `"operator" must be printable ASCII without blanks, at most ${MAX_OPERATOR} characters` };
  return { ok: true, value: { operator: operator === undefined ? 'http' : `http:${operator}`, reason: reason === '' ? '(no reason given)' : reason } };
}

type Handler = (q: QueueApi, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, m: RegExpExecArray) => Promise<void>;

/** Routes of the queue API; `queue()` is the running instance's queue, undefined while there is none (503). */
export function queueRoutes(queue: () => QueueApi | undefined): (readonly [RegExp, Route])[] {
  const route = (methods: readonly string[], h: Handler): Route => ({
    methods, auth: true,
    handle: async (req, res, query, m) => {
      const q = queue();
      if (q === undefined) { json(res, 503, { ok: false, error: 'the queue is not available in this instance' }); return; }
      await h(q, req, res, query, m);
    },
  });
  const action = async (req: IncomingMessage, res: ServerResponse): Promise<Actor | undefined> => {
    const body = await readJson(req);
    if (!body.ok) { json(res, body.status, { ok: false, error: body.error }); return undefined; }
    const who = actorOf(body.value);
    if (!who.ok) { json(res, 400, { ok: false, error: who.error }); return undefined; }
    return who.value;
  };
  return [
    [/^\/api\/v1\/queue$/, route(['GET'], async (q, _req, res, query) => {
      const f = parseFilter(query.entries());
      if (!f.ok) { json(res, 400, { ok: false, error: f.error }); return; }
      const r = await q.list(f.value);
      json(res, 200, { ok: true, total: r.total, items: r.items });
    })],
    [/^\/api\/v1\/queue\/summary$/, route(['GET'], async (q, _req, res, query) => {
      if ([...query.keys()].length > 0) { json(res, 400, { ok: false, error: 'summary takes no query parameters' }); return; }
      json(res, 200, { ok: true, ...(await q.summary()) });
    })],
    [/^\/api\/v1\/queue\/shape$/, route(['GET'], async (q, _req, res, query) => {
      const by = query.get('by') ?? 'domain';
      if (by !== 'target' && by !== 'domain') { json(res, 400, { ok: false, error: 'by must be target or domain' }); return; }
      const rest = [...query.entries()].filter(([k]) => k !== 'by');
      const f = parseFilter(rest);
      if (!f.ok) { json(res, 400, { ok: false, error: f.error }); return; }
      json(res, 200, { ok: true, by, ...(await q.shape(by, rest.length === 0 ? undefined : f.value)) });
    })],
    [/^\/api\/v1\/queue\/([^/]+)$/, route(['GET'], async (q, _req, res, query, m) => {
      const id = decodeId(m[1]!);
      if (id === undefined) { json(res, 400, { ok: false, error: 'the id is not valid percent-encoding' }); return; }
      for (const k of query.keys()) if (k !== 'body') { json(res, 400, { ok: false, error: `query parameter '${k.slice(0, 40)}' not valid here (only body=1)` }); return; }
      const body = query.get('body');
      if (body !== null && !['0', '1', 'true', 'false'].includes(body)) { json(res, 400, { ok: false, error: 'body must be 1 or 0' }); return; }
      const r = await q.show(id, { body: body === '1' || body === 'true' });
      if (!r.ok) { fail(res, r.error); return; }
      json(res, 200, { ok: true, item: r.value });
    })],
    [/^\/api\/v1\/queue\/([^/]+)\/([^/]+)$/, route(['POST'], async (q, req, res, _query, m) => {
      const id = decodeId(m[1]!);
      const act = m[2]!;
      if (id === undefined) { json(res, 400, { ok: false, error: 'the id is not valid percent-encoding' }); return; }
      if (!(QUEUE_ACTIONS as readonly string[]).includes(act)) { json(res, 404, { ok: false, error: `unknown action '${act.slice(0, 40)}'; one of ${QUEUE_ACTIONS.join(', ')}` }); return; }
      const who = await action(req, res);
      if (who === undefined) return;
      const r = await q.act(id, act as QueueAction, who);
      if (!r.ok) { fail(res, r.error); return; }
      json(res, 200, { ok: true, ...(r.value === null ? {} : { item: r.value }) });
    })],
    [/^\/api\/v1\/deadletters$/, route(['GET'], async (q, _req, res) => {
      json(res, 200, { ok: true, items: await q.deadLetters() });
    })],
    [/^\/api\/v1\/deadletters\/purge$/, route(['POST'], async (q, req, res) => {
      const body = await readJson(req);
      if (!body.ok) { json(res, body.status, { ok: false, error: body.error }); return; }
      const days = body.value.olderThanDays;
      if (typeof days !== 'number') { json(res, 400, { ok: false, error: 'body needs "olderThanDays": a whole number of days' }); return; }
      const who = actorOf(body.value);
      if (!who.ok) { json(res, 400, { ok: false, error: who.error }); return; }
      const r = await q.purgeDead(days, who.value);
      if (!r.ok) { fail(res, r.error); return; }
      json(res, 200, { ok: true, purged: r.value.purged });
    })],
    [/^\/api\/v1\/deadletters\/([^/]+)\/requeue$/, route(['POST'], async (q, req, res, _query, m) => {
      const id = decodeId(m[1]!);
      if (id === undefined) { json(res, 400, { ok: false, error: 'the id is not valid percent-encoding' }); return; }
      const who = await action(req, res);
      if (who === undefined) return;
      const r = await q.requeue(id, who);
      if (!r.ok) { fail(res, r.error); return; }
      json(res, 200, { ok: true, ...r.value });
    })],
    [/^\/api\/v1\/spool\/held$/, route(['GET'], async (q, _req, res) => {
      json(res, 200, { ok: true, items: await q.heldFiles() });
    })],
    [/^\/api\/v1\/spool\/held\/([^/]+)$/, route(['GET'], async (q, _req, res, _query, m) => {
      const id = decodeId(m[1]!);
      if (id === undefined) { json(res, 400, { ok: false, error: 'the id is not valid percent-encoding' }); return; }
      const r = await q.heldFile(id);
      if (!r.ok) { fail(res, r.error); return; }
      json(res, 200, { ok: true, item: r.value.item, report: r.value.report });
    })],
    [/^\/api\/v1\/spool\/held\/([^/]+)\/(release|purge)$/, route(['POST'], async (q, req, res, _query, m) => {
      const id = decodeId(m[1]!);
      if (id === undefined) { json(res, 400, { ok: false, error: 'the id is not valid percent-encoding' }); return; }
      const who = await action(req, res);
      if (who === undefined) return;
      const r = await q.heldFileAction(id, m[2] as 'release' | 'purge', who);
      if (!r.ok) { fail(res, r.error); return; }
      json(res, 200, { ok: true, item: r.value });
    })],
  ];
}
