// Tokenizer for the CSSMTP configuration language.
//
// - Words are separated by blanks (space, tab). Line ends: LF, CRLF, CR, and U+0085 (EBCDIC NL
//   decoded without mapping).
// - `{` and `}` are tokens of their own wherever they appear outside quotes, so `RetryLimit{`
//   and `Count 5}` work.
// - A comment starts with `#` (CSSMTP) or `;` (ext) at the beginning of a word and runs to the
//   end of the line. Inside a word the characters are ordinary, because `#` is valid in an
//   ExtWrtName (`CSS#MTP`). The one exception: a lone `#` right after the word `AtSign` on the
//   same line is its value (`AtSign #`, as CSSMTP files write it); `AtSign "#"` works too.
// - (ext) A value may be quoted with `"`: `\"` and `\\` are the only escapes; quotes let a value
//   contain blanks, braces or a leading `#`/`;`. A quoted string ends on its line.
// - Other control characters are reported and dropped.
// The lexer never throws; problems are returned with their line number.

export type Token =
  | { readonly kind: 'word'; readonly text: string; readonly line: number; readonly quoted: boolean }
  | { readonly kind: 'open'; readonly line: number }
  | { readonly kind: 'close'; readonly line: number }
  | { readonly kind: 'eol'; readonly line: number };

export interface LexProblem {
  readonly line: number;
  readonly token: string;
  readonly problem: string;
}

export interface LexResult {
  readonly tokens: Token[];
  readonly problems: LexProblem[];
  /** Number of the last line (1 for an empty file). */
  readonly lastLine: number;
}

function hex(c: number): string {
  return `X'${c.toString(16).toUpperCase().padStart(2, '0')}'`;
}

function isBlank(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\f' || c === '\v';
}

function isLineEnd(c: string): boolean {
  return c === '\n' || c === '\r' || c === '\u0085';
}

function isControl(c: string): boolean {
  const n = c.charCodeAt(0);
  return n < 0x20 || n === 0x7f || (n >= 0x80 && n < 0xa0);
}

/** The last token is the word AtSign on this line, so a lone `#` is its value, not a comment. */
function atSignValue(tokens: readonly Token[], line: number): boolean {
  const last = tokens[tokens.length - 1];
  return last !== undefined && last.kind === 'word' && !last.quoted && last.line === line && last.text.toUpperCase() === 'ATSIGN';
}

export function lex(text: string): LexResult {
  const tokens: Token[] = [];
  const problems: LexProblem[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  // A BOM at the very start is not part of the first word.
  if (text.charCodeAt(0) === 0xfeff) i = 1;

  while (i < n) {
    const c = text[i]!;
    if (isLineEnd(c)) {
      tokens.push({ kind: 'eol', line });
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      continue;
    }
    if (isBlank(c)) {
      i++;
      continue;
    }
    if (c === '#' && atSignValue(tokens, line) && (i + 1 === n || isBlank(text[i + 1]!) || isLineEnd(text[i + 1]!) || text[i + 1] === '}')) {
      tokens.push({ kind: 'word', text: '#', line, quoted: false });
      i++;
      continue;
    }
    if (c === '#' || c === ';') {
      while (i < n && !isLineEnd(text[i]!)) i++;
      continue;
    }
    if (c === '{' || c === '}') {
      tokens.push({ kind: c === '{' ? 'open' : 'close', line });
      i++;
      continue;
    }
    if (c === '"') {
      let value = '';
      let closed = false;
      i++;
      while (i < n && !isLineEnd(text[i]!)) {
        const d = text[i]!;
        if (d === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (isControl(d) && d !== '\t') {
          problems.push({ line, token: value === '' ? '"' : value, problem: `control character ${hex(d.charCodeAt(0))} not allowed` });
        } else {
          value += d;
        }
        i++;
      }
      if (!closed) {
        problems.push({ line, token: `"${value}`, problem: 'quoted value not closed on its line' });
        // Keep braces that close the line (`AtSign "# }`) so one mistake gives one message.
        const m = /^(.*?)((?:[ \t]*[{}])*)[ \t]*$/.exec(value);
        tokens.push({ kind: 'word', text: m?.[1] ?? value, line, quoted: true });
        for (const b of (m?.[2] ?? '').replace(/[ \t]/g, '')) tokens.push({ kind: b === '{' ? 'open' : 'close', line });
        continue;
      }
      tokens.push({ kind: 'word', text: value, line, quoted: true });
      continue;
    }
    // A plain word: up to a blank, line end, brace or quote.
    let word = '';
    while (i < n) {
      const d = text[i]!;
      if (isBlank(d) || isLineEnd(d) || d === '{' || d === '}' || d === '"') break;
      if (isControl(d)) {
        problems.push({ line, token: word === '' ? hex(d.charCodeAt(0)) : word, problem: `control character ${hex(d.charCodeAt(0))} not allowed` });
      } else {
        word += d;
      }
      i++;
    }
    if (word !== '') tokens.push({ kind: 'word', text: word, line, quoted: false });
  }
  tokens.push({ kind: 'eol', line });
  // A final line end does not start another line: report "end of file" problems on the last line.
  const lastLine = line > 1 && n > 0 && isLineEnd(text[n - 1]!) ? line - 1 : line;
  return { tokens, problems, lastLine };
}
