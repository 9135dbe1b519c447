// web — the HTTP face of the operator interface (SPEC.md §4, §8; the `Http { Listen host:port }`
// statement): every operator command as a JSON API call whose answer is exactly the control
// socket's {ok, command, lines, data}; a Prometheus /metrics endpoint; and a one-page web console
// (console*.ts) over the queue API and its own JSON routes (console-routes.ts: status, the
// configuration with its defaults, a long-polled tail of delivery events).
//
// Standards: HTTP/1.1 (RFC 9110/9112 via node:http), Bearer tokens (RFC 6750), the Prometheus
// text exposition format 0.0.4, Content Security Policy (no inline script or style).
// Untrusted input: HTTP requests — request line and headers bounded by node:http (16 KiB headers,
// 10 s), bodies bounded to 64 KiB and 30 s, bodies parsed as JSON or one text line; the command
// itself is parsed by control. Every /api/ call needs `Authorization: Bearer <token>`. The send
// API (POST /api/v1/messages, send-routes.ts): bodies bounded by Http SendMaxBody, JSON and base64
// parsed strictly, header text without line breaks; the message is checked and queued by submit.
// Persists: `<StateDirectory>/http.token` and `http-send.token` (mode 0600), created once at the
// first start and never rewritten ([P2] PostgreSQL: their SHA-256 also in the shared
// http_tokens table, so every node accepts them). In memory: the console's latest 500 delivery events and 60
// one-minute throughput buckets. Safe to crash at any time: it holds no other state; commands are the control role's.
export { startHttp, displayCommand, commandFromBody, MAX_BODY_BYTES, type StartHttpOptions, type HttpService, type WebTarget } from './http.js';
export { ProcessMetrics } from './service-metrics.js';
export { renderMetrics, DeliveryLatency, LATENCY_BUCKETS_SECONDS, METRICS_CONTENT_TYPE, type MetricsSource, type LatencyOutcome } from './metrics.js';
export { loadOrCreateToken, bearerMatches, HttpTokenError, MIN_TOKEN_CHARS, type TokenFile } from './token.js';
export { CONSOLE_CSP } from './console.js';
export { ConsoleEvents, Throughput, configEntries, defaultConfig, type ConsoleSource, type ConsoleEvent, type ConfigEntry } from './console-routes.js';
export { type SendApi, type SendMessage, type SendReceipt, DEFAULT_SEND_MAX_BODY, MAX_CONCURRENT_SENDS } from './send-routes.js';
export { OPENAPI, OPENAPI_JSON } from './openapi.js';
