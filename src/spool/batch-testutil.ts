// Test helpers for the batch-SMTP parser tests (imported only by *.test.ts files): builds
// RecordItem values from lines and renders events as compact strings.
import type { RecordItem, RecordProblem } from './records.js';
import { BatchParser, type BatchEvent, type BatchOptions } from './batch.js';
import { formatMailbox } from '../core/address.js';
import type { Clock } from '../core/clock.js';

/** Records numbered from 1, with byte offsets as a text spool with LF line ends would give. */
export function toItems(lines: readonly (string | { error: RecordProblem })[]): RecordItem[] {
  let off = 0;
  return lines.map((l, i) => {
    if (typeof l === 'string') {
      const it: RecordItem = { kind: 'record', recordNo: i + 1, text: l, offset: off, endOffset: off + l.length + 1 };
      off += l.length + 1;
      return it;
    }
    const it: RecordItem = { kind: 'error', recordNo: i + 1, offset: off, endOffset: off + 10, problem: l.error, detail: 'test' };
    off += 10;
    return it;
  });
}

export function baseOptions(clock: Clock, over: Partial<BatchOptions> = {}): BatchOptions {
  return {
    syntaxErrorLimit: 0, jobSizeKB: 0, msgSizeKB: 0, atSign: '@', maxRecipients: 2000,
    header: { date: false, userInfo: true }, instance: 'SPOOLGW', hostName: 'gw.example',
    job: { jobName: 'PAYJOB', jobId: 'J0001234', originUser: 'PAYUSER' }, clock, timeZone: 'UTC',
    ...over,
  };
}

/** Message data without the 3-line Received header, generated msg-ids replaced by <ID>, CRLF → \n. */
export function normalizeData(data: Buffer): string {
  const s = data.toString('latin1');
  const lines = s.split('\r\n');
  return lines.slice(3).join('\n').replace(/<[0-9a-z]+\.spoolgate@[^>]*>/g, '<ID>');
}

export function render(e: BatchEvent): string {
  if (e.kind === 'message') {
    const m = e.message;
    const env = m.envelope;
    const from = env.from.kind === 'null' ? '<>' : `<${formatMailbox(env.from.mailbox)}>`;
    const to = env.recipients.map((r) => `<${formatMailbox(r.mailbox)}>`).join(',');
    const bad = m.badRecipients.map((b) => ` bad=${b.address}:${b.problem.code}`).join('');
    return `message ${m.messageNo} ${from} -> ${to}${env.requireTls ? ' tls' : ''}${bad} r${m.firstRecordNo}-${m.lastRecordNo}`;
  }
  const p = e.problem;
  return `${e.kind} r${p.recordNo} m${p.messageNo} ${p.code} ${p.enhanced} ${p.text}`;
}

export function runAll(opts: BatchOptions, items: RecordItem[]): { events: BatchEvent[]; parser: BatchParser } {
  const parser = new BatchParser(opts);
  const events = [...parser.push(items), ...parser.end()];
  return { events, parser };
}
