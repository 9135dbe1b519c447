// `sendmail -bs`: an SMTP dialog on standard input and output (RFC 5321), as Symfony Mailer's and
// SwiftMailer's sendmail transports and `swaks --pipe` speak it. The dialog is the receiver's own
// protocol engine (smtp/server: one implementation of every SMTP rule, its limits and deadlines),
// bridged to stdin/stdout through a Unix socket in a private (0700) directory, so no other local
// user can reach it. The caller is the local user: every recipient is accepted, the sender must
// pass SenderPolicy (checked at RCPT, 550 5.7.1), and each accepted message is queued as a
// `sendmail` submission (our submission Received field replaces the engine's, which would name a
// socket). 250 is sent only once the spool entry is durable (the engine's sink contract).
import { connect, createServer, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { formatPath } from '../core/address.js';
import { messageEntryLimit, type Config } from '../config/index.js';
import { SmtpServer, type InboundSink, type RecipientPolicy } from '../smtp/server/index.js';
import { decideSender, localDomain, type Caller } from '../submit/policy.js';
import { putOnSpool, type SpoolTarget } from '../submit/spool.js';
import { EX } from '../submit/sendmail-args.js';
import { Codes } from '../smtp/protocol/codes.js';
import type { CliIo } from './io.js';

/** The message without its first header field (the engine's Received, folded over lines). */
function withoutFirstField(data: Buffer): Buffer {
  let i = data.indexOf('\r\n');
  while (i >= 0 && (data[i + 2] === 0x20 || data[i + 2] === 0x09)) i = data.indexOf('\r\n', i + 2);
  return i < 0 ? data : data.subarray(i + 2);
}

export async function runSmtpDialog(io: CliIo, config: Config, caller: Caller): Promise<number> {
  const target: SpoolTarget = { root: config.spool.directory, writer: config.extWrtName, hostName: config.hostName, instance: config.instance, header: config.header };
  const domain = localDomain(config);
  const sink: InboundSink = {
    async accept(m) {
      try {
        await putOnSpool({ target, tool: 'sendmail', user: caller.user, envelope: m.envelope, data: withoutFirstField(m.data) });
        return { ok: true, id: m.sessionId };
      } catch {
        return { ok: false, reply: { code: Codes.C451LocalError, text: 'cannot queue the message now, try again later' } };
      }
    },
  };
  const recipientPolicy: RecipientPolicy = {
    checkRecipient(_session, envelope) {
      if (envelope.from.kind === 'null') return { kind: 'accept' }; // names nobody (spool/sender-policy.ts)
      const d = decideSender({ policy: config.users.senderPolicy, caller, domain, from: formatPath(envelope.from).replace(/^<|>$/g, '') });
      return d.ok ? { kind: 'accept' } : { kind: 'reject', reply: { code: Codes.C550PolicyRejected, text: d.error.message } };
    },
  };
  const server = new SmtpServer({
    hostName: config.hostName, clock: systemClock, sink, recipientPolicy,
    limits: { maxMessageSize: messageEntryLimit(config), maxConnections: 1, maxConnectionsPerIp: 1 },
  });
  const dir = await mkdtemp(join(tmpdir(), 'spoolgate-bs-'));
  const path = join(dir, 'smtp');
  const listener = createServer((s: Socket) => server.serve(s));
  try {
    await new Promise<void>((resolve, reject) => { listener.once('error', reject); listener.listen(path, () => resolve()); });
    const client = connect(path);
    await new Promise<void>((resolve, reject) => { client.once('connect', resolve); client.once('error', reject); });
    listener.close(); // one dialog only
    const done = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.on('data', (d: Buffer) => { io.stdout.write(d.toString('latin1')); });
    client.on('error', () => client.destroy());
    (async () => {
      for await (const chunk of io.stdin) if (!client.destroyed) client.write(chunk);
      if (!client.destroyed) client.end();
    })().catch(() => client.destroy());
    await done;
    await server.close();
    return EX.OK;
  } finally {
    listener.close();
    await rm(dir, { recursive: true, force: true });
  }
}
