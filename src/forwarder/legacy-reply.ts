// Replies as spoolgate 0.1 stored them: one line, `lifecycle.replyText` ("550 5.1.1 no such user",
// "451 text"). Only for reading records written before replies were kept structured (checkpoint
// schema version 0, mail-directory control record version 1); nothing writes this form any more.
import type { ReplyInfo } from './types.js';

const LINE = /^([2-5]\d\d)(?: ([245]\.\d{1,3}\.\d{1,3}))?(?: (.*))?$/s;

/** Splits an old reply line; a line without a reply code keeps its text under `fallbackCode`. */
export function replyFromLegacyLine(line: string, fallbackCode: number): ReplyInfo {
  const m = LINE.exec(line);
  if (m === null) return { code: fallbackCode, text: line };
  return m[2] === undefined ? { code: Number(m[1]), text: m[3] ?? '' } : { code: Number(m[1]), enhanced: m[2], text: m[3] ?? '' };
}
