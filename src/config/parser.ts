// Statement parser: turns tokens into statements, using the statement table to know which
// keywords take a value and which take a block.
//
//   Keyword value                       value statement (one value, on the keyword's line)
//   Keyword { Param value ... }         block statement; braces may stand on their own lines, on
//                                       the keyword's line, or the whole block on one line.
//
// Inside a block each parameter's value must be on the parameter's line; several
// `Param value` pairs may share a line. Recovery after an error: the rest of the line is
// skipped, a known statement keyword at the start of a line inside a block closes that block
// (reported as a missing `}`), so one mistake gives one message, not a cascade.
import { didYouMean } from './suggest.js';
import type { Token } from './lexer.js';
import type { Diagnostics } from './errors.js';
import { type StatementDef, findParam, findStatement, paramList, STATEMENTS } from './schema.js';

export interface RawValue {
  readonly text: string;
  readonly line: number;
}

export interface RawParam {
  readonly def: { readonly name: string; readonly repeatable: boolean };
  readonly line: number;
  readonly value: RawValue;
}

export interface RawStatement {
  readonly def: StatementDef;
  readonly line: number;
  /** Value statements only. */
  readonly value: RawValue | null;
  /** Block statements only, in file order. */
  readonly params: readonly RawParam[];
}

const ALL_STATEMENTS = 'a statement name (' + STATEMENTS.map((s) => s.name).join(', ') + ')';

function describe(t: Token): string {
  switch (t.kind) {
    case 'word': return `'${t.text}'`;
    case 'open': return "'{'";
    case 'close': return "'}'";
    case 'eol': return 'end of line';
  }
}

/** Tokens come from lex(): the last token is always 'eol'. */
export function parseStatements(tokens: readonly Token[], diag: Diagnostics, lastLine: number): RawStatement[] {
  const out: RawStatement[] = [];
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const atLineStart = (k: number): boolean => k === 0 || tokens[k - 1]!.kind === 'eol';

  /** Skips to just after the next end of line (or just before a '}' when stopAtClose). */
  const skipLine = (stopAtClose = false): void => {
    while (i < tokens.length) {
      const t = tokens[i]!;
      if (stopAtClose && t.kind === 'close') return;
      i++;
      if (t.kind === 'eol') return;
    }
  };
  const skipEols = (): void => {
    while (i < tokens.length && tokens[i]!.kind === 'eol') i++;
  };

  const parseValueStatement = (def: StatementDef, line: number): void => {
    const t = peek();
    if (t === undefined || t.kind !== 'word') {
      if (t?.kind === 'open') diag.error(line, def.name, null, `takes a value, not a block`, `${def.name} value`);
      else diag.error(line, def.name, null, 'missing value', `${def.name} value`);
      skipLine();
      return;
    }
    i++;
    const extra = peek();
    if (extra !== undefined && extra.kind !== 'eol') {
      diag.error(t.line, def.name, null, `unexpected ${describe(extra)} after the value`, 'one value per statement');
      skipLine();
      out.push({ def, line, value: { text: t.text, line: t.line }, params: [] });
      return;
    }
    skipLine();
    out.push({ def, line, value: { text: t.text, line: t.line }, params: [] });
  };

  const parseBlock = (def: StatementDef, line: number): void => {
    // Expect '{' on this line or, after blank/comment lines, on a later line.
    const save = i;
    skipEols();
    const open = peek();
    if (open === undefined || open.kind !== 'open') {
      const where = open === undefined || open.kind === 'eol' ? 'end of file' : describe(open);
      diag.error(open?.line ?? line, def.name, null, `expected '{' but found ${where}`, `${def.name} { parameters }`);
      // Recover: skip a block body that lacks its '{' (up to a '}' or the next statement keyword).
      i = save;
      skipLine();
      while (i < tokens.length) {
        const t = tokens[i]!;
        if (t.kind === 'close') { i++; skipLine(); return; }
        if (t.kind === 'word' && atLineStart(i) && findStatement(t.text) !== undefined && findParam(def, t.text) === undefined) return;
        skipLine();
      }
      return;
    }
    i++;
    const params: RawParam[] = [];
    for (;;) {
      skipEols();
      const t = peek();
      if (t === undefined) {
        diag.error(lastLine, def.name, null, `missing '}' for the block opened at line ${line}`, `${def.name} { parameters }`);
        break;
      }
      if (t.kind === 'close') {
        i++;
        const after = peek();
        if (after !== undefined && after.kind !== 'eol') {
          diag.error(t.line, def.name, null, `unexpected ${describe(after)} after '}'`, "nothing after '}' on its line");
        }
        skipLine();
        break;
      }
      if (t.kind === 'open') {
        diag.error(t.line, def.name, null, "unexpected '{' inside the block", paramList(def));
        i++;
        continue;
      }
      if (t.kind !== 'word') { i++; continue; }
      const pdef = findParam(def, t.text);
      if (pdef === undefined) {
        if (atLineStart(i) && findStatement(t.text) !== undefined) {
          // A statement keyword where a parameter should be: the block was not closed.
          diag.error(t.line, def.name, null, `missing '}' for the block opened at line ${line}`, `${def.name} { parameters }`);
          break;
        }
        const meant = didYouMean(t.text, def.params.map((p) => p.name));
        diag.error(t.line, def.name, null, `unknown parameter '${t.text}'${meant === undefined ? '' : ` (did you mean ${meant}?)`}`, paramList(def));
        skipLine(true);
        continue;
      }
      i++;
      const v = peek();
      if (v === undefined || v.kind !== 'word') {
        diag.error(t.line, def.name, pdef.name, 'missing value', `${pdef.name} value on the same line`);
        continue;
      }
      i++;
      params.push({ def: pdef, line: t.line, value: { text: v.text, line: v.line } });
    }
    out.push({ def, line, value: null, params });
  };

  while (i < tokens.length) {
    const t = tokens[i]!;
    if (t.kind === 'eol') { i++; continue; }
    if (t.kind !== 'word') {
      diag.error(t.line, t.kind === 'open' ? '{' : '}', null, `unexpected ${describe(t)} outside a block`, ALL_STATEMENTS);
      skipLine();
      continue;
    }
    const def = findStatement(t.text);
    if (def === undefined) {
      const meant = didYouMean(t.text, STATEMENTS.map((s) => s.name));
      diag.error(t.line, t.text, null, meant === undefined ? 'unknown statement' : `unknown statement (did you mean ${meant}?)`, ALL_STATEMENTS);
      i++;
      // Skip the statement's value or its whole block.
      const save = i;
      skipEols();
      if (peek()?.kind === 'open') {
        while (i < tokens.length && tokens[i]!.kind !== 'close') i++;
        skipLine();
      } else {
        i = save;
        skipLine();
      }
      continue;
    }
    i++;
    if (def.kind === 'value') parseValueStatement(def, t.line);
    else parseBlock(def, t.line);
  }
  return out;
}
