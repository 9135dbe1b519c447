// The commands of README.md and docs/*.md as a test runs them ([O2] #18 acceptance: "every command
// in every doc runs in a test"). Pure: text in, commands out; test/e2e/doc-commands.test.ts runs them.
//
// Which blocks hold commands, as the docs write them:
//   - fenced ```sh / ```bash / ```shell: every line is a command (comment lines are not);
//   - fenced ```console: the lines after a `$ ` prompt are commands, the others are output;
//   - an unlabelled fence or an indented block (4 spaces more than its list item): commands when a
//     line starts with `$ `, or when its first line starts with a command word (COMMAND_WORDS;
//     `spoolgate` only when a subcommand or option follows it, so "spoolgate CSSMTP1: --once: …"
//     is output); otherwise it is configuration, output or a diagram and is not run;
//   - any other language (ts, js, text, …) is not run.
// A command is one line, or several joined by a trailing backslash, plus the body of a heredoc
// (`<<EOF`, `<<'EOF'`, `<<-EOF`) up to its terminator line.
//
// Annotations: an HTML comment (invisible on GitHub) right before a block, blank lines between
// allowed, one directive per line (or a single one on the comment's line):
//   <!-- doc-test: skip REASON -->        the block is not run; the test prints the reason
//   <!-- doc-test: synopsis -->           the block is a usage synopsis: not run, but every
//                                         --option in it must appear in `spoolgate <cmd> --help`
//   <!-- doc-test: exit N[,M] -->         the commands' expected exit status (default 0)
//   <!-- doc-test: wait -->               run again until the expected status, at most WAIT_MS
//                                         (a command that reads what the gateway does meanwhile)
//   <!-- doc-test: before: COMMAND -->    a hidden command run first (a file the text assumes)
//   <!-- doc-test: until: COMMAND -->     a hidden command run first, again until it exits 0, at
//                                         most WAIT_MS (mail the commands act on is in the queue)
//   <!-- doc-test: replace FROM => TO --> FROM replaced by TO in the block's commands (literal)
// A directive may start with a quoted selector: `"db status": exit 1` applies to the commands
// of the block that contain that text only; a selector that matches none is an error, so
// annotations cannot go stale silently. An annotation not followed by a block is an error.
// For the whole document, anywhere in it:
//   <!-- doc-test-instance: target-defers -->  the doc's instance delivers to a target that answers
//                                         451 to every recipient, so its mail waits in the queue
//                                         (otherwise the target is the instance's own receiver,
//                                         as in the shipped sample configuration)

/** First words of a shell command line in an unlabelled block. */
export const COMMAND_WORDS = new Set([
  'spoolgate', 'npx', 'npm', 'curl', 'sudo', 'sudoedit', 'systemctl', 'journalctl', 'ln',
  'export', 'cat', 'echo', 'printf', 'swaks', 'python3', 'openssl', 'git', 'mail', 'mailx', 'grep',
  'cd', 'mkdir', 'install', 'chmod', 'chgrp', 'chown', 'useradd', 'apt-get', 'docker', 'sendmail',
  '/usr/sbin/sendmail', 'mailq', 'fetchmail', 'base64', 'kill', 'iconv', 'tr', 'dd', 'ls', 'rm',
  'mv', 'cp', 'tail', 'head', 'fail2ban-regex', 'systemd-analyze', 'psql',
]);

export interface Directive {
  readonly selector?: string;
  readonly kind: 'skip' | 'synopsis' | 'exit' | 'wait' | 'before' | 'until' | 'replace';
  /** skip: the reason; before: the command; replace: FROM. */
  readonly text?: string;
  readonly to?: string;
  readonly codes?: readonly number[];
  readonly line: number;
}

export interface DocCommand {
  readonly file: string;
  /** Line of the command's first line in the file (1-based). */
  readonly line: number;
  /** The command as the doc writes it. */
  readonly text: string;
  readonly expect: readonly number[];
  readonly wait: boolean;
  readonly skip?: string;
  /** Hidden commands run before this one (`before:`/`until:` on its block: before its first command). */
  readonly before: readonly { readonly text: string; readonly until: boolean }[];
  readonly replace: readonly (readonly [string, string])[];
}

export interface DocBlock {
  readonly file: string;
  /** Line of the first content line. */
  readonly line: number;
  readonly lang: string;
  readonly lines: readonly string[];
  readonly directives: readonly Directive[];
}

export interface ParsedDoc {
  readonly commands: DocCommand[];
  /** Usage synopses to check against --help. */
  readonly synopses: DocBlock[];
  /** Blocks that hold no commands (configuration, output, diagrams, code). */
  readonly other: number;
  readonly errors: string[];
  /** `<!-- doc-test-instance: target-defers -->`. */
  readonly targetDefers: boolean;
}

const FENCE = /^( *)(`{3,}|~{3,})\s*([\w+-]*)/;
const LIST_ITEM = /^( *)([-*+]|\d+[.)])( +)\S/;

function indentOf(s: string): number {
  return /^ */.exec(s)![0].length;
}

/** The code blocks of a markdown text with the annotations before each. */
export function codeBlocks(file: string, text: string): { blocks: DocBlock[]; errors: string[] } {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  const errors: string[] = [];
  let pending: Directive[] = [];
  let pendingLine = 0;
  let listIndent = 0;
  let prevBlank = true;
  const take = (): Directive[] => { const d = pending; pending = []; return d; };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence !== null && indentOf(line) < listIndent + 4) {
      const indent = fence[1]!.length;
      const marker = fence[2]!;
      const body: string[] = [];
      let j = i + 1;
      while (j < lines.length && !new RegExp(`^ *${marker[0]}{${marker.length},}\\s*$`).test(lines[j]!)) {
        body.push(lines[j]!.slice(Math.min(indent, indentOf(lines[j]!))));
        j++;
      }
      blocks.push({ file, line: i + 2, lang: fence[3]!.toLowerCase(), lines: body, directives: take() });
      i = j;
      prevBlank = false;
      continue;
    }
    if (line.trim() === '') { prevBlank = true; continue; }
    const comment = /^\s*<!--\s*doc-test:/.exec(line);
    if (comment !== null) {
      let j = i;
      let body = line.slice(comment[0].length);
      while (!body.includes('-->') && j + 1 < lines.length) body += '\n' + lines[++j]!;
      body = body.slice(0, body.indexOf('-->'));
      if (pending.length === 0) pendingLine = i + 1;
      for (const [k, d] of body.split('\n').entries()) {
        if (d.trim() === '') continue;
        const parsed = directive(d.trim(), i + 1 + k);
        if (typeof parsed === 'string') errors.push(`${file}:${i + 1 + k}: ${parsed}`);
        else pending.push(parsed);
      }
      i = j;
      prevBlank = true;
      continue;
    }
    const indent = indentOf(line);
    if (prevBlank && indent >= listIndent + 4) {
      const body: string[] = [];
      let j = i;
      while (j < lines.length && (lines[j]!.trim() === '' || indentOf(lines[j]!) >= listIndent + 4)) body.push(lines[j++]!);
      while (body.length > 0 && body[body.length - 1]!.trim() === '') body.pop();
      const cut = Math.min(...body.filter((l) => l.trim() !== '').map(indentOf));
      blocks.push({ file, line: i + 1, lang: '', lines: body.map((l) => l.slice(Math.min(cut, indentOf(l)))), directives: take() });
      i = i + body.length - 1;
      prevBlank = false;
      continue;
    }
    if (pending.length > 0) {
      errors.push(`${file}:${pendingLine}: a doc-test annotation must be followed by a code block (found text at line ${i + 1})`);
      pending = [];
    }
    const item = LIST_ITEM.exec(line);
    if (item !== null) listIndent = item[1]!.length + item[2]!.length + item[3]!.length;
    else if (indent === 0) listIndent = 0;
    prevBlank = false;
  }
  if (pending.length > 0) errors.push(`${file}:${pendingLine}: a doc-test annotation at the end of the file has no block`);
  return { blocks, errors };
}

function directive(s: string, line: number): Directive | string {
  let selector: string | undefined;
  const sel = /^"([^"]+)"\s*:?\s*/.exec(s);
  if (sel !== null) { selector = sel[1]!; s = s.slice(sel[0].length); }
  const base = { line, ...(selector === undefined ? {} : { selector }) };
  let m: RegExpExecArray | null;
  if ((m = /^skip:?\s+(\S.*)$/.exec(s)) !== null) return { ...base, kind: 'skip', text: m[1]! };
  if (s === 'synopsis') return { ...base, kind: 'synopsis' };
  if (s === 'wait') return { ...base, kind: 'wait' };
  if ((m = /^exit[ =]\s*(\d+(?:\s*,\s*\d+)*)$/.exec(s)) !== null) return { ...base, kind: 'exit', codes: m[1]!.split(',').map((x) => Number(x.trim())) };
  if ((m = /^(before|until):\s*(\S.*)$/.exec(s)) !== null) return { ...base, kind: m[1] as 'before' | 'until', text: m[2]! };
  if ((m = /^replace\s+(.+?)\s+=>\s*(.*)$/.exec(s)) !== null) return { ...base, kind: 'replace', text: m[1]!, to: m[2]! };
  return `unknown doc-test directive "${s}" (skip REASON | synopsis | exit N | wait | before: CMD | until: CMD | replace A => B)`;
}

/** Whether a line starts a shell command (for unlabelled blocks). */
export function looksLikeCommand(line: string): boolean {
  const s = line.trim();
  const first = /^(\S+)/.exec(s)?.[1] ?? '';
  if (/^[A-Z_][A-Z0-9_]*=/.test(first)) return true;
  if (first === 'spoolgate') return /^spoolgate\s+(-|[a-z][a-z-]*(\s|$)|F\s)/.test(s);
  // "node A (Store Node a) ..." in a diagram is not a command; "node scripts/x.mjs" is.
  if (first === 'node') return /^node\s+(-|\S+\.[cm]?[jt]s(\s|$))/.test(s);
  return COMMAND_WORDS.has(first);
}

/** The commands of one block, each with the line it starts at; [] for a block that holds none. */
export function blockCommands(block: DocBlock): { line: number; text: string }[] {
  const shellLang = ['sh', 'bash', 'shell', 'zsh'].includes(block.lang);
  const consoleLang = ['console', 'shell-session'].includes(block.lang);
  if (block.lang !== '' && !shellLang && !consoleLang) return [];
  const prompted = consoleLang || (block.lang === '' && block.lines.some((l) => l.startsWith('$ ')));
  if (!shellLang && !prompted) {
    const first = block.lines.find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    if (first === undefined || !looksLikeCommand(first)) return [];
  }
  const out: { line: number; text: string }[] = [];
  for (let i = 0; i < block.lines.length; i++) {
    let l = block.lines[i]!;
    if (prompted) {
      if (!l.startsWith('$ ')) continue;
      l = l.slice(2);
    }
    if (l.trim() === '' || l.trim().startsWith('#')) continue;
    const start = i;
    const parts = [l];
    while ((parts[parts.length - 1]!.endsWith('\\') || openQuote(parts.join('\n'))) && i + 1 < block.lines.length) {
      parts.push(stripPrompt(block.lines[++i]!, prompted));
    }
    let text = parts.join('\n');
    const heredoc = /<<(-?)\s*(['"]?)([A-Za-z_]\w*)\2/.exec(text);
    if (heredoc !== null) {
      const end = heredoc[3]!;
      const body: string[] = [];
      while (i + 1 < block.lines.length) {
        const b = stripPrompt(block.lines[++i]!, prompted);
        body.push(b);
        if ((heredoc[1] === '-' ? b.replace(/^\t+/, '') : b) === end) break;
      }
      text += '\n' + body.join('\n');
    }
    out.push({ line: block.line + start, text });
  }
  return out;
}

/** Whether a shell text ends inside a quoted string (a command that goes on on the next line). */
export function openQuote(text: string): boolean {
  let q: '' | "'" | '"' = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q === "'") { if (c === "'") q = ''; continue; }
    if (c === '\\') { i++; continue; }
    if (q === '"') { if (c === '"') q = ''; continue; }
    if (c === "'" || c === '"') q = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) return false;
      i = nl;
    }
  }
  return q !== '';
}

function stripPrompt(l: string, prompted: boolean): string {
  return prompted && l.startsWith('> ') ? l.slice(2) : l;
}

/** `spoolgate SUB …` written inline in the text (a code span), with its line. */
export function inlineCommands(text: string): { line: number; text: string; sub: string }[] {
  const out: { line: number; text: string; sub: string }[] = [];
  for (const m of text.matchAll(/`(?:npx )?(spoolgate ([a-z][a-z-]*)[^`]*)`/g)) {
    out.push({ line: text.slice(0, m.index).split('\n').length, text: m[1]!, sub: m[2]! });
  }
  return out;
}

/** Every command of a doc with what its annotations expect. */
export function docCommands(file: string, text: string): ParsedDoc {
  const { blocks, errors } = codeBlocks(file, text);
  const commands: DocCommand[] = [];
  const synopses: DocBlock[] = [];
  let other = 0;
  for (const b of blocks) {
    if (b.directives.some((d) => d.kind === 'synopsis')) { synopses.push(b); continue; }
    const cmds = blockCommands(b);
    if (cmds.length === 0) {
      if (b.directives.length > 0) errors.push(`${file}:${b.line}: doc-test annotation on a block that holds no commands`);
      other++;
      continue;
    }
    for (const d of b.directives) {
      if (d.selector !== undefined && !cmds.some((c) => c.text.includes(d.selector!))) {
        errors.push(`${file}:${d.line}: selector "${d.selector}" matches no command of the block at line ${b.line}`);
      }
    }
    const hidden = (d: Directive): { text: string; until: boolean } => ({ text: d.text!, until: d.kind === 'until' });
    const isHidden = (d: Directive): boolean => d.kind === 'before' || d.kind === 'until';
    const before = b.directives.filter((d) => isHidden(d) && d.selector === undefined).map(hidden);
    for (const [k, c] of cmds.entries()) {
      const mine = b.directives.filter((d) => d.selector === undefined || c.text.includes(d.selector));
      const exit = mine.filter((d) => d.kind === 'exit').at(-1)?.codes ?? [0];
      const skip = mine.find((d) => d.kind === 'skip')?.text;
      commands.push({
        file, line: c.line, text: c.text, expect: exit,
        wait: mine.some((d) => d.kind === 'wait'),
        ...(skip === undefined ? {} : { skip }),
        before: [
          ...(k === 0 ? before : []),
          ...mine.filter((d) => isHidden(d) && d.selector !== undefined).map(hidden),
        ],
        replace: mine.filter((d) => d.kind === 'replace').map((d) => [d.text!, d.to!] as const),
      });
    }
  }
  const instance = [...text.matchAll(/<!--\s*doc-test-instance:\s*(.*?)\s*-->/g)].map((m) => m[1]!);
  for (const x of instance) if (x !== 'target-defers') errors.push(`${file}: unknown doc-test-instance "${x}" (target-defers)`);
  return { commands, synopses, other, errors, targetDefers: instance.includes('target-defers') };
}
