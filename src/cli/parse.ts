// The one argument-parsing layer of the `spoolgate` subcommands (O2 #18 item 8). Each subcommand's
// options are declared once in cli/commands.ts; commander parses argv against them (long and short
// forms, --opt=value, -cFILE, repeatable options, options before or after the positionals, "--"),
// and `--help` is printed in one style for every subcommand: synopsis, what each option does, the
// exit codes, examples, and which configuration file would be used here. The values come back
// keyed by the option's long name as written ('spool-dir', 'no-targets'), as node:util's
// parseArgs gave them, so the subcommands' own checks did not change.
import { Command, CommanderError, Option } from 'commander';
import { commandSpec, type CommandSpec } from './commands.js';
import { configHelpLine } from './config-file.js';
import type { CliIo } from './io.js';

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Parsed {
  readonly values: Values;
  readonly positionals: string[];
}

/** The usage lines: "usage: spoolgate <name> <synopsis>", one per synopsis line. */
export function usageText(spec: CommandSpec): string {
  return spec.synopsis.map((s, i) => `${i === 0 ? 'usage:' : '      '} spoolgate ${spec.name} ${s}`).join('\n') + `\nRun "spoolgate ${spec.name} --help" for what each option does.`;
}

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > width) { out.push(line); line = word; } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(line);
  return out;
}

/** The --help text of one subcommand (the same layout for all). */
export function helpText(spec: CommandSpec, configLine?: string): string {
  const lines = spec.synopsis.map((s, i) => `${i === 0 ? 'usage:' : '      '} spoolgate ${spec.name} ${s}`);
  lines.push('', ...wrap(spec.summary.charAt(0).toUpperCase() + spec.summary.slice(1) + '.', 100));
  if (spec.description !== undefined) lines.push('', ...wrap(spec.description, 100));
  const opts = [...spec.options, { flags: '-h, --help', description: 'print this help' }];
  const width = Math.min(28, Math.max(...opts.map((o) => o.flags.length)) + 2);
  const pad = ' '.repeat(width + 2);
  lines.push('', 'options:');
  for (const o of opts) {
    const body = wrap(o.description, 100 - width - 2);
    if (o.flags.length + 2 > width) lines.push(`  ${o.flags}`, ...body.map((b) => pad + b));
    else lines.push(`  ${o.flags.padEnd(width)}${body[0] ?? ''}`, ...body.slice(1).map((b) => pad + b));
  }
  lines.push('', 'exit codes:', ...spec.exitCodes.map(([c, m]) => `  ${String(c).padStart(2)}  ${m}`));
  lines.push('', spec.examples.length === 1 ? 'example:' : 'examples:', ...spec.examples.map((e) => `  ${e}`));
  if (configLine !== undefined) lines.push('', configLine);
  return lines.join('\n') + '\n';
}

/** The option's name as the subcommand reads it: the long name ('spool-dir', 'no-targets'), else the short letter. */
function keyOf(o: Option): string {
  return o.long !== undefined ? o.long.replace(/^--/, '') : o.short!.replace(/^-/, '');
}

function build(spec: CommandSpec): Command {
  const cmd = new Command(`spoolgate ${spec.name}`)
    .helpOption(false)
    .allowExcessArguments(true)
    .argument('[args...]')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  for (const o of spec.options) {
    const opt = new Option(o.flags, o.description);
    if (o.multiple === true) opt.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
    cmd.addOption(opt);
  }
  cmd.addOption(new Option('-h, --help'));
  return cmd;
}

/**
 * Parses a subcommand's argv. A number is the exit code when there is nothing more to do:
 * 0 after printing --help, 2 after a usage error (unknown option, missing value) on stderr.
 */
export function parseCommand(name: string, argv: readonly string[], io: CliIo): Parsed | number {
  const spec = commandSpec(name);
  const cmd = build(spec);
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    io.stderr.write(`spoolgate ${spec.name}: ${e.message.replace(/^error: /, '')}\n${usageText(spec)}\n`);
    return 2;
  }
  const raw = cmd.opts<Record<string, unknown>>();
  const values: Values = {};
  for (const o of cmd.options) {
    const v = raw[o.attributeName()];
    if (v === undefined) continue;
    // --no-targets: commander's negation sets targets=false; the subcommand asks for 'no-targets'.
    if (o.negate) { if (v === false) values[keyOf(o)] = true; continue; }
    values[keyOf(o)] = v as string | boolean | string[];
  }
  if (values.help === true) {
    const config = typeof values.config === 'string' ? values.config : undefined;
    io.stdout.write(helpText(spec, spec.usesConfig ? configHelpLine(config, io) : undefined));
    return 0;
  }
  return { values, positionals: cmd.processedArgs[0] as string[] };
}

/** A usage error of a subcommand: the message and its usage lines on stderr; exit code 2. */
export function usageError(name: string, io: CliIo, message: string): number {
  io.stderr.write(`spoolgate ${name}: ${message}\n${usageText(commandSpec(name))}\n`);
  return 2;
}
