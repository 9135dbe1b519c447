// The HTTP listener: the operator commands as a JSON API (same answer as the control socket),
// the Prometheus metrics and the web console. node:http only; bounded bodies, header and request
// timeouts, connection limits (overall and per client address); every /api/ call needs the
// bearer token.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isIP } from 'node:net';
import { describeError } from '../core/errors.js';
import { type Result, ok, err } from '../core/result.js';
import type { Logger } from '../log/logger.js';
import { httpRefusal, type ControlResponse } from '../control/index.js';
import { CONSOLE_CSP, CONSOLE_CSS, CONSOLE_HTML, CONSOLE_JS } from './console.js';
import { METRICS_CONTENT_TYPE, renderMetrics, type MetricsSource } from './metrics.js';
import { httpTokens } from './token.js';
import type { HttpTokenTable } from '../store/records.js';
import { json, readBody, send, type Route } from './respond.js';
import { consoleRoutes, type ConsoleSource } from './console-routes.js';
import { queueRoutes } from './queue-routes.js';
import type { QueueApi } from '../queue/index.js';
import { sendRoutes, type SendApi } from './send-routes.js';
import { OPENAPI_JSON } from './openapi.js';

/** A request body larger than this is refused with 413 (a command line is at most 4 KiB). */
export const MAX_BODY_BYTES = 64 * 1024;

/** What the web role needs from the running instance (main.ts provides it). */
export interface WebTarget {
  /**
   * Carries out one operator command line, in turn with the control socket's commands; the
   * answer is the control socket's. err = it could not be run (e.g. the instance is stopping).
   */
  execute(line: string): Promise<Result<ControlResponse, string>>;
  readonly metrics: MetricsSource;
  /** The console's data (status, configuration, delivery events): console-routes.ts. */
  readonly console?: ConsoleSource;
  /** (O1) The queue model and its actions (src/queue); the queue routes answer 503 without it. */
  readonly queue?: QueueApi;
  /** The send API (POST /api/v1/messages, send-routes.ts); absent = that route is not offered. */
  readonly send?: SendApi;
}

export interface StartHttpOptions {
  readonly listen: { readonly host: string; readonly port: number };
  /** The bearer token file; created (0600) on first start. */
  readonly tokenFile: string;
  readonly target: WebTarget;
  readonly log: Logger;
  readonly maxBodyBytes?: number;
  /** Whole request headers must arrive within this (default 10 s). */
  readonly headersTimeoutMs?: number;
  /** Whole request (headers and body) must arrive within this (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** A connection with no traffic either way is closed after this (default 150 s: longer than a command may take). */
  readonly idleMs?: number;
  /** Simultaneous connections (default 64); one more is answered 503 and closed. */
  readonly maxConnections?: number;
  /** Simultaneous connections from one client address (default 16); one more is answered 503 and closed. */
  readonly maxConnectionsPerIp?: number;
  /** Host header names accepted besides IP literals, localhost and the listen host (Http AllowedHost). */
  readonly allowedHosts?: readonly string[];
  /** [P2] Store Backend PostgreSQL: token hashes every node shares (web/token.ts sharedTokens); absent: the token file alone. */
  readonly tokenTable?: HttpTokenTable;
}

export const DEFAULT_MAX_CONNECTIONS = 64;
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 16;
/** A refused connection is destroyed this long after its 503 if the client does not close it. */
const REFUSED_LINGER_MS = 5_000;

export interface HttpService {
  readonly host: string;
  readonly port: number;
  readonly tokenFile: string;
  /** Connections counted against the limits now (refused ones are not counted). */
  openConnections(): number;
  /** The route table as served (path pattern, methods, who may call): the OpenAPI test reads it. */
  readonly routes: readonly { readonly pattern: RegExp; readonly methods: readonly string[]; readonly auth: 'none' | 'operator' | 'own' }[];
  close(): Promise<void>;
}

const DISPLAYS = ['config', 'iplist', 'loglevel', 'spool', 'targets'] as const;
type DisplayName = (typeof DISPLAYS)[number];

/**
 * GET /api/v1/display/{view}: the command line it stands for. Query values are checked here so
 * they cannot add operands (no commas); the command parser checks the rest.
 */
export function displayCommand(view: string, q: URLSearchParams): Result<string, string> {
  if (!(DISPLAYS as readonly string[]).includes(view)) return err(`unknown display '${view}'; one of ${DISPLAYS.join(', ')}`);
  const allowed: Record<DisplayName, readonly string[]> = { config: [], iplist: [], loglevel: [], spool: ['detail', 'tkid'], targets: ['addr'] };
  const name = view as DisplayName;
  for (const k of q.keys()) if (!allowed[name].includes(k)) return err(`query parameter '${k}' not valid for ${view}`);
  switch (name) {
    case 'config': return ok('D,CONFIG');
    case 'iplist': return ok('D,IPLIST');
    case 'loglevel': return ok('D,LOGLEVEL');
    case 'targets': {
      const addr = q.get('addr');
      if (addr === null) return ok('D,TARGETS');
      if (isIP(addr) === 0) return err('addr must be an IP address');
      return ok(`D,TARGETS,ADDR=${addr}`);
    }
    case 'spool': {
      const detail = q.get('detail');
      const tkid = q.get('tkid');
      if (detail !== null && !['0', '1', 'true', 'false', 'yes', 'no'].includes(detail.toLowerCase())) return err('detail must be 1 or 0');
      if (tkid !== null && !/^[0-9]{1,3}$/.test(tkid)) return err('tkid must be a number 0-999');
      if (tkid !== null) return ok(`D,SPOOL,DETAIL,TKID=${Number(tkid)}`);
      return ok(detail !== null && ['1', 'true', 'yes'].includes(detail.toLowerCase()) ? 'D,SPOOL,DETAIL' : 'D,SPOOL');
    }
  }
}

/** POST /api/v1/command body: JSON {"command": "..."}, or the command as text/plain (or raw, as `curl -d` sends it). */
export function commandFromBody(contentType: string | undefined, body: Buffer): Result<string, { status: 400 | 415; error: string }> {
  const type = (contentType ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return err({ status: 400, error: 'body is not UTF-8' });
  }
  let command: unknown;
  if (type === 'application/json') {
    try {
      command = (JSON.parse(text) as { command?: unknown } | null)?.command;
    } catch {
      return err({ status: 400, error: 'body is not valid JSON' });
    }
    if (typeof command !== 'string') return err({ status: 400, error: 'JSON body needs "command": a string' });
  } else if (type === 'text/plain') {
    command = text;
  } else if (type === 'application/x-www-form-urlencoded') {
    // LENIENT: `curl -d D,TARGETS` sends its data raw under this type; a real form sends
    // command=... (no CSRF risk either way: without the Authorization header it is a 401).
    command = text.startsWith('command=') ? new URLSearchParams(text).get('command') ?? '' : text;
  } else {
    return err({ status: 415, error: 'send application/json {"command": "..."} or text/plain' });
  }
  const line = (command as string).replace(/\r?\n$/, '').trim();
  if (line === '') return err({ status: 400, error: 'empty command' });
  if (/[\r\n]/.test(line)) return err({ status: 400, error: 'one command per request (no line breaks)' });
  return ok(line);
}


export async function startHttp(opts: StartHttpOptions): Promise<HttpService> {
  const { log, target } = opts;
  const maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const tokens = await httpTokens(opts.tokenFile, 'api', opts.tokenTable, (e) => log.warn('http.token-table', { error: describeError(e) }));
  const tk = tokens.file;
  if (tk.created) log.event('http.token-created', { tokenFile: opts.tokenFile });
  if ((tk.mode & 0o077) !== 0) log.warn('http.token-mode', { tokenFile: opts.tokenFile, mode: tk.mode.toString(8), detail: 'others can read the HTTP token; chmod 600 it' });

  const runCommand = async (res: ServerResponse, line: string): Promise<void> => {
    const refused = httpRefusal(line);
    if (refused !== undefined) { json(res, 403, { ok: false, error: refused }); return; }
    const r = await target.execute(line);
    if (!r.ok) { json(res, 503, { ok: false, error: r.error }); return; }
    // 422: the command was understood as HTTP but refused or not carried out (an E message).
    json(res, r.value.ok ? 200 : 422, r.value);
  };

  const routes: readonly (readonly [RegExp, Route])[] = [
    [/^\/$/, { methods: ['GET'], auth: false, handle: (_req, res) => send(res, 200, 'text/html; charset=utf-8', CONSOLE_HTML, { 'Content-Security-Policy': CONSOLE_CSP }) }],
    [/^\/console\.js$/, { methods: ['GET'], auth: false, handle: (_req, res) => send(res, 200, 'text/javascript; charset=utf-8', CONSOLE_JS, { 'Content-Security-Policy': CONSOLE_CSP }) }],
    [/^\/console\.css$/, { methods: ['GET'], auth: false, handle: (_req, res) => send(res, 200, 'text/css; charset=utf-8', CONSOLE_CSS, { 'Content-Security-Policy': CONSOLE_CSP }) }],
    [/^\/metrics$/, { methods: ['GET'], auth: false, handle: async (_req, res) => send(res, 200, METRICS_CONTENT_TYPE, await renderMetrics(target.metrics)) }],
    // R3 item 2: 503 while a fault disables a role (the mailbox database for the receiver and
    // POP3); 200 otherwise, with the faults that only delay mail listed. The problem texts (paths)
    // are in the log (fault.raised), not here: this route needs no token.
    // O2 item 6, /readyz also: at least one target that may take mail (not NOT USABLE; a
    // target not tried yet counts), so a load balancer or monitor sees "mail cannot leave".
    [/^\/readyz$/, {
      methods: ['GET'], auth: false,
      handle: (_req, res) => {
        const faults = (target.metrics.faults?.() ?? []).map((f) => ({ component: f.component, disabling: f.disabling, since: new Date(f.since).toISOString(), failures: f.failures }));
        const states = target.metrics.forwarder.listTargets().map((t) => t.state);
        const targets = { total: states.length, usable: states.filter((st) => st !== 'NOT USABLE').length };
        const ready = !faults.some((f) => f.disabling) && targets.usable > 0;
        json(res, ready ? 200 : 503, { ready, targets, faults });
      },
    }],
    // Alive: the process answers HTTP (no token, nothing about the state).
    [/^\/healthz$/, { methods: ['GET'], auth: false, handle: (_req, res) => json(res, 200, { alive: true }) }],
    // The API's own description (docs/openapi.json): nothing secret, so no token (tools fetch it first).
    [/^\/api\/v1\/openapi\.json$/, { methods: ['GET'], auth: false, handle: (_req, res) => send(res, 200, 'application/json; charset=utf-8', OPENAPI_JSON) }],
    ...await sendRoutes({ send: target.send, operator: tokens, log, ...(opts.tokenTable === undefined ? {} : { tokenTable: opts.tokenTable }) }),
    [/^\/api\/v1\/command$/, {
      methods: ['POST'], auth: true,
      handle: async (req, res) => {
        const body = await readBody(req, maxBody);
        if (body === 'too-large') { json(res, 413, { ok: false, error: `body larger than ${maxBody} bytes` }); return; }
        const line = commandFromBody(req.headers['content-type'], body);
        if (!line.ok) { json(res, line.error.status, { ok: false, error: line.error.error }); return; }
        await runCommand(res, line.value);
      },
    }],
    ...consoleRoutes(target.console, target.metrics, opts.tokenFile),
    [/^\/api\/v1\/display\/([^/]+)$/, {
      methods: ['GET'], auth: true,
      handle: async (_req, res, q, m) => {
        const line = displayCommand(m[1]!, q);
        if (!line.ok) { json(res, (DISPLAYS as readonly string[]).includes(m[1]!) ? 400 : 404, { ok: false, error: line.error }); return; }
        await runCommand(res, line.value);
      },
    }],
    ...queueRoutes(() => target.queue),
  ];

  const scoped = routes.map(([, r]) => r.auth).filter((a): a is (h: string | undefined) => boolean | Promise<boolean> => typeof a === 'function');
  const narrowerScope = async (h: string | undefined): Promise<boolean> => {
    for (const check of scoped) if (await check(h)) return true;
    return false;
  };
  const hosts = new Set(['localhost', opts.listen.host.toLowerCase(), ...(opts.allowedHosts ?? []).map((h) => h.toLowerCase())]);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // DNS rebinding: a page from evil.example that re-points its name at 127.0.0.1 reaches this
    // port with "Host: evil.example". Only names this listener is known by are answered.
    const host = hostOf(req.headers.host);
    if (host !== undefined && isIP(host) === 0 && !hosts.has(host)) {
      log.info('http.bad-host', { host: host.slice(0, 200), remote: req.socket.remoteAddress ?? '' });
      json(res, 403, { ok: false, error: `Host '${host.slice(0, 200)}' is not a name of this server (DNS rebinding guard); use an IP address or localhost, or add Http { AllowedHost ${host.slice(0, 200)} }` });
      return;
    }
    const raw = req.url ?? '/';
    const qi = raw.indexOf('?');
    const path = qi < 0 ? raw : raw.slice(0, qi);
    const query = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
    const found = routes.map(([re, r]) => [re.exec(path), r] as const).find(([m]) => m !== null);
    if (found === undefined) {
      json(res, 404, { ok: false, error: 'not found' });
      return;
    }
    const [m, route] = found;
    // HEAD is GET without the body (node:http leaves the body out).
    const method = req.method === 'HEAD' ? 'GET' : req.method ?? '';
    if (!route.methods.includes(method)) {
      const allow = route.methods.includes('GET') ? [...route.methods, 'HEAD'] : route.methods;
      json(res, 405, { ok: false, error: `method ${req.method ?? ''} not allowed` }, { Allow: allow.join(', ') });
      return;
    }
    // RFC 6750 §3: a request without (valid) credentials gets 401 and a WWW-Authenticate challenge.
    const authorized = route.auth === false || (route.auth === true ? await tokens.matches(req.headers.authorization) : await route.auth(req.headers.authorization));
    // RFC 6750 §3.1: a valid token of a narrower scope (the send token on an operator route) is 403 insufficient_scope, not a failed login.
    if (!authorized && await narrowerScope(req.headers.authorization)) {
      log.info('http.scope', { ip: req.socket.remoteAddress ?? '', path });
      json(res, 403, { ok: false, error: 'this token may only send mail (POST /api/v1/messages); operator calls need the token in <StateDirectory>/http.token' },
        { 'WWW-Authenticate': 'Bearer realm="spoolgate", error="insufficient_scope"' });
      return;
    }
    if (!authorized) {
      // The failed-login line of SMTP and POP3 too (fail2ban: examples/fail2ban/spoolgate.conf).
      log.warn('auth.failed', { service: 'http', ip: req.socket.remoteAddress ?? '', path, reason: req.headers.authorization === undefined ? 'no-token' : 'invalid' });
      json(res, 401, { ok: false, error: `Authorization: Bearer <token> required (the token is in <StateDirectory>/http.token${typeof route.auth === 'function' ? '; for sending also http-send.token' : ''})` },
        { 'WWW-Authenticate': req.headers.authorization === undefined ? 'Bearer realm="spoolgate"' : 'Bearer realm="spoolgate", error="invalid_token"' });
      return;
    }
    await route.handle(req, res, query, m!);
  };

  const inflight = new Set<Promise<void>>();
  const headersTimeout = opts.headersTimeoutMs ?? 10_000;
  /** Connections over a limit: answered 503 at once; requests the client still sends on them are never run. */
  const refused = new WeakSet<Socket>();
  const server: Server = createServer({
    headersTimeout,
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    // node:http checks both timeouts only this often (default 30 s, so a 10 s header timeout was
    // really up to 40 s): check often enough that the documented bound holds to within a quarter.
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4))),
    maxHeaderSize: 16 * 1024,
  }, (req, res) => {
    if (refused.has(req.socket)) { req.resume(); return; }
    const p = handle(req, res).catch((e: unknown) => {
      log.error('http.failed', { path: (req.url ?? '').slice(0, 200), error: describeError(e) });
      if (!res.headersSent) json(res, 500, { ok: false, error: 'internal error' });
      else res.destroy();
    }).finally(() => {
      inflight.delete(p);
      log.debug('http.request', { method: req.method ?? '', path: (req.url ?? '').slice(0, 200), status: res.statusCode });
      // A refused body may still be arriving: read and drop it so the answer is not reset.
      if (!req.complete) req.resume();
    });
    inflight.add(p);
  });
  // Connection limits, counted here rather than with server.maxConnections (which drops the socket
  // without a word): one client address cannot take every slot with half-open requests, and a
  // connection over a limit gets a 503 at once instead of hanging or a reset.
  const maxConns = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const maxPerIp = opts.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP;
  const perIp = new Map<string, number>();
  let open = 0;
  // Before node:http's own connection listener, so a refused socket is marked before any request on it.
  server.prependListener('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? '';
    const fromIp = perIp.get(ip) ?? 0;
    const why = open >= maxConns ? 'too many connections' : fromIp >= maxPerIp ? 'too many connections from your address' : undefined;
    if (why !== undefined) {
      refused.add(socket);
      log.info('http.refused', { remote: ip, reason: why, open: fromIp });
      const body = `${why}; try again later\n`;
      // end(), not destroy(): the client's request bytes are still read (and dropped), so no reset
      // overtakes the answer; a client that never closes is cut after REFUSED_LINGER_MS.
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 10\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      const linger = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
      linger.unref();
      socket.once('close', () => clearTimeout(linger));
      return;
    }
    open++;
    perIp.set(ip, fromIp + 1);
    socket.once('close', () => {
      open--;
      const n = (perIp.get(ip) ?? 1) - 1;
      if (n <= 0) perIp.delete(ip); else perIp.set(ip, n);
    });
  });
  server.setTimeout(opts.idleMs ?? 150_000, (s: Socket) => s.destroy());
  server.on('clientError', (e, socket) => {
    log.debug('http.client-error', { error: describeError(e) });
    if (refused.has(socket as Socket)) socket.destroy();
    else if (socket.writable) {
      // The header or request timeout (node:http reports it here): 408, as node:http itself would.
      const status = (e as { code?: string }).code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else {
      socket.destroy();
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listen.port, opts.listen.host, () => { server.off('error', reject); resolve(); });
  });
  server.on('error', (e) => log.error('http.server', { error: describeError(e) }));
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : opts.listen.port;
  const host = typeof a === 'object' && a !== null ? a.address : opts.listen.host;
  if (!isLoopback(host)) log.warn('http.not-loopback', { host, detail: 'the HTTP API and its token travel in clear text; put a TLS proxy in front or listen on 127.0.0.1' });

  return {
    host, port, tokenFile: opts.tokenFile,
    openConnections: () => open,
    routes: routes.map(([pattern, r]) => ({ pattern, methods: r.methods, auth: r.auth === false ? 'none' as const : r.auth === true ? 'operator' as const : 'own' as const })),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.allSettled([...inflight]);
      server.closeAllConnections();
      await closed;
    },
  };
}

/**
 * The host name of a Host header (RFC 9110 §7.2: uri-host [":" port]), lower case, without a
 * trailing dot; an IPv6 literal without its brackets. undefined when there is no header.
 */
export function hostOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(1, end);
  }
  const colon = h.lastIndexOf(':');
  const name = colon < 0 ? h : h.slice(0, colon);
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function isLoopback(host: string): boolean {
  return host === '::1' || host === 'localhost' || /^127\./.test(host) || /^::ffff:127\./i.test(host);
}
