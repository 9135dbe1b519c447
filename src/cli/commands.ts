// The `spoolgate` command table (O2 #18 item 8): every subcommand's options, what each does, its
// exit codes and an example, in one place. cli/parse.ts parses every subcommand's argv from it
// (commander), formats `--help` from it, `spoolgate completion` generates the shell completion
// from it, and scripts/gen-man.mjs writes man/spoolgate.1 from it. Pure data: no subcommand module
// is loaded to read it. The classic sendmail/mailq interface (cli/sendmail-classic.ts) keeps
// Postfix's own parsing (unknown options warn and are ignored) and is described here only.

export interface OptionSpec {
  /** commander's flags: '-c, --config <file>', '--json', '--no-targets', '-f' */
  readonly flags: string;
  readonly description: string;
  /** May be given more than once; the values are collected in order. */
  readonly multiple?: boolean;
}

export interface CommandSpec {
  readonly name: string;
  /** One line for `spoolgate --help` and the man page's command list. */
  readonly summary: string;
  /** The synopsis lines, without "spoolgate <name>" (shown after it). */
  readonly synopsis: readonly string[];
  /** Paragraph(s) after the synopsis. */
  readonly description?: string;
  /** Actions / first words (for completion), e.g. ['list', 'show']. */
  readonly actions?: readonly string[];
  readonly options: readonly OptionSpec[];
  /** Exit codes beyond the common 0/1/2, or instead of them (sysexits). */
  readonly exitCodes: readonly (readonly [code: number, meaning: string])[];
  readonly examples: readonly string[];
  /** Reads the configuration (the one search of cli/config-file.ts): help says which file. */
  readonly usesConfig: boolean;
  /** Parsed by its own module (sendmail's classic form); the table only describes it. */
  readonly ownParser?: boolean;
}

export const COMMON_EXIT: readonly (readonly [number, string])[] = [
  [0, 'success'],
  [1, 'runtime failure (the instance is not reachable, a file cannot be read, a step failed)'],
  [2, 'usage or configuration error'],
];

const CONFIG: OptionSpec = { flags: '-c, --config <file>', description: 'the configuration file (else $SPOOLGATE_CONFIG, ./config/spoolgate.conf, /etc/spoolgate/spoolgate.conf)' };
const JSON_OPT: OptionSpec = { flags: '--json', description: 'print the data as JSON instead of text' };
const SOCKET: OptionSpec = { flags: '--socket <path>', description: 'the control socket of the running instance (instead of the configuration\'s ControlSocket)' };
const TIMEOUT: OptionSpec = { flags: '--timeout <seconds>', description: 'wait at most this long for the instance\'s answer' };
const SINCE_TEXT = 'WHEN: a duration back from now (30m, 12h, 7d) or an ISO date or date-time (2026-11-22, 2026-11-22T12:00:00Z)';
const AGE_TEXT = 'a duration (30m, 12h, 7d) or an ISO date or date-time (the age of that time now)';

const QUEUE_FILTERS: OptionSpec[] = [
  { flags: '--state <states>', description: 'processing, retry, extended, held, dead, quarantined (comma-separated)' },
  { flags: '--job <name>', description: 'job name or job id' },
  { flags: '--sender <addr>', description: 'envelope sender' },
  { flags: '--recipient <addr>', description: 'a recipient' },
  { flags: '--target <ip>', description: 'the target server it waits for' },
  { flags: '--domain <domain>', description: 'a recipient domain' },
  { flags: '--min-age <age>', description: `waiting at least this long: minutes (a bare number), or ${AGE_TEXT}` },
];

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'accounting', summary: 'query accounting records (SMF 119 analog): --since --user --job --type --summary',
    synopsis: ['[--config FILE | --file PATH] [--since WHEN] [--user ID] [--job NAME] [--type T]... [--summary] [--json]'],
    description: `Prints the accounting records that match, one line each, or with --summary the MAIL records grouped by origin user. With Store Backend PostgreSQL the records of every node are read from the shared database, each with its node. ${SINCE_TEXT}.`,
    options: [CONFIG,
      { flags: '--file <path>', description: 'an accounting.jsonl file (instead of the configuration\'s)' },
      { flags: '--since <when>', description: 'records at or after WHEN' },
      { flags: '--user <id>', description: 'origin user id (spool file owner)' },
      { flags: '--job <name>', description: 'job name; * matches any characters' },
      { flags: '--type <type>', description: 'CONFIG|48 CONNECT|49 MAIL|50 SPOOL|51 STATS|52 (repeatable)', multiple: true },
      { flags: '--summary', description: 'MAIL records grouped by user: messages, recipients, bytes, undeliverable' },
      { ...JSON_OPT, description: 'the records as JSON lines' }],
    exitCodes: COMMON_EXIT, examples: ['spoolgate accounting --since 7d --summary', 'spoolgate accounting --since 2026-11-01 --type MAIL --json'], usesConfig: true,
  },
  {
    name: 'completion', summary: 'print a shell completion script: completion bash|zsh',
    synopsis: ['bash|zsh'], actions: ['bash', 'zsh'],
    description: 'Prints a completion script generated from the command table. Load it with: source <(spoolgate completion bash), or write it to a file in $fpath (zsh: _spoolgate).',
    options: [], exitCodes: [[0, 'printed'], [2, 'usage: no or an unknown shell']],
    examples: ['spoolgate completion bash > /etc/bash_completion.d/spoolgate', 'spoolgate completion zsh > "${fpath[1]}/_spoolgate"'], usesConfig: false,
  },
  {
    name: 'config', summary: 'check or show a configuration file',
    synopsis: ['check [--config FILE] [--json]', 'show [--config FILE] [--json]'], actions: ['check', 'show'],
    description: 'check validates the file and prints "valid" and any warnings; show prints every value in force (the Display,CONFIG EZD1829I layout). Set CSSMTP_CODEPAGE_CONFIG=IBM-1047 (or another code page) to read a file in EBCDIC.',
    options: [CONFIG, { ...JSON_OPT, description: 'check: {file, valid, errors, warnings}; show: the configuration as JSON' }],
    exitCodes: [[0, 'valid'], [2, 'usage or configuration error']], examples: ['spoolgate config check --config /etc/spoolgate/spoolgate.conf', 'spoolgate config show --json'], usesConfig: true,
  },
  {
    name: 'db', summary: 'PostgreSQL store schema: migrate (apply pending versions), status, nodes',
    synopsis: ['migrate [--config FILE] [--to N]', 'status [--config FILE] [--json]', 'nodes [--config FILE] [--json]'], actions: ['migrate', 'status', 'nodes'],
    description: 'migrate applies the pending schema versions (all, or up to N); status shows the version the database is at and what is pending; nodes lists the nodes sharing the database. The database is the Store statement\'s (Backend PostgreSQL); its password comes from Store PasswordFile, else $SPOOLGATE_STORE_PASSWORD.',
    options: [CONFIG, { flags: '--to <n>', description: 'migrate: stop at schema version N' }, JSON_OPT],
    exitCodes: [[0, 'done / up to date'], [1, 'database unreachable, behind (status) or newer than this program'], [2, 'usage or configuration error']],
    examples: ['spoolgate db migrate --config /etc/spoolgate/spoolgate.conf', 'spoolgate db status --json'], usesConfig: true,
  },
  {
    name: 'deadletter', summary: 'list, requeue or purge dead letters of the running instance',
    synopsis: ['list [--json]', 'requeue ID [--reason TEXT]', 'purge --older-than AGE [--yes]'], actions: ['list', 'requeue', 'purge'],
    description: 'Asks the running instance over its control socket. ID: a dead-letter id or a queue id.',
    options: [CONFIG, SOCKET, JSON_OPT, TIMEOUT,
      { flags: '--reason <text>', description: 'why (written to the journal)' },
      { flags: '--operator <name>', description: 'the operator the journal names (default: the user running the command)' },
      { flags: '--older-than <age>', description: `purge: dead letters stored more than AGE ago: days (a bare number), or ${AGE_TEXT}; whole days` },
      { flags: '-y, --yes', description: 'do not ask before purging' }],
    exitCodes: COMMON_EXIT, examples: ['spoolgate deadletter list --json', 'spoolgate deadletter purge --older-than 30d --yes'], usesConfig: true,
  },
  {
    name: 'doctor', summary: 'check this machine for a start: TLS files, user exit, directories, ports, lock, targets (EHLO)',
    synopsis: ['[--config FILE] [--user NAME] [--no-targets] [--json]'],
    description: 'Checks what a start needs on this machine: the configuration, TLS files, the user exit, directories (writable by --user NAME when run as root), listen ports, the writer lock, and each target\'s reachability and EHLO capabilities. One line per check: ok, warn or FAIL with the fix.',
    options: [CONFIG, { flags: '--user <name>', description: 'check directories as this service user (when run as root)' },
      { flags: '--no-targets', description: 'do not connect to the target servers' }, JSON_OPT],
    exitCodes: [[0, 'nothing failed'], [1, 'a check failed'], [2, 'usage or configuration error']],
    examples: ['spoolgate doctor --config /etc/spoolgate/spoolgate.conf --user spoolgate'], usesConfig: true,
  },
  {
    name: 'init', summary: 'lay out a production install: /etc, /var, the service user, systemd unit, logrotate',
    synopsis: ['[--prefix DIR] [--user NAME] [--producers GROUP] [--force] [--dry-run]'],
    options: [
      { flags: '--prefix <dir>', description: 'lay the files out under DIR instead of / (a test, a chroot, a package build)' },
      { flags: '--user <name>', description: 'the service user (created with its group when missing; needs root)' },
      { flags: '--producers <group>', description: 'the group of users who may put mail on the spool (default spoolprod)' },
      { flags: '--force', description: 'rewrite the systemd unit and the logrotate file (never the configuration)' },
      { flags: '--dry-run', description: 'print what would be done, change nothing' }],
    exitCodes: [[0, 'done'], [1, 'a step failed'], [2, 'usage']], examples: ['sudo spoolgate init --user spoolgate && sudo systemctl enable --now spoolgate'], usesConfig: false,
  },
  {
    name: 'journal', summary: 'show journal events: where is my mail? (--id, --from, --to, --since)',
    synopsis: ['[--config FILE | --db PATH] [--id ID] [--from ADDR] [--to ADDR] [--since WHEN] [--type TYPE] [--user NAME] [--limit N] [--json]'],
    description: `Prints the journal events that match, oldest first. --id follows the message to the forwarder's attempts and extended retry. ${SINCE_TEXT}.`,
    options: [CONFIG, { flags: '--db <path>', description: 'the database (instead of <StateDirectory>/spoolgate.db)' },
      { flags: '--id <id>', description: 'events of one message (the id in "250 ok, queued as ID", or a spool entry id)' },
      { flags: '--from <addr>', description: 'sender address (case-insensitive)' },
      { flags: '--to <addr>', description: 'recipient address (case-insensitive)' },
      { flags: '--since <when>', description: 'events at or after WHEN' },
      { flags: '--type <type>', description: 'received, delivered, queued, attempt, deferred, undeliverable, dead-letter, ...' },
      { flags: '--user <name>', description: 'mailbox user' },
      { flags: '--limit <n>', description: 'at most N events (default 10000)' },
      { ...JSON_OPT, description: 'one JSON object per line' }],
    exitCodes: COMMON_EXIT, examples: ['spoolgate journal --to alice@example.com --since 1h', 'spoolgate journal --id 4F2A9C1B --json'], usesConfig: true,
  },
  {
    name: 'modify', summary: 'send an operator command to the running instance (alias F), e.g. D,TARGETS',
    synopsis: ['[--config FILE | --socket PATH] [--json] [instance] <command>'],
    description: 'Commands: D,CONFIG D,IPLIST D,LOGLEVEL D,SPOOL[,SUMMARY|,DETAIL[,ALL|,TKID=n]] D,TARGETS[,ADDR=ip] D,STATUS FLUSHRETRY,TKID=n FLUSHRETRY,AGE=days LOGLEVEL,LEVEL=n USEREXIT,LEVEL=NONE|module REFRESH REFRESHIPLIST REFRESHTARGETS SUSPEND[,IMMEDIATE|,DELAY] RESUME; the queue commands of docs/queue.md (D,QUEUE, HOLD, RELEASE, ...). Keywords may be abbreviated to their capitals: D, DIS, CONF, IPL, SPOOL, TARGET, LOGL, FLUSHR, SUS, RES.',
    options: [CONFIG, SOCKET, { ...JSON_OPT, description: 'print the whole answer (lines and data) as JSON' }, TIMEOUT],
    exitCodes: [[0, 'carried out'], [1, 'refused or failed, or the instance is not reachable'], [2, 'usage or configuration error']],
    examples: ['spoolgate modify D,TARGETS', 'spoolgate F CSSMTP,LOGLEVEL,LEVEL=15'], usesConfig: true,
  },
  {
    name: 'note', summary: 'compose a note with attachments and put it on the spool',
    synopsis: ['--subject TEXT (--to ADDR | --cc ADDR | --bcc ADDR)... [--from ADDR] [--body FILE|-] [--html FILE] [--attach FILE]... [--job NAME]'],
    description: 'Composes a MIME message (UTF-8 text, base64 attachments named after their files) and puts it on the writer\'s spool; prints "<entry-id> <JOBNAME>(<JOBID>)". ADDR is local@domain or "Name <local@domain>". Bcc recipients get the mail but appear in no header.',
    options: [CONFIG,
      { flags: '--to <addr>', description: 'a recipient (repeatable)', multiple: true },
      { flags: '--cc <addr>', description: 'a copy recipient (repeatable)', multiple: true },
      { flags: '--bcc <addr>', description: 'a blind copy recipient (repeatable)', multiple: true },
      { flags: '--from <addr>', description: 'the sender (default: you at Users DefaultDomain; SenderPolicy decides)' },
      { flags: '--subject <text>', description: 'the subject' },
      { flags: '--body <file>', description: 'the text body, UTF-8 (- = standard input)' },
      { flags: '--html <file>', description: 'an HTML alternative body' },
      { flags: '--attach <file>', description: 'attach a file (repeatable)', multiple: true },
      { flags: '--job <name>', description: 'the job name' }],
    exitCodes: COMMON_EXIT, examples: ['echo "The nightly run ended." | spoolgate note --to ops@example.com --subject "Nightly run" --body - --attach run.log'], usesConfig: true,
  },
  {
    name: 'pdfmail', summary: 'mail a print report as PDF, one PDF per section with --split (iSeries spooled file as PDF)',
    synopsis: ['[--from ADDR] (--to ADDR... | --split RULE --recipient RULE | --output FILE) [options] FILE|-'],
    description: 'Turns a print report into PDF and mails it. Without --split: one PDF to --to. With --split, one PDF and one mail per section: --split page (every page), --split marker:1-7=INVOICE (a page with INVOICE in columns 1-7 starts a section); --recipient tag:%%MAILTO: (the address follows this prefix on a line) or columns:3:10-60 (columns 10-60 of line 3). Sections without a recipient go to --fallback, or are reported and not sent (exit 1). --output FILE writes one PDF file instead (no mail, no configuration needed). Templates: --subject/--text {title} {section} {pages}; --name {job} {section} {title}; --header/--footer {page} {date} {job} {section}.',
    options: [CONFIG,
      { flags: '--from <addr>', description: 'the sender' },
      { flags: '--to <addr>', description: 'a recipient (repeatable)', multiple: true },
      { flags: '--cc <addr>', description: 'a copy recipient (repeatable)', multiple: true },
      { flags: '--split <rule>', description: 'page, or marker:COLS=TEXT: one PDF and mail per section' },
      { flags: '--recipient <rule>', description: 'tag:PREFIX or columns:LINE:COLS: where a section names its recipient' },
      { flags: '--fallback <addr>', description: 'where sections without a recipient go' },
      { flags: '--subject <text>', description: 'subject template' },
      { flags: '--text <text>', description: 'body text template' },
      { flags: '--name <template>', description: 'PDF file name template' },
      { flags: '--format <format>', description: 'text (default), nl, fb:LEN, vb' },
      { flags: '--carriage <cc>', description: 'none (default), asa, machine: carriage control in column 1' },
      { flags: '--encoding <codepage>', description: 'the report\'s EBCDIC code page, e.g. IBM-1047' },
      { flags: '--lines <n>', description: 'lines per page (66)' },
      { flags: '--paper <size>', description: 'A4 (default) or LETTER' },
      { flags: '--output <file>', description: 'write one PDF file instead of mailing' },
      { flags: '--columns <n>', description: 'with --output: the page width in columns' },
      { flags: '--header <text>', description: 'page header template' },
      { flags: '--footer <text>', description: 'page footer template' },
      { flags: '--job <name>', description: 'the job name' }],
    exitCodes: [[0, 'all sent'], [1, 'a section was not sent, or the spool failed'], [2, 'usage or configuration error']],
    examples: ['spoolgate pdfmail --split marker:1-7=INVOICE --recipient tag:%%MAILTO: --fallback billing@example.com invoices.txt'], usesConfig: true,
  },
  {
    name: 'queue', summary: 'the running instance\'s queue: list, show, hold, release, retry, bounce, delete, shape',
    synopsis: ['list [filters] [--limit N] [--json]', 'show ID [--body] [--json]', 'hold|release|retry|bounce|delete (ID | filters) [--reason TEXT] [--operator NAME] [--yes]', 'shape [--by domain|target] [--json]'],
    actions: ['list', 'show', 'hold', 'release', 'retry', 'bounce', 'delete', 'shape'],
    description: 'Asks the running instance over its control socket (as Postfix\'s mailq, postsuper, postcat and qshape). hold: no attempt until released; release: tried at once; retry: tried now; bounce: undeliverable, the sender is notified; delete: removed, nobody is notified (asks unless --yes). shape: the age histogram (minutes 5, 10, 20, 40, ... 2560+).',
    options: [CONFIG, SOCKET, JSON_OPT, TIMEOUT, ...QUEUE_FILTERS,
      { flags: '--limit <n>', description: 'list: at most N messages' },
      { flags: '--body', description: 'show: the message itself too' },
      { flags: '--by <what>', description: 'shape: domain (default) or target' },
      { flags: '--reason <text>', description: 'why (written to the journal)' },
      { flags: '--operator <name>', description: 'the operator the journal names (default: the user running the command)' },
      { flags: '-y, --yes', description: 'do not ask before deleting' }],
    exitCodes: COMMON_EXIT, examples: ['spoolgate queue list --state retry --min-age 1h', 'spoolgate queue hold --domain example.com --reason "their MX is down"'], usesConfig: true,
  },
  {
    name: 'sendmail', summary: 'put a complete MIME message file on the spool (QtmmSendMail), or the classic sendmail -t -i -f',
    synopsis: ['--from ADDR (--to ADDR | --cc ADDR | --bcc ADDR)... [--remove] [--job NAME] FILE', '[-t] [-i|-oi] [-f sender] [-F name] [-N dsn] [-R full|hdrs] [-V envid] [-B type] [-C config] [-v] [-bm|-bs|-bp|-q] [recipient ...]'],
    description: 'The file form puts FILE (a complete message) on the writer\'s spool for the given envelope and prints "<entry-id> <JOBNAME>(<JOBID>)"; a Bcc: header field is left out of the spooled copy; --remove unlinks FILE once the spool entry is durable. Without its long options it is the classic sendmail interface (also when installed as /usr/sbin/sendmail, or as mailq = queue list): one message on standard input; -t takes recipients from To:, Cc: and Bcc:; without -i a line holding only "." ends the message. The classic form keeps Postfix\'s parsing: unknown options warn (with -v) and are ignored.',
    // --config only: the file form is recognised by its long options; a -c goes to the classic form.
    options: [{ ...CONFIG, flags: '--config <file>' },
      { flags: '--from <addr>', description: 'file form: the envelope sender' },
      { flags: '--to <addr>', description: 'file form: a recipient (repeatable)', multiple: true },
      { flags: '--cc <addr>', description: 'file form: a copy recipient (repeatable)', multiple: true },
      { flags: '--bcc <addr>', description: 'file form: a blind copy recipient (repeatable)', multiple: true },
      { flags: '--remove', description: 'file form: delete FILE once it is on the spool' },
      { flags: '--job <name>', description: 'file form: the job name' }],
    exitCodes: [[0, 'queued'], [1, 'file form: the spool could not be written'], [2, 'file form: usage or bad input'], [64, 'classic: usage (EX_USAGE)'], [65, 'classic: bad input (EX_DATAERR)'], [69, 'classic: too large, or the instance is not reachable (EX_UNAVAILABLE)'], [75, 'classic: spool not writable, try later (EX_TEMPFAIL)'], [77, 'classic: sender not allowed (EX_NOPERM)'], [78, 'classic: configuration (EX_CONFIG)']],
    examples: ['spoolgate sendmail --from app@example.com --to ops@example.com message.eml', 'printf "Subject: test\\n\\nhello\\n" | spoolgate sendmail -t -i -f app@example.com ops@example.com'], usesConfig: true,
  },
  {
    name: 'spool', summary: 'list, show, release or purge held spool files',
    synopsis: ['held [--json]', 'show ID [--json]', 'release ID', 'purge ID'], actions: ['held', 'show', 'release', 'purge'],
    description: 'The held spool files of a writer (the gateway never reads held/, so this works while it runs). held lists them: id, time held, job, reason; show prints one\'s problem report (ID: its name or queue id); release moves it back to the writer\'s queue; purge deletes it.',
    options: [CONFIG, { flags: '--spool-dir <dir>', description: 'the spool root (instead of the configuration\'s Spool Directory)' },
      { flags: '--writer <name>', description: 'the writer (instead of the configuration\'s ExtWrtName)' }, JSON_OPT],
    exitCodes: COMMON_EXIT, examples: ['spoolgate spool held', 'spoolgate spool release 20261122T101500-0001'], usesConfig: true,
  },
  {
    name: 'start', summary: 'run the gateway instance (-f/-F cold start, --once for cron; -p ignored)',
    synopsis: ['[--config FILE] [-f|-F|--cold] [-p STACK] [--once]'],
    description: 'Runs the instance until SIGTERM or SIGINT (a drain: in-flight attempts end, the spool and checkpoint keep the rest). SIGHUP is REFRESH. --once processes what is in the spool now (and due extended retries), then exits, with a summary of where the mail went. With Store Backend PostgreSQL (docs/cluster.md): --once stores this node\'s spool, then sends the writer\'s shared-queue entries that were due when it began and no other node holds (later ones are left to the other nodes or the next run); -f forgets the shared checkpoint of the writer\'s entries no other live node holds, so those are resent from their first message (run it on one node).',
    options: [CONFIG,
      { flags: '-f, --cold', description: 'cold start: discard checkpoint records and process unfinished files from the start' },
      { flags: '-F', description: 'the same (the seed\'s start option in upper case)' },
      { flags: '-p, --stack <stack>', description: 'the seed\'s TCP/IP stack choice: accepted and ignored with a warning' },
      { flags: '-P <stack>', description: 'the same (upper case)' },
      { flags: '--once', description: 'process the spool once and exit (cron)' }],
    exitCodes: [[0, 'stopped cleanly, or --once done'], [1, 'not started (writer locked, socket in use, store cannot be opened, ...), or --once ended early (the shared queue could not be read)'], [2, 'usage or configuration error']],
    examples: ['spoolgate start --config /etc/spoolgate/spoolgate.conf', 'spoolgate start --once'], usesConfig: true,
  },
  {
    name: 'status', summary: 'what is running: pid, version, uptime, listeners, queue counts, targets, suspension',
    synopsis: ['[--config FILE | --socket PATH] [--json]'],
    description: 'Asks the running instance over its control socket (DISPLAY,STATUS) what runs: pid, version, node, start time and uptime, the listeners, messages per queue state, each target\'s state, and whether sending is suspended.',
    options: [CONFIG, SOCKET, JSON_OPT, TIMEOUT],
    exitCodes: [[0, 'the instance answered'], [1, 'no instance is running (or it did not answer)'], [2, 'usage or configuration error']],
    examples: ['spoolgate status', 'spoolgate status --json'], usesConfig: true,
  },
  {
    name: 'submit', summary: 'put batch-SMTP files on a writer\'s spool',
    synopsis: ['[--config FILE | --spool-dir DIR --writer NAME] [--job NAME] [--encoding CODEPAGE] [--record-format text|nl|fixed|variable] FILE...|-'],
    description: 'Puts each batch-SMTP FILE ("-" = standard input) on the writer\'s spool and prints "<entry-id> <JOBNAME>(<JOBID>) <FILE>" per file. The job name defaults to the file name\'s stem.',
    options: [CONFIG, { flags: '--spool-dir <dir>', description: 'the spool root (instead of the configuration\'s Spool Directory)' },
      { flags: '--writer <name>', description: 'the writer (instead of the configuration\'s ExtWrtName)' },
      { flags: '--job <name>', description: 'the job name (default: the file name\'s stem)' },
      { flags: '--encoding <codepage>', description: 'the file\'s code page, e.g. IBM-1047' },
      { flags: '--record-format <format>', description: 'text, nl, fixed or variable' }],
    exitCodes: COMMON_EXIT, examples: ['spoolgate submit examples/hello.smtp', 'spoolgate submit --encoding IBM-1047 --record-format fixed PAYROLL.smtp'], usesConfig: true,
  },
  {
    name: 'user', summary: 'enroll mailbox users: add, remove, passwd, list, alias',
    synopsis: ['add NAME [--domain DOMAIN] [--password-stdin]', 'passwd NAME [--password-stdin]', 'remove NAME [--purge]', 'list [--json]', 'alias ALIAS USER', 'alias --remove ALIAS'],
    actions: ['add', 'passwd', 'remove', 'list', 'alias'],
    description: 'The mailbox users of <StateDirectory>/spoolgate.db. A password comes from --password-stdin (its first line) or is generated and printed once; it is never a command-line argument.',
    options: [CONFIG, { flags: '--db <path>', description: 'the database (instead of <StateDirectory>/spoolgate.db)' },
      { flags: '--domain <domain>', description: 'add: the user\'s domain' },
      { flags: '--password-stdin', description: 'read the password from standard input' },
      { flags: '--purge', description: 'remove: delete the user and their mail too' },
      { flags: '--remove', description: 'alias: remove the alias' }, JSON_OPT],
    exitCodes: COMMON_EXIT, examples: ['spoolgate user add alice --domain example.com', 'spoolgate user list --json'], usesConfig: true,
  },
];

export function commandSpec(name: string): CommandSpec {
  const c = COMMANDS.find((x) => x.name === name);
  if (c === undefined) throw new Error(`no command "${name}" in the table`);
  return c;
}
