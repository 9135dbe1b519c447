// The message enqueue-crash-child.ts writes and enqueue-crash.test.ts expects (not a test file).
import { parseMailbox, type Envelope, type Mailbox } from '../../src/core/index.js';
import type { MessageOrigin } from '../../src/spool/message-entry.js';

function mb(s: string): Mailbox {
  const m = parseMailbox(s, { utf8: true });
  if (!m.ok) throw new Error(`bad test address ${s}`);
  return m.value;
}

export function crashCase(): { envelope: Envelope; data: Buffer; origin: MessageOrigin; jobName: string } {
  return {
    envelope: {
      from: { kind: 'mailbox', mailbox: mb('jörg@clïent.test') },
      recipients: [
        { mailbox: mb('a@far.test'), notify: { kind: 'on', success: true, failure: true, delay: false }, orcpt: { type: 'rfc822', address: 'a+x@far.test' } },
        { mailbox: mb('"b c<"@far.test'), notify: { kind: 'never' } },
      ],
      requireTls: false,
      dsn: { ret: 'HDRS', envid: 'env\r1' },
      body8bit: true,
      smtputf8: true,
    },
    // Big enough that the data write is not one tiny block; NUL, 8-bit, an 80-octet "<" line.
    data: Buffer.concat([
      Buffer.from('Subject: crash\r\n\r\n', 'latin1'),
      Buffer.from('x'.repeat(79) + '<\r\nMAIL FROM:<forged@evil.test>\r\n', 'latin1'),
      Buffer.from(Array.from({ length: 256 * 1024 }, (_, i) => (i * 7) & 0xff)),
      Buffer.from('\r\n', 'latin1'),
    ]),
    origin: { kind: 'receiver', client: '127.0.0.1', helo: 'client.test', auth: null, tls: false, session: 'S1' },
    jobName: 'RECEIVER',
  };
}
