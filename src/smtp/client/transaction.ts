// One mail transaction on an open session: [RSET] MAIL, RCPT…, DATA, message, final dot —
// pipelined when the server offers PIPELINING — and the per-recipient outcome.
//
// RFC 5321 §3.3 mail transaction; §4.5.2 transparency (dot-stuffing); §3.8 / §4.2.5 replies.
// RFC 2920 §3.1: the client sends MAIL, every RCPT and DATA in one write, then reads the replies
// in order; if DATA is answered 354 although no recipient was accepted, the client sends the
// terminating dot at once.
import { ProtocolError, SpoolgateError, TimeoutError, TransportError, describeError } from '../../core/errors.js';
import { Codes, classOf } from '../protocol/codes.js';
import type { Capabilities } from '../protocol/ehlo.js';
import { describeReply, localReply, type Reply } from '../protocol/reply.js';
import { DotStuffer } from '../protocol/dot-stuff.js';
import * as Cmd from '../protocol/command.js';
import type { Wire } from './wire.js';
import type { ClientTimeouts, MessageOutcome, OutboundMessage, RecipientOutcome, RecipientStatus, TraceFn } from './types.js';

/** Bytes handed to one socket write during DATA (the DataBlock timeout applies to each). */
export const DATA_BLOCK_BYTES = 65536;

export interface TxContext {
  readonly caps: Capabilities;
  readonly timeouts: ClientTimeouts;
  /** A transaction ran before on this connection: send one RSET first. */
  readonly rsetFirst: boolean;
  readonly pipelining: boolean;
  /** TLS is on but EHLO was not repeated after it (TLSEhlo NO): explains a 503 to MAIL. */
  readonly tlsWithoutEhlo: boolean;
}

interface Progress {
  rset?: Reply;
  mail?: Reply;
  rcpt: (Reply | undefined)[];
  data?: Reply;
  final?: Reply;
  error?: unknown;
}

const positive = (r: Reply | undefined): boolean => r !== undefined && classOf(r.code) === 'success';

function statusOf(r: Reply): RecipientStatus {
  const c = classOf(r.code);
  // SPEC.md §2.1 / STYLE.md §4: 5xx permanent; 4xx and anything unexpected transient.
  return c === 'success' ? 'accepted' : c === 'permanent' ? 'permanent' : 'transient';
}

export async function sendMessage(wire: Wire, m: OutboundMessage, ctx: TxContext, trace: TraceFn | undefined): Promise<MessageOutcome> {
  const t = ctx.timeouts;
  const env = m.envelope;
  const caps = ctx.caps;
  const p: Progress = { rcpt: env.recipients.map(() => undefined) };
  const pipelined = ctx.pipelining && caps.pipelining;
  try {
    if (ctx.rsetFirst && !pipelined) {
      p.rset = await wire.command(Cmd.RSET, 'AnyCmd', t.anyCmd);
      if (p.rset.code !== 250) throw new ProtocolError(`RSET refused: ${describeReply(p.rset)}`);
    }
    const mailLine = Cmd.mailFrom(env.from, {
      // RFC 1870 §6: declare the size when SIZE is offered.
      ...(caps.size !== undefined ? { size: m.size } : {}),
      // RFC 6152 §3: BODY=8BITMIME only to servers that offer it.
      ...(env.body8bit === true && caps.eightBitMime ? { body: '8BITMIME' as const } : {}),
      ...(env.smtputf8 === true && caps.smtputf8 ? { smtputf8: true } : {}),
      // RFC 3461 §4: DSN parameters only to servers that offer DSN.
      ...(caps.dsn && env.dsn?.ret !== undefined ? { ret: env.dsn.ret } : {}),
      ...(caps.dsn && env.dsn?.envid !== undefined ? { envid: env.dsn.envid } : {}),
    });
    const rcptLines = env.recipients.map((r) => Cmd.rcptTo(r.mailbox, caps.dsn ? {
      ...(r.notify !== undefined ? { notify: r.notify } : {}),
      ...(r.orcpt !== undefined ? { orcpt: r.orcpt } : {}),
    } : {}));

    if (pipelined) {
      // RFC 2920 §3.1: RSET may appear anywhere in a pipelined group, so the one RSET between
      // messages goes in the same write as MAIL, RCPT and DATA (no round trip of its own).
      wire.send(ctx.rsetFirst ? [Cmd.RSET, mailLine, ...rcptLines, Cmd.DATA] : [mailLine, ...rcptLines, Cmd.DATA]);
      if (ctx.rsetFirst) {
        p.rset = await wire.read('AnyCmd', t.anyCmd);
        if (p.rset.code !== 250) {
          // The rest of the group is under way; closing is the only way not to send its data.
          const e = new ProtocolError(`RSET refused: ${describeReply(p.rset)}`);
          wire.fail(e);
          throw e;
        }
      }
      p.mail = await wire.read('MAILCmd', t.mailCmd);
      for (let i = 0; i < rcptLines.length; i++) p.rcpt[i] = await wire.read('RCPTCmd', t.rcptCmd);
      p.data = await wire.read('DATACmd', t.dataCmd);
    } else {
      p.mail = await wire.command(mailLine, 'MAILCmd', t.mailCmd);
      if (positive(p.mail)) {
        for (let i = 0; i < rcptLines.length; i++) {
          const r = await wire.command(rcptLines[i]!, 'RCPTCmd', t.rcptCmd);
          p.rcpt[i] = r;
          if (r.code === 421) break;
        }
        if (p.rcpt.some(positive)) p.data = await wire.command(Cmd.DATA, 'DATACmd', t.dataCmd);
      }
    }

    if (p.data?.code === 354) {
      if (positive(p.mail) && p.rcpt.some(positive)) {
        trace?.('C', `<${(m.prefix?.length ?? 0) + m.data.length} octets of message data>`);
        // The prefix (header fields put on top, e.g. DKIM-Signature) and the message are one
        // text. It is stuffed into views of the message (no copy) and written in blocks of about
        // DATA_BLOCK_BYTES, each one gathered write; the last block carries the terminating
        // ".\r\n", whose reply is owed. A 4 KB message is one write.
        const stuffer = new DotStuffer();
        let block: Buffer[] = [];
        let octets = 0;
        for (const part of m.prefix !== undefined && m.prefix.length > 0 ? [m.prefix, m.data] : [m.data]) {
          for (let off = 0; off < part.length; off += DATA_BLOCK_BYTES) {
            const piece = part.subarray(off, off + DATA_BLOCK_BYTES);
            stuffer.pushViews(piece, block);
            octets += piece.length;
            if (octets >= DATA_BLOCK_BYTES) {
              await wire.writeData(block, false, 'DataBlock', t.dataBlock);
              block = [];
              octets = 0;
            }
          }
        }
        await wire.writeData(stuffer.endViews(block), true, 'DataBlock', t.dataBlock);
      } else {
        // RFC 2920 §3.1: 354 although nothing was accepted: end the (empty) data at once.
        wire.send(['.\r\n']);
      }
      p.final = await wire.read('DataTerm', t.dataTerm);
    }
  } catch (e) {
    p.error = e;
  }
  const closing = [p.rset, p.mail, ...p.rcpt, p.data, p.final].find((r) => r?.code === 421);
  // RFC 5321 §3.8: 421 means the server is closing the channel.
  if (closing !== undefined) wire.fail(new TransportError(`server is closing the connection: ${describeReply(closing)}`));
  return outcome(m, p, !wire.broken, ctx.tlsWithoutEhlo);
}

function errorReply(e: unknown): Reply {
  if (e instanceof TimeoutError) return localReply(Codes.C451ConnectionFailed, `no reply: ${e.message} (${e.step})`);
  if (e instanceof TransportError) return localReply(Codes.C451ConnectionFailed, e.message);
  if (e instanceof ProtocolError) return localReply(Codes.C451ProtocolError, e.message);
  if (e instanceof SpoolgateError) return localReply(Codes.C451LocalError, e.message);
  return localReply(Codes.C451LocalError, `internal error: ${describeError(e)}`);
}

function outcome(m: OutboundMessage, p: Progress, usable: boolean, tlsWithoutEhlo: boolean): MessageOutcome {
  const err = p.error !== undefined ? errorReply(p.error) : undefined;
  const fallback = err ?? localReply(Codes.C451LocalError, 'transaction did not complete');
  const mailFailed = p.mail !== undefined && !positive(p.mail);
  const dataFailed = p.data !== undefined && p.data.code !== 354;
  const recipients: RecipientOutcome[] = m.envelope.recipients.map((recipient, i) => {
    const rr = p.rcpt[i];
    let reply: Reply;
    if (mailFailed) reply = p.mail!;
    else if (rr !== undefined && !positive(rr)) reply = rr;
    else if (rr === undefined) reply = fallback;
    else if (p.final !== undefined) reply = p.final;
    else if (dataFailed) reply = p.data!;
    else reply = fallback;
    return { recipient, status: statusOf(reply), reply };
  });
  const accepted = recipients.filter((r) => r.status === 'accepted').length;
  const status: MessageOutcome['status'] =
    recipients.length > 0 && accepted === recipients.length ? 'sent'
      : accepted > 0 ? 'partial'
        : recipients.some((r) => r.status === 'transient') || recipients.length === 0 ? 'transient' : 'permanent';

  let reply: Reply | undefined;
  let detail: string;
  if (err !== undefined) {
    reply = err;
    const step = p.error instanceof TimeoutError ? p.error.step : undefined;
    detail = `${step !== undefined ? `timeout (${step}): ` : ''}${describeError(p.error)}`;
  } else if (p.rset !== undefined && p.rset.code !== 250) {
    reply = p.rset;
    detail = `RSET refused: ${describeReply(p.rset)}`;
  } else if (mailFailed) {
    reply = p.mail;
    detail = `MAIL FROM rejected: ${describeReply(p.mail!)}`;
    // Seed 000 diagnosis guide: 503 after a successful TLS negotiation usually means the server
    // wants EHLO again.
    if (p.mail!.code === 503 && tlsWithoutEhlo) detail += ' (503 bad sequence after STARTTLS: the server probably requires EHLO after TLS; set Options TLSEhlo YES)';
  } else if (!p.rcpt.some(positive)) {
    reply = p.rcpt.find((r) => r !== undefined);
    detail = `every recipient rejected${reply ? `: ${describeReply(reply)}` : ''}`;
  } else if (dataFailed) {
    reply = p.data;
    detail = `DATA rejected: ${describeReply(p.data!)}`;
  } else if (p.final !== undefined && !positive(p.final)) {
    reply = p.final;
    detail = `message rejected at end of data: ${describeReply(p.final)}`;
  } else {
    reply = p.final;
    detail = status === 'sent'
      ? `sent: ${reply ? describeReply(reply) : ''}`
      : `accepted for ${accepted} of ${recipients.length} recipients: ${reply ? describeReply(reply) : ''}`;
  }
  return { status, recipients, ...(reply !== undefined ? { reply } : {}), detail, connectionUsable: usable };
}
