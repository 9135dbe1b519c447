// What every HTTP route answers with: the common security headers, JSON, bounded request bodies,
// and the Route type route modules (src/web/*-routes.ts) export for http.ts's table.
import type { IncomingMessage, ServerResponse } from 'node:http';

const COMMON_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
} as const;

export function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

export function json(res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value) + '\n', extra);
}

/** Reads the body up to `max` bytes; 'too-large' as soon as it is known to be bigger. */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > max) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (d: Buffer) => {
      if (over) return; // drained and dropped; the request timeout bounds how long
      size += d.length;
      if (size > max) { over = true; parts.length = 0; resolve('too-large'); return; }
      parts.push(d);
    });
    req.once('end', () => { if (!over) resolve(Buffer.concat(parts)); });
    req.once('error', reject);
  });
}

/**
 * One entry of the route table: a path pattern's methods, whether it needs the (operator) bearer
 * token — or its own check of the Authorization header (the send API's scoped token) — and its handler.
 */
export interface Route {
  readonly methods: readonly string[];
  readonly auth: boolean | ((authorization: string | undefined) => boolean | Promise<boolean>);
  handle(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, match: RegExpExecArray): Promise<void> | void;
}
