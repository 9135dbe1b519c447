// Helpers for relay tests that cross every role (not a test file): a real gateway (startServices:
// receiver, spool, forwarder) whose target is nodemailer's smtp-server, an SMTP implementation
// nobody here wrote, recording exactly what it was given: the envelope with its parameters and
// the message bytes.
import type { TestContext } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { Logger } from '../../src/log/index.js';
import { startServices, type Services } from '../../src/main.js';
import { writeConfig } from '../../src/testing/gateway.js';
import { tempDir } from '../../src/testing/peers.js';
import type { Config } from '../../src/config/index.js';

/** One transaction as the target saw it. */
export interface TargetMail {
  readonly from: string;
  /** MAIL FROM parameters (upper-case keys), {} when none. */
  readonly fromArgs: Record<string, unknown>;
  readonly bodyType: string | undefined;
  readonly smtpUtf8: boolean;
  readonly rcpts: readonly { readonly address: string; readonly notify?: readonly string[]; readonly orcpt?: string }[];
  readonly ret: string | undefined;
  readonly envid: string | undefined;
  readonly data: Buffer;
}

export interface RelayTarget {
  readonly port: number;
  readonly mails: TargetMail[];
  /** Resolves when `n` mails have arrived (or rejects after `maxMs`). */
  waitFor(n: number, maxMs?: number): Promise<void>;
}

/** smtp-server on 127.0.0.1:0 offering 8BITMIME, SMTPUTF8, DSN and PIPELINING, no TLS, no AUTH. */
export async function startRelayTarget(t: TestContext, opts: {
  smtpUtf8?: boolean; eightBitMime?: boolean;
  /** false: DSN is not offered (default: offered). */
  dsn?: boolean;
  /** An Error (with responseCode) refuses the recipient. */
  onRcpt?: (address: string) => Error | undefined;
} = {}): Promise<RelayTarget> {
  const mails: TargetMail[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const srv = new SMTPServer({
    logger: false, authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], hideDSN: opts.dsn === false,
    hideSMTPUTF8: opts.smtpUtf8 === false, hide8BITMIME: opts.eightBitMime === false, size: 50 * 1024 * 1024,
    onRcptTo(address, _session, cb) { cb(opts.onRcpt?.(address.address) ?? null); },
    onData(stream, session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        const e = session.envelope;
        const from = e.mailFrom === false ? { address: '', args: false as const } : e.mailFrom;
        mails.push({
          from: from.address,
          fromArgs: from.args === false ? {} : { ...from.args },
          bodyType: e.bodyType,
          smtpUtf8: e.smtpUtf8 === true,
          rcpts: e.rcptTo.map((r) => ({
            address: r.address,
            ...(r.dsn?.notify !== undefined ? { notify: r.dsn.notify } : {}),
            ...(r.dsn?.orcpt !== undefined ? { orcpt: r.dsn.orcpt } : {}),
          })),
          ret: e.dsn?.ret ?? undefined,
          envid: e.dsn?.envid ?? undefined,
          data: Buffer.concat(parts),
        });
        for (const w of waiters.filter((x) => mails.length >= x.n)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
        cb(null);
      });
    },
  });
  // A peer that resets its connection (a gateway killed with -9) is an 'error' event, not a crash of the test.
  srv.on('error', () => undefined);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => new Promise<void>((resolve) => srv.close(() => resolve())));
  const a = srv.server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  return {
    port, mails,
    waitFor: (n, maxMs = 60_000) => {
      if (mails.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`waited ${maxMs} ms for ${n} mails at the target, got ${mails.length}`)), maxMs);
        waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    },
  };
}

export interface RelayGateway {
  readonly services: Services;
  readonly config: Config;
  readonly receiverPort: number;
  readonly dir: string;
}

/**
 * A running gateway: Receiver on 127.0.0.1:0 (local domain local.test, host mx.gw.test, the
 * given relay settings), forwarder to `targetPort`. `extra` goes after the Receiver block.
 */
export async function startRelayGateway(t: TestContext, targetPort: number, receiverBody = 'RelayMode AddressList\n RelayAddress 127.0.0.1/32', extra = ''): Promise<RelayGateway> {
  const dir = tempDir(t, 'spoolgate-relay-');
  const { config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${targetPort} ConnectLimit 2 }
    RetryLimit { Count 2 Interval 1 }
    Receiver {
      Listen 127.0.0.1:0
      HostName mx.gw.test
      LocalDomain local.test
      ${receiverBody}
    }
    ${extra}`);
  const services = await startServices(config, { log: process.env.GW_LOG ? undefined : Logger.silent() });
  t.after(() => services.stop());
  await services.gateway.forwarder.start();
  const rx = services.listening.find((l) => l.role === 'smtp');
  if (rx === undefined) throw new Error(`no receiver listening: ${JSON.stringify(services.listening)}`);
  return { services, config, receiverPort: rx.port, dir };
}

/** The message below the receiver's own Received field (the first header field, folded). */
export function belowOurReceived(data: Buffer): Buffer {
  const text = data.toString('latin1');
  if (!text.startsWith('Received: ')) throw new Error('the message does not start with our Received field');
  let i = text.indexOf('\r\n');
  while (i >= 0 && (text[i + 2] === ' ' || text[i + 2] === '\t')) i = text.indexOf('\r\n', i + 2);
  return data.subarray(i + 2);
}
