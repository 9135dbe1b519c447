// Shared fixtures of the client peer tests (test/peers/client-*.test.ts).
import type { OutboundMessage } from '../../src/smtp/client/index.js';

/** Dot-stuffing cases, 8-bit bytes, a 998-octet line and one starting with a dot. */
export const TRICKY_BODY = 'Subject: peer test\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n\r\n'
  + '.\r\n..\r\n.leading\r\ncaf\xe9 \xe0 \xff\r\n' + 'y'.repeat(998) + '\r\n' + '.' + 'z'.repeat(997) + '\r\nlast line\r\n';

export function msg(to: string[], body = TRICKY_BODY, requireTls = false): OutboundMessage {
  const data = Buffer.from(body, 'latin1');
  return {
    envelope: {
      from: { kind: 'mailbox', mailbox: { local: 'job', domain: 'host.test' } },
      recipients: to.map((a) => { const [local = '', domain = ''] = a.split('@'); return { mailbox: { local, domain } }; }),
      requireTls, body8bit: true,
    },
    data, size: data.length,
  };
}
