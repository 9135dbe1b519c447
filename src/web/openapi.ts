// The OpenAPI 3.1 description of the whole HTTP listener (X1 #21 item 5), served at
// GET /api/v1/openapi.json and kept as docs/openapi.json (openapi.test.ts checks that the two are
// equal and that every route of http.ts's table is described here, with its methods and its
// token; `node scripts/gen-openapi.mjs` rewrites the docs copy). A route module that adds routes
// adds their paths here.

const error = { $ref: '#/components/schemas/Error' } as const;
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
const operatorOnly = [{ operatorToken: [] }];
const controlResponse = { description: 'the command was carried out: the control socket\'s answer', content: { 'application/json': { schema: { $ref: '#/components/schemas/ControlResponse' } } } };
const commandFailed = { description: 'the command was refused or failed (an E message in lines)', content: { 'application/json': { schema: { $ref: '#/components/schemas/ControlResponse' } } } };
const unauthorized = { description: 'no token or a wrong one (WWW-Authenticate: Bearer realm="spoolgate")', content: { 'application/json': { schema: error } } };
const sendRefusal = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/SendError' } } } });
const addresses = { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 2000 }] };

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'spoolgate HTTP API',
    version: '1',
    description: 'Operator commands (the control socket\'s answers), the send API, health, metrics and the web console of one spoolgate instance. Guide: docs/http.md.',
  },
  servers: [{ url: 'http://127.0.0.1:8025', description: 'the Http Listen address' }],
  components: {
    securitySchemes: {
      operatorToken: { type: 'http', scheme: 'bearer', description: 'the operator token: <StateDirectory>/http.token' },
      sendToken: { type: 'http', scheme: 'bearer', description: 'the send-only token: <StateDirectory>/http-send.token (POST /api/v1/messages only)' },
    },
    schemas: {
      Error: {
        type: 'object', required: ['ok', 'error'],
        properties: { ok: { const: false }, error: { type: 'string' } },
      },
      SendError: {
        type: 'object', required: ['ok', 'code', 'error'],
        properties: {
          ok: { const: false },
          code: { type: 'string', description: 'SG_SENDMAIL_* (the codes of `spoolgate sendmail`, docs/submission.md) or SG_HTTP_* (docs/http.md)', examples: ['SG_SENDMAIL_BAD_RECIPIENT'] },
          error: { type: 'string' },
        },
      },
      ControlResponse: {
        type: 'object', required: ['ok', 'lines'],
        properties: {
          ok: { type: 'boolean' }, command: { type: 'string' },
          lines: { type: 'array', items: { type: 'string' }, description: 'the console lines with their EZD message ids' },
          data: { description: 'the same facts as data (docs/operations.md)' },
        },
      },
      Envelope: {
        type: 'object', required: ['from', 'to'], additionalProperties: false,
        properties: { from: { type: 'string', description: 'envelope sender local@domain (at most 256 bytes)' }, to: addresses, cc: addresses, bcc: addresses },
      },
      RawMessage: {
        type: 'object', required: ['envelope', 'raw'], additionalProperties: false,
        properties: {
          envelope: { $ref: '#/components/schemas/Envelope' },
          raw: { type: 'string', contentEncoding: 'base64', description: 'the RFC 5322 message, base64 (line breaks allowed)' },
        },
      },
      ComposedMessage: {
        type: 'object', required: ['from'], additionalProperties: false,
        properties: {
          from: { type: 'string', description: '"local@domain" or "Name <local@domain>": From: and envelope sender' },
          to: addresses, cc: addresses, bcc: { ...addresses, description: 'envelope only, never in a header' },
          subject: { type: 'string', maxLength: 2000, description: 'one line: no CR, LF or other control characters' },
          text: { type: 'string' }, html: { type: 'string' },
          attachments: {
            type: 'array', maxItems: 100,
            items: {
              type: 'object', required: ['filename', 'content'], additionalProperties: false,
              properties: {
                filename: { type: 'string', minLength: 1, maxLength: 255 },
                contentType: { type: 'string', pattern: '^[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}$', description: 'default: from the file name' },
                content: { type: 'string', contentEncoding: 'base64' },
              },
            },
          },
        },
      },
      QueueItem: {
        type: 'object', description: 'one waiting message (docs/queue.md: the queue id, the states)',
        properties: {
          id: { type: 'string', description: 'the stable queue id' },
          state: { enum: ['processing', 'retry', 'extended', 'held', 'dead', 'quarantined'] },
          arrival: { type: 'string', format: 'date-time' }, nextAttempt: { type: ['string', 'null'], format: 'date-time' },
          attempts: { type: 'integer' }, size: { type: 'integer' }, jobName: { type: 'string' }, jobId: { type: 'string' }, user: { type: 'string' }, sender: { type: 'string' },
          recipients: { type: 'array', items: { type: 'object', properties: { address: { type: 'string' }, state: { type: 'string' }, lastReply: { type: ['string', 'null'] } } } },
          target: { type: ['string', 'null'] },
          node: { type: 'string', description: '(ext, Store Backend PostgreSQL) the node it is on; - for a row of the shared queue no node holds (docs/queue.md "On a cluster"); absent with one node' },
        },
      },
      QueueActionBody: {
        type: 'object',
        properties: { reason: { type: 'string', maxLength: 500, description: 'journaled with the action' }, operator: { type: 'string', pattern: '^[\\x21-\\x7e]{1,64}$', description: 'journaled as http:<operator>' } },
      },
      Readiness: {
        type: 'object',
        properties: {
          ready: { type: 'boolean' },
          targets: { type: 'object', properties: { total: { type: 'integer' }, usable: { type: 'integer' } } },
          faults: { type: 'array', items: { type: 'object', properties: { component: { type: 'string' }, disabling: { type: 'boolean' }, since: { type: 'string', format: 'date-time' }, failures: { type: 'integer' } } } },
        },
      },
      SendReceipt: {
        type: 'object', required: ['ok', 'id', 'envelope', 'size', 'bccHeaderStripped'],
        properties: {
          ok: { const: true },
          id: { type: 'string', description: 'the spool entry id (queue id) of the message' },
          envelope: { type: 'object', properties: { from: { type: 'string' }, recipients: { type: 'array', items: { type: 'string' } } } },
          size: { type: 'integer', description: 'octets queued, with the Received field spoolgate added' },
          bccHeaderStripped: { type: 'boolean', description: 'a Bcc: field of a raw message was left out' },
        },
      },
    },
  },
  paths: {
    '/': { get: { summary: 'the web console page', security: [], responses: { 200: { description: 'HTML', content: { 'text/html': {} } } } } },
    '/console.js': { get: { summary: 'the console script', security: [], responses: { 200: { description: 'JavaScript', content: { 'text/javascript': {} } } } } },
    '/console.css': { get: { summary: 'the console style sheet', security: [], responses: { 200: { description: 'CSS', content: { 'text/css': {} } } } } },
    // The console's own routes (console-routes.ts, O1 #17 item 4).
    '/console-views.js': { get: { summary: 'the console script of the queue, held-file and dead-letter views', security: [], responses: { 200: { description: 'JavaScript', content: { 'text/javascript': {} } } } } },
    '/console/hello.json': {
      get: {
        summary: 'what the console page shows before it has a token: the token file and the instance name', security: [],
        responses: { 200: { description: 'hello', content: { 'application/json': { schema: { type: 'object', properties: { tokenFile: { type: 'string' }, instance: { type: ['string', 'null'] } } } } } } },
      },
    },
    '/api/v1/status': {
      get: {
        summary: 'the console dashboard: suspension, the LogLevel in force, counters, targets with state and last error, tasks, faults, throughput of the last hour', security: operatorOnly,
        responses: {
          200: { description: 'status', content: { 'application/json': { schema: { type: 'object', properties: {
            ok: { const: true }, instance: { type: 'string' }, time: { type: 'string', format: 'date-time' }, suspendMode: { enum: ['none', 'immediate', 'delay'] }, waitReason: { type: ['string', 'null'] },
            logLevel: { type: 'integer' }, logLevelNames: { type: 'array', items: { type: 'string' } }, counters: { type: 'object' },
            targets: { type: 'array', items: { type: 'object', properties: { address: { type: 'string' }, port: { type: 'integer' }, state: { enum: ['UNKNOWN', 'ACTIVE', 'NOT USABLE'] }, lastError: { type: 'string' } } } },
            tasks: { type: 'array', items: { type: 'object' } }, faults: { type: 'array', items: { type: 'object' } },
            throughput: { type: 'object', properties: { windowSeconds: { type: 'integer' }, delivered: { type: 'integer' }, undeliverable: { type: 'integer' }, extended: { type: 'integer' }, perMinute: { type: 'array', items: { type: 'object' } } } },
          } } } } },
          401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 404: errorResponse('the console data routes are not wired in this listener'),
        },
      },
    },
    '/api/v1/config': {
      get: {
        summary: 'the configuration in force with each value\'s default, the values that differ first (passwords as "(set)")', security: operatorOnly,
        responses: {
          200: { description: 'entries', content: { 'application/json': { schema: { type: 'object', properties: {
            ok: { const: true }, configFile: { type: 'string' }, changed: { type: 'integer' },
            entries: { type: 'array', items: { type: 'object', properties: { key: { type: 'string' }, label: { type: 'string' }, value: { type: 'string' }, default: { type: ['string', 'null'] }, changed: { type: 'boolean' } } } },
          } } } } },
          401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 404: errorResponse('the console data routes are not wired in this listener'),
        },
      },
    },
    '/api/v1/events': {
      get: {
        summary: 'delivery events after a sequence number (the operator log\'s mail.*, queue.*, deadletter.*, target.state lines; the latest 500 kept); wait= holds the answer until the next one, at most 20 s', security: operatorOnly,
        parameters: [
          { name: 'after', in: 'query', required: false, schema: { type: 'integer', minimum: 0 } },
          { name: 'wait', in: 'query', required: false, schema: { type: 'integer', minimum: 0, maximum: 20 } },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 500 } },
        ],
        responses: {
          200: { description: 'events', content: { 'application/json': { schema: { type: 'object', properties: {
            ok: { const: true }, last: { type: 'integer' }, dropped: { type: 'boolean' },
            events: { type: 'array', items: { type: 'object', properties: { seq: { type: 'integer' }, time: { type: 'string' }, level: { type: 'string' }, event: { type: 'string' }, fields: { type: 'object' } } } },
          } } } } },
          400: errorResponse('after, wait or limit is not a whole number'), 401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 404: errorResponse('the console data routes are not wired in this listener'),
        },
      },
    },
    '/metrics': { get: { summary: 'Prometheus metrics (text exposition 0.0.4)', security: [], responses: { 200: { description: 'metrics', content: { 'text/plain': {} } } } } },
    '/healthz': {
      get: {
        summary: 'alive: the process answers HTTP', security: [],
        responses: { 200: { description: 'alive', content: { 'application/json': { schema: { type: 'object', properties: { alive: { const: true } } } } } } },
      },
    },
    '/readyz': {
      get: {
        summary: 'ready: no disabling fault and at least one usable target', security: [],
        responses: {
          200: { description: 'ready', content: { 'application/json': { schema: { $ref: '#/components/schemas/Readiness' } } } },
          503: { description: 'not ready', content: { 'application/json': { schema: { $ref: '#/components/schemas/Readiness' } } } },
        },
      },
    },
    '/api/v1/openapi.json': {
      get: { summary: 'this document', security: [], responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': {} } } } },
    },
    '/api/v1/command': {
      post: {
        summary: 'run one operator command line (as `spoolgate modify --json`)', security: operatorOnly,
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { type: 'object', required: ['command'], properties: { command: { type: 'string', examples: ['D,TARGETS'] } } } },
            'text/plain': { schema: { type: 'string' } },
            'application/x-www-form-urlencoded': { schema: { type: 'string', description: 'the line raw, as `curl -d` sends it, or command=...' } },
          },
        },
        responses: {
          200: controlResponse, 422: commandFailed,
          400: errorResponse('no command, several lines, bad JSON, not UTF-8'), 401: unauthorized,
          403: errorResponse('a command offered on the control socket only (USEREXIT), or the send token (insufficient_scope)'),
          413: errorResponse('body over 64 KiB'), 415: errorResponse('another body type'), 503: errorResponse('the instance could not run it'),
        },
      },
    },
    '/api/v1/display/{view}': {
      get: {
        summary: 'a DISPLAY command', security: operatorOnly,
        parameters: [
          { name: 'view', in: 'path', required: true, schema: { enum: ['config', 'iplist', 'loglevel', 'spool', 'targets'] } },
          { name: 'addr', in: 'query', required: false, schema: { type: 'string' }, description: 'targets: one target IP address' },
          { name: 'detail', in: 'query', required: false, schema: { enum: ['1', '0', 'true', 'false', 'yes', 'no'] }, description: 'spool' },
          { name: 'tkid', in: 'query', required: false, schema: { type: 'string', pattern: '^[0-9]{1,3}$' }, description: 'spool: one task' },
        ],
        responses: { 200: controlResponse, 422: commandFailed, 400: errorResponse('a query value not valid for the view'), 401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 404: errorResponse('unknown view'), 503: errorResponse('the instance could not run it') },
      },
    },
    '/api/v1/queue': {
      get: {
        summary: 'list waiting messages, oldest first (filters as `spoolgate queue list`)', security: operatorOnly,
        parameters: [
          { name: 'state', in: 'query', required: false, schema: { type: 'string' }, description: 'processing, retry, extended, held, dead, quarantined (comma-separated)' },
          ...['job', 'sender', 'recipient', 'target', 'domain'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
          { name: 'minAge', in: 'query', required: false, schema: { type: 'integer' }, description: 'seconds' },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer' } }, { name: 'offset', in: 'query', required: false, schema: { type: 'integer' } },
        ],
        responses: {
          200: { description: 'a page of the queue', content: { 'application/json': { schema: { type: 'object', properties: { ok: { const: true }, total: { type: 'integer' }, items: { type: 'array', items: { $ref: '#/components/schemas/QueueItem' } } } } } } },
          400: errorResponse('an unknown filter, state or an over-long value'), 401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 503: errorResponse('no queue in this instance'),
        },
      },
    },
    '/api/v1/queue/summary': {
      get: {
        summary: 'counts per state and the oldest message age', security: operatorOnly,
        responses: { 200: { description: 'counts', content: { 'application/json': { schema: { type: 'object', properties: { ok: { const: true }, counts: { type: 'object', additionalProperties: { type: 'integer' } }, oldestAgeSeconds: { type: ['integer', 'null'] } } } } } }, 400: errorResponse('query parameters given'), 401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 503: errorResponse('no queue in this instance') },
      },
    },
    '/api/v1/queue/shape': {
      get: {
        summary: 'age histogram by target or domain (Postfix qshape): minutes 5, 10, 20, 40, ...', security: operatorOnly,
        parameters: [{ name: 'by', in: 'query', required: false, schema: { enum: ['domain', 'target'] } }],
        responses: { 200: { description: 'buckets and rows', content: { 'application/json': {} } }, 400: errorResponse('bad by or filter'), 401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 503: errorResponse('no queue in this instance') },
      },
    },
    '/api/v1/queue/{id}': {
      get: {
        summary: 'one message: envelope, recipients with their last replies, history, headers (body=1: the content)', security: operatorOnly,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'body', in: 'query', required: false, schema: { enum: ['0', '1', 'true', 'false'] } }],
        responses: { 200: { description: 'the message', content: { 'application/json': { schema: { type: 'object', properties: { ok: { const: true }, item: { $ref: '#/components/schemas/QueueItem' } } } } } }, 400: errorResponse('a malformed id'), 401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 404: errorResponse('no such message'), 503: errorResponse('no queue in this instance') },
      },
    },
    '/api/v1/queue/{id}/{action}': {
      post: {
        summary: 'act on one message (journaled with the operator and the reason)', security: operatorOnly,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'action', in: 'path', required: true, schema: { enum: ['hold', 'release', 'retry', 'bounce', 'delete'] } }],
        requestBody: { required: false, content: { 'application/json': { schema: { $ref: '#/components/schemas/QueueActionBody' } } } },
        responses: { 200: { description: 'done; the item in its new state unless it left the queue', content: { 'application/json': {} } }, 400: errorResponse('a malformed id or body'), 401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 404: errorResponse('no such message or action'), 409: errorResponse('the action does not apply in the message\'s state'), 413: errorResponse('body over 8 KiB'), 415: errorResponse('not JSON'), 503: errorResponse('no queue in this instance') },
      },
    },
    '/api/v1/queue/bulk/{action}': {
      post: {
        summary: 'act on every message a filter matches (hold a flood by sender, bounce a dead domain\'s backlog); journaled per message', security: operatorOnly,
        parameters: [{ name: 'action', in: 'path', required: true, schema: { enum: ['hold', 'release', 'retry', 'bounce', 'delete'] } }],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['filter'], properties: { filter: { type: 'object', description: 'the filters of GET /api/v1/queue (at least one)', additionalProperties: { type: 'string' } }, reason: { type: 'string', maxLength: 500 }, operator: { type: 'string' } } } } } },
        responses: { 200: { description: 'done: how many, which were refused, the ids', content: { 'application/json': {} } }, 400: errorResponse('an empty or bad filter, a bad body'), 401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 404: errorResponse('unknown action'), 413: errorResponse('body over 8 KiB'), 415: errorResponse('not JSON'), 503: errorResponse('no queue in this instance') },
      },
    },
    '/api/v1/deadletters': {
      get: { summary: 'stored dead letters', security: operatorOnly, responses: { 200: { description: 'dead letters', content: { 'application/json': {} } }, 401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 503: errorResponse('no queue in this instance') } },
    },
    '/api/v1/deadletters/purge': {
      post: {
        summary: 'remove dead letters stored more than olderThanDays days ago', security: operatorOnly,
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['olderThanDays'], properties: { olderThanDays: { type: 'integer', minimum: 0 }, reason: { type: 'string' }, operator: { type: 'string' } } } } } },
        responses: { 200: { description: 'how many were removed', content: { 'application/json': {} } }, 400: errorResponse('olderThanDays missing or not a number'), 401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 413: errorResponse('body over 8 KiB'), 415: errorResponse('not JSON'), 503: errorResponse('no queue in this instance') },
      },
    },
    '/api/v1/deadletters/{id}/requeue': {
      post: {
        summary: 'put a dead letter back on the spool (sent again)', security: operatorOnly,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { required: false, content: { 'application/json': { schema: { $ref: '#/components/schemas/QueueActionBody' } } } },
        responses: { 200: { description: 'requeued', content: { 'application/json': {} } }, 400: errorResponse('a malformed id or body'), 401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 404: errorResponse('no such dead letter'), 503: errorResponse('no queue in this instance') },
      },
    },
    '/api/v1/spool/held': {
      get: { summary: 'held spool files', security: operatorOnly, responses: { 200: { description: 'held files', content: { 'application/json': {} } }, 401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 503: errorResponse('no queue in this instance') } },
    },
    '/api/v1/spool/held/{id}': {
      get: {
        summary: 'a held spool file and its problem report', security: operatorOnly,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: { description: 'the file and its report', content: { 'application/json': {} } }, 400: errorResponse('a malformed id'), 401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 404: errorResponse('no such held file'), 503: errorResponse('no queue in this instance') },
      },
    },
    '/api/v1/spool/held/{id}/{action}': {
      post: {
        summary: 'release a held spool file (read again) or purge it', security: operatorOnly,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'action', in: 'path', required: true, schema: { enum: ['release', 'purge'] } }],
        requestBody: { required: false, content: { 'application/json': { schema: { $ref: '#/components/schemas/QueueActionBody' } } } },
        responses: { 200: { description: 'done', content: { 'application/json': {} } }, 400: errorResponse('a malformed id or body'), 401: unauthorized, 403: errorResponse('the send token (insufficient_scope)'), 404: errorResponse('no such held file'), 503: errorResponse('no queue in this instance') },
      },
    },
    '/api/v1/messages': {
      post: {
        summary: 'send one message (QtmmSendMail over HTTP): queue it and answer with its id',
        description: 'Three bodies: message/rfc822 (the raw message; the envelope in the query), JSON {envelope, raw} and JSON {from, to, subject, text, html, attachments}. The checks, sender policy, size limit and refusal codes are those of `spoolgate sendmail`. The answer comes once the spool entry is durable.',
        security: [{ sendToken: [] }, { operatorToken: [] }],
        parameters: [
          { name: 'from', in: 'query', required: false, schema: { type: 'string' }, description: 'message/rfc822 only: the envelope sender (required there)' },
          { name: 'to', in: 'query', required: false, schema: { type: 'array', items: { type: 'string' } }, style: 'form', explode: true, description: 'message/rfc822 only: a recipient (repeatable)' },
          { name: 'cc', in: 'query', required: false, schema: { type: 'array', items: { type: 'string' } }, style: 'form', explode: true },
          { name: 'bcc', in: 'query', required: false, schema: { type: 'array', items: { type: 'string' } }, style: 'form', explode: true },
        ],
        requestBody: {
          required: true,
          content: {
            'message/rfc822': { schema: { type: 'string', contentMediaType: 'message/rfc822' } },
            'application/json': { schema: { oneOf: [{ $ref: '#/components/schemas/RawMessage' }, { $ref: '#/components/schemas/ComposedMessage' }] } },
          },
        },
        responses: {
          202: { description: 'queued (durable); not yet delivered', content: { 'application/json': { schema: { $ref: '#/components/schemas/SendReceipt' } } } },
          400: sendRefusal('malformed request: bad JSON, unknown field, wrong type, bad base64, not UTF-8, bad query'),
          401: unauthorized,
          403: sendRefusal('SenderPolicy Own refuses the sender (SG_SENDMAIL_SENDER_NOT_ALLOWED)'),
          413: sendRefusal('body over Http SendMaxBody, or the message over the message entry limit (SG_SENDMAIL_FILE_TOO_LARGE)'),
          415: sendRefusal('neither message/rfc822 nor application/json'),
          422: sendRefusal('the message or an address is not valid (SG_SENDMAIL_*), header text with a line break, too many attachments'),
          429: sendRefusal('over Http SendRate for this client address (Retry-After)'),
          503: sendRefusal('too many sends at once (SG_HTTP_BUSY) or the spool cannot be written (SG_SENDMAIL_SPOOL_FAILED); Retry-After'),
        },
      },
    },
  },
} as const;

/** The document as served and as kept in docs/openapi.json (2-space indent, final newline). */
export const OPENAPI_JSON = JSON.stringify(OPENAPI, null, 2) + '\n';
