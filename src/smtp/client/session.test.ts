// Failure table for the SMTP client against FakeSmtpServer: one row per failure point, each
// asserting the outcome and its permanence (STYLE.md §6). Timeouts use small configured ms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SmtpClientSession } from './session.js';
import type { ClientOptions, ConnectFailure, MessageOutcome, OutboundMessage } from './types.js';
import { FakeSmtpServer, type FakeScript } from '../../testing/fake-smtp-server.js';
import { testCerts } from '../../testing/certs.js';
import { TimeoutError } from '../../core/errors.js';
import type { Envelope } from '../../core/envelope.js';

const SHORT = { connect: 2000, initialMsg: 300, mailCmd: 300, rcptCmd: 300, dataCmd: 300, dataBlock: 300, dataTerm: 300, anyCmd: 1000 };

function message(opts: { rcpts?: string[]; body?: string; requireTls?: boolean } = {}): OutboundMessage {
  const rcpts = opts.rcpts ?? ['a@dest.test', 'b@dest.test', 'c@dest.test'];
  const envelope: Envelope = {
    from: { kind: 'mailbox', mailbox: { local: 'job', domain: 'host.test' } },
    recipients: rcpts.map((r) => { const [local = '', domain = ''] = r.split('@'); return { mailbox: { local, domain } }; }),
    requireTls: opts.requireTls ?? false,
  };
  const data = Buffer.from(opts.body ?? 'Subject: test\r\n\r\nhello\r\n.leading dot\r\n', 'latin1');
  return { envelope, data, size: data.length };
}

function options(srv: FakeSmtpServer, extra: Partial<ClientOptions> = {}): ClientOptions {
  return { host: srv.host, port: srv.port, heloName: 'gw.test', timeouts: SHORT, tls: { caFile: testCerts().caFile }, ...extra };
}

interface Run { failure?: ConnectFailure; outcome?: MessageOutcome; session?: SmtpClientSession; srv: FakeSmtpServer }

async function run(script: FakeScript, extra: Partial<ClientOptions> = {}, msg: OutboundMessage = message()): Promise<Run> {
  const srv = await FakeSmtpServer.start(script);
  try {
    const c = await SmtpClientSession.connect(options(srv, extra));
    if (!c.ok) return { failure: c.error, srv };
    const outcome = await c.value.send(msg);
    await c.value.quit();
    return { outcome, session: c.value, srv };
  } finally {
    await srv.close();
  }
}

interface Row {
  name: string;
  script: FakeScript;
  opts?: Partial<ClientOptions>;
  msg?: OutboundMessage;
  check: (r: Run) => void;
}

function connectFailed(r: Run, stage: string, permanent: boolean): ConnectFailure {
  assert.ok(r.failure, `expected a connect failure, got ${JSON.stringify(r.outcome?.detail)}`);
  assert.equal(r.failure.stage, stage);
  assert.equal(r.failure.permanent, permanent);
  return r.failure;
}

function outcomeOf(r: Run, status: MessageOutcome['status'], usable: boolean): MessageOutcome {
  assert.ok(r.outcome, `expected an outcome, got connect failure ${r.failure?.detail}`);
  assert.equal(r.outcome.status, status, r.outcome.detail);
  assert.equal(r.outcome.connectionUsable, usable, r.outcome.detail);
  return r.outcome;
}

const rows: Row[] = [
  { name: 'greeting 554', script: { greeting: '554 5.7.1 go away' }, check: (r) => {
    const f = connectFailed(r, 'greeting', true);
    assert.equal(f.reply?.code, 554);
  } },
  { name: 'greeting hang (InitialMsg fires)', script: { greeting: { hang: true } }, check: (r) => {
    const f = connectFailed(r, 'greeting', false);
    assert.ok(f.error instanceof TimeoutError);
    assert.equal(f.error.step, 'InitialMsg');
  } },
  { name: 'EHLO 502 → HELO path', script: { replies: { EHLO: '502 5.5.2 what?' } }, check: (r) => {
    outcomeOf(r, 'sent', true);
    assert.equal(r.session?.esmtp, false);
    assert.deepEqual(r.srv.commands.slice(0, 2).map((c) => c.verb), ['EHLO', 'HELO']);
  } },
  { name: 'EHLO 554 → connect failure', script: { replies: { EHLO: '554 5.7.1 no' } }, check: (r) => { connectFailed(r, 'ehlo', true); } },
  { name: 'MAIL 451', script: { replies: { MAIL: '451 4.3.0 try later' } }, check: (r) => {
    const o = outcomeOf(r, 'transient', true);
    assert.ok(o.recipients.every((x) => x.status === 'transient' && x.reply.code === 451));
    assert.equal(r.srv.messages.length, 0);
  } },
  { name: 'MAIL 550', script: { replies: { MAIL: '550 5.7.1 sender refused' } }, check: (r) => {
    const o = outcomeOf(r, 'permanent', true);
    assert.equal(o.reply?.enhanced, '5.7.1');
    assert.ok(o.recipients.every((x) => x.status === 'permanent'));
  } },
  { name: 'one RCPT 550 of three', script: { rcpt: (a) => (a.startsWith('b@') ? '550 5.1.1 no such user' : undefined) }, check: (r) => {
    const o = outcomeOf(r, 'partial', true);
    assert.deepEqual(o.recipients.map((x) => x.status), ['accepted', 'permanent', 'accepted']);
    assert.deepEqual(r.srv.messages[0]?.recipients, ['a@dest.test', 'c@dest.test']);
  } },
  { name: 'all RCPT 450', script: { replies: { RCPT: '450 4.2.0 mailbox busy' } }, check: (r) => {
    const o = outcomeOf(r, 'transient', true);
    assert.ok(o.recipients.every((x) => x.status === 'transient' && x.reply.code === 450));
    assert.match(o.detail, /every recipient rejected/);
  } },
  { name: 'all RCPT 450 without pipelining', script: { extensions: ['8BITMIME'], replies: { RCPT: '450 4.2.0 mailbox busy' } }, check: (r) => {
    outcomeOf(r, 'transient', true);
    assert.equal(r.srv.commandsOf('DATA').length, 0, 'no DATA when no recipient was accepted');
  } },
  { name: 'DATA 554', script: { replies: { DATA: '554 5.6.0 no thanks' } }, check: (r) => {
    const o = outcomeOf(r, 'permanent', true);
    assert.ok(o.recipients.every((x) => x.reply.code === 554));
  } },
  { name: 'final dot 451', script: { onDot: () => '451 4.3.0 queue full' }, check: (r) => {
    const o = outcomeOf(r, 'transient', true);
    assert.match(o.detail, /end of data/);
  } },
  { name: 'final dot hang (DataTerm fires)', script: { onDot: () => ({ hang: true }) }, check: (r) => {
    const o = outcomeOf(r, 'transient', false);
    assert.match(o.detail, /DataTerm/);
    assert.equal(r.session?.broken, true);
  } },
  { name: 'disconnect mid-DATA', script: { disconnectAfterDataBytes: 5 }, check: (r) => {
    const o = outcomeOf(r, 'transient', false);
    assert.ok(o.recipients.every((x) => x.status === 'transient'));
  } },
  { name: 'malformed reply', script: { replies: { MAIL: { raw: 'hello there\r\n' } } }, check: (r) => {
    const o = outcomeOf(r, 'transient', false);
    assert.match(o.detail, /malformed reply/);
    assert.equal(r.session?.broken, true);
  } },
  { name: 'STARTTLS 454 on a Secure YES target', script: { tls: true, starttls: '454 4.7.0 TLS not available' }, opts: { secure: true }, check: (r) => {
    const o = outcomeOf(r, 'transient', true);
    assert.equal(r.session?.tls, false);
    assert.match(o.detail, /requires TLS .*Secure YES.*STARTTLS refused: 454/);
    assert.equal(r.srv.commandsOf('MAIL').length, 0);
  } },
  { name: 'STARTTLS 454, message without TLS requirement goes in plain', script: { tls: true, starttls: '454 4.7.0 TLS not available' }, check: (r) => {
    outcomeOf(r, 'sent', true);
    assert.equal(r.srv.messages[0]?.tls, false);
  } },
  { name: 'job STARTTLS on a server without STARTTLS', script: {}, msg: message({ requireTls: true }), check: (r) => {
    const o = outcomeOf(r, 'transient', true);
    assert.match(o.detail, /job asked for STARTTLS.*not offered/);
  } },
  { name: 'TLS handshake failure', script: { tls: true, starttls: 'break-handshake' }, check: (r) => {
    const f = connectFailed(r, 'tls', false);
    assert.match(f.detail, /TLS handshake/);
  } },
  { name: 'certificate not trusted', script: { tls: true }, opts: { tls: { caFile: testCerts().otherCaFile } }, check: (r) => {
    const f = connectFailed(r, 'tls', false);
    assert.match(f.detail, /certificate/i);
  } },
  { name: 'TLS delivery with verified certificate', script: { tls: true }, msg: message({ requireTls: true }), check: (r) => {
    outcomeOf(r, 'sent', true);
    assert.equal(r.session?.tls, true);
    assert.equal(r.srv.messages[0]?.tls, true);
    assert.equal(r.srv.commandsOf('EHLO').length, 1, 'TLSEhlo NO: no EHLO after TLS');
  } },
  { name: 'server requires EHLO after TLS, tlsEhlo false → 503 reported', script: { tls: true, requireEhloAfterTls: true }, check: (r) => {
    const o = outcomeOf(r, 'permanent', true);
    assert.equal(o.reply?.code, 503);
    assert.match(o.detail, /TLSEhlo YES/);
  } },
  { name: 'server requires EHLO after TLS, tlsEhlo true → delivered', script: { tls: true, requireEhloAfterTls: true }, opts: { tlsEhlo: true }, check: (r) => {
    outcomeOf(r, 'sent', true);
    assert.equal(r.srv.commandsOf('EHLO').length, 2);
  } },
  { name: 'SIZE exceeded', script: { extensions: ['SIZE 20', 'PIPELINING'] }, check: (r) => {
    const o = outcomeOf(r, 'permanent', true);
    assert.match(o.detail, /size \d+ exceeds .* limit 20/);
    assert.equal(r.srv.commandsOf('MAIL').length, 0);
  } },
  { name: 'MessageSize on a plain SMTP target', script: { replies: { EHLO: '500 5.5.1 unknown' } }, opts: { messageSize: 10 }, check: (r) => {
    const o = outcomeOf(r, 'permanent', true);
    assert.match(o.detail, /MessageSize/);
  } },
  { name: 'SIZE= declared on MAIL', script: { extensions: ['SIZE 100000', 'PIPELINING'] }, check: (r) => {
    outcomeOf(r, 'sent', true);
    assert.match(r.srv.messages[0]?.mailParams ?? '', /^SIZE=\d+$/);
  } },
  { name: 'AUTH over TLS', script: { tls: true, auth: { user: 'u', password: 'p' } }, opts: { auth: { user: 'u', password: 'p' }, tlsEhlo: true }, check: (r) => {
    outcomeOf(r, 'sent', true);
  } },
  { name: 'AUTH wrong password', script: { tls: true, auth: { user: 'u', password: 'p' } }, opts: { auth: { user: 'u', password: 'x' } }, check: (r) => {
    const f = connectFailed(r, 'auth', true);
    assert.equal(f.reply?.code, 535);
  } },
  { name: 'AUTH never without TLS', script: { auth: { user: 'u', password: 'p' } }, opts: { auth: { user: 'u', password: 'p' } }, check: (r) => {
    const f = connectFailed(r, 'auth', false);
    assert.match(f.detail, /no TLS/);
    assert.equal(r.srv.commandsOf('AUTH').length, 0);
  } },
  { name: '421 at MAIL closes the connection', script: { replies: { MAIL: '421 4.3.2 shutting down' } }, check: (r) => {
    outcomeOf(r, 'transient', false);
  } },
];

for (const row of rows) {
  test(`client failure table: ${row.name}`, async () => {
    row.check(await run(row.script, row.opts, row.msg));
  });
}

test('client: byte-exact delivery with dot-stuffing, 8-bit data, bare LF normalised', async () => {
  const body = 'Subject: x\r\n\r\n.\r\n..two\r\ncaf\xe9 \xff\r\nbare\nlf\r\n' + 'x'.repeat(998) + '\r\nno final newline';
  const r = await run({}, {}, message({ body }));
  outcomeOf(r, 'sent', true);
  const want = body.replace(/\r?\n/g, '\r\n') + '\r\n';
  assert.equal(r.srv.messages[0]?.data.toString('latin1'), want);
});

test('client: reuse sends one RSET between messages; pipelining sends replies in order', async () => {
  const srv = await FakeSmtpServer.start({ rcpt: (a) => (a.startsWith('x@') ? '550 5.1.1 unknown' : undefined) });
  const lines: string[] = [];
  try {
    const c = await SmtpClientSession.connect(options(srv, { trace: (d, l) => lines.push(`${d} ${l}`) }));
    assert.ok(c.ok);
    const s = c.value;
    assert.equal((await s.send(message({ rcpts: ['a@d.test'] }))).status, 'sent');
    assert.equal((await s.send(message({ rcpts: ['x@d.test', 'b@d.test'] }))).status, 'partial');
    assert.equal((await s.send(message({ rcpts: ['c@d.test'] }))).status, 'sent');
    await s.quit();
    assert.equal(srv.commandsOf('RSET').length, 2);
    assert.equal(srv.messages.length, 3);
    assert.deepEqual(srv.messages.map((m) => m.recipients), [['a@d.test'], ['b@d.test'], ['c@d.test']]);
    assert.ok(!lines.some((l) => l.includes('hello')), 'trace never shows the body');
  } finally {
    await srv.close();
  }
});

test('client: trace hides AUTH secrets', async () => {
  const srv = await FakeSmtpServer.start({ tls: true, auth: { user: 'u', password: 'sekrit' } });
  const lines: string[] = [];
  try {
    const c = await SmtpClientSession.connect(options(srv, { auth: { user: 'u', password: 'sekrit' }, trace: (d, l) => lines.push(`${d} ${l}`) }));
    assert.ok(c.ok, c.ok ? '' : c.error.detail);
    await c.value.quit();
    const b64 = Buffer.from('\0u\0sekrit').toString('base64');
    assert.ok(lines.includes('C AUTH PLAIN ***'));
    assert.ok(!lines.some((l) => l.includes(b64) || l.includes('sekrit')));
  } finally {
    await srv.close();
  }
});

test('client: a broken session fails fast', async () => {
  const r = await run({ onDot: () => ({ hang: true }) });
  assert.equal(r.session?.broken, true);
  const o = await r.session!.send(message());
  assert.equal(o.status, 'transient');
  assert.equal(o.connectionUsable, false);
  assert.match(o.detail, /not usable/);
});

test('client: connection refused is a transient connect failure', async () => {
  const srv = await FakeSmtpServer.start({});
  const port = srv.port;
  await srv.close();
  const c = await SmtpClientSession.connect({ host: '127.0.0.1', port, heloName: 'gw.test', timeouts: SHORT });
  assert.ok(!c.ok);
  assert.equal(c.error.stage, 'connect');
  assert.equal(c.error.permanent, false);
});

test('client: with PIPELINING the RSET between messages goes in one group with MAIL, RCPT and DATA (RFC 2920 §3.1)', async () => {
  // This server answers RSET only once the MAIL after it has arrived: a client that waits for
  // the RSET reply before it sends MAIL (a round trip per message) times out here.
  const { createServer } = await import('node:net');
  const seen: string[] = [];
  const server = createServer((sock) => {
    let buf = '';
    let inData = false;
    let heldRset = false;
    sock.write('220 pipe.test ESMTP\r\n');
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (inData) { if (line === '.') { inData = false; sock.write('250 2.0.0 queued\r\n'); } continue; }
        const verb = line.split(' ')[0]!.toUpperCase();
        seen.push(verb);
        if (verb === 'EHLO') sock.write('250-pipe.test\r\n250 PIPELINING\r\n');
        else if (verb === 'RSET') heldRset = true;
        else if (verb === 'MAIL') { sock.write(heldRset ? '250 2.0.0 reset\r\n250 2.1.0 ok\r\n' : '250 2.1.0 ok\r\n'); heldRset = false; }
        else if (verb === 'RCPT') sock.write('250 2.1.5 ok\r\n');
        else if (verb === 'DATA') { inData = true; sock.write('354 go\r\n'); }
        else if (verb === 'QUIT') { sock.end('221 bye\r\n'); }
        else sock.write('502 5.5.1 no\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    const c = await SmtpClientSession.connect({ host: '127.0.0.1', port, heloName: 'gw.test', timeouts: SHORT, tls: {} });
    assert.ok(c.ok, c.ok ? '' : c.error.detail);
    for (let i = 0; i < 3; i++) assert.equal((await c.value.send(message({ rcpts: ['a@d.test'] }))).status, 'sent', `message ${i + 1}`);
    await c.value.quit();
    assert.deepEqual(seen, ['EHLO', 'MAIL', 'RCPT', 'DATA', 'RSET', 'MAIL', 'RCPT', 'DATA', 'RSET', 'MAIL', 'RCPT', 'DATA', 'QUIT']);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('client: a refused pipelined RSET closes the connection; the message is deferred, nothing sent', async () => {
  const srv = await FakeSmtpServer.start({ replies: { RSET: '500 5.5.1 no RSET here' } });
  try {
    const c = await SmtpClientSession.connect(options(srv));
    assert.ok(c.ok);
    assert.equal((await c.value.send(message({ rcpts: ['a@d.test'] }))).status, 'sent');
    const second = await c.value.send(message({ rcpts: ['b@d.test'] }));
    assert.equal(second.status, 'transient');
    assert.equal(second.connectionUsable, false);
    assert.match(second.detail, /RSET refused/);
    assert.equal(srv.messages.length, 1);
    await c.value.quit();
  } finally {
    await srv.close();
  }
});
