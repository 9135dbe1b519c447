// The fully defaulted configuration object. Every field has a value after parseConfig succeeds:
// consumers never apply defaults themselves. Paths are absolute (relative paths in the file are
// resolved against the configuration file's directory). Enumerations are lower-camel-case
// strings. Times carry their unit in the doc comment (seconds or minutes, as the statement has it).

export type BadSpoolDisp = 'hold' | 'delete';
export type ReportAction = 'sysout' | 'admin' | 'none';
export type DeadLetterAction = 'store' | 'delete';
export type LogFormat = 'text' | 'json';
/** 'auto': detected per file (NL, LF, RDW or fixed), the default with an EBCDIC Translate. */
export type SpoolRecordFormat = 'text' | 'nl' | 'fixed' | 'variable' | 'auto';
export type RelayMode = 'none' | 'all' | 'nearDomains' | 'addressList' | 'both';
export type FilterMatch = 'originator' | 'subject' | 'attachmentName' | 'mimeType';
export type FilterAction = 'keep' | 'discard';
export type SenderPolicy = 'any' | 'own';
export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';
/** (ext) UserExitFailure: REJECT_FILE, REJECT_MAIL, CONTINUE. */
export type UserExitFailure = 'rejectFile' | 'rejectMail' | 'continue';

/** A listening or connecting endpoint; host is an IP literal (IPv6 without brackets) or a host name. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** An address range, e.g. 192.0.2.0/24; a single address has prefix 32 / 128. */
export interface Cidr {
  readonly text: string;
  readonly address: string;
  readonly prefix: number;
  readonly family: 4 | 6;
}

export interface TargetServerConfig {
  readonly targetIp: readonly string[];
  readonly targetName: readonly string[];
  readonly targetMx: string | null;
  readonly connectPort: number;
  readonly connectLimit: number;
  /** Messages per connection before reconnecting; 0 = unlimited. */
  readonly maxMsgSent: number;
  /** Bytes; the size limit used for servers that do not announce SIZE. */
  readonly messageSize: number;
  readonly secure: boolean;
  /** (ext) SMTP AUTH credentials; only ever sent over TLS. */
  readonly authUser: string | null;
  readonly authPassword: string | null;
  readonly tlsCaFile: string | null;
  readonly tlsServerName: string | null;
  readonly tlsMinVersion: TlsMinVersion;
  readonly tlsVerify: boolean;
  readonly sourceIp: string | null;
  /** (ext) Smart-host rate limits (docs/rate-limits.md); null = no limit. */
  readonly maxMsgPerSecond: number | null;
  readonly maxMsgPerMinute: number | null;
  /** Recipients per transaction: a longer envelope is sent as several transactions. */
  readonly maxRcptPerMsg: number | null;
  readonly maxConnectPerMinute: number | null;
  /** Slow down on 4xx replies that say the target is rate limiting. */
  readonly rateBackoff: boolean;
}

/** Seconds, each 30..1200. */
export interface TimeoutConfig {
  readonly initialMsg: number;
  readonly mailCmd: number;
  readonly rcptCmd: number;
  readonly dataCmd: number;
  readonly dataBlock: number;
  readonly dataTerm: number;
  readonly anyCmd: number;
  readonly connectRetry: number;
}

export interface ReceiverConfig {
  readonly listen: readonly HostPort[];
  readonly hostName: string;
  readonly localDomains: readonly string[];
  /** Bytes. */
  readonly maxMessageSize: number;
  readonly maxRecipients: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** Seconds. */
  readonly commandTimeout: number;
  /** Seconds. */
  readonly dataTimeout: number;
  readonly maxBadCommands: number;
  /** (ext) Milliseconds before the 220 greeting; a client that talks in them gets 554 (early talker). */
  readonly greetPause: number;
  readonly vrfy: boolean;
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
  readonly relayMode: RelayMode;
  readonly nearDomains: readonly string[];
  readonly relayAddresses: readonly Cidr[];
  readonly denyAddresses: readonly Cidr[];
  readonly dnsbl: readonly string[];
  /** (ext) An authenticated client may use only its own address or aliases as MAIL FROM. */
  readonly senderLoginMatch: boolean;
}

export interface FilterRule {
  readonly match: FilterMatch;
  /** `*` matches any run of characters; comparison is case-insensitive. */
  readonly pattern: string;
  readonly action: FilterAction;
  readonly dryRun: boolean;
}

/**
 * (ext) Dkim: DKIM signing (RFC 6376) of outgoing mail whose From: domain is `domain`
 * (docs/dkim.md). The key file is read by the gateway (src/dkim/keys.ts) at start and at each
 * REFRESH, not here: the configuration role stays pure, and tools that only read the
 * configuration (sendmail, note) never need the key.
 */
export interface DkimConfig {
  /** The signing domain (d=), lower case, as an A-label (an IDN is converted). */
  readonly domain: string;
  /** The selector (s=): the key is published at <selector>._domainkey.<domain>. */
  readonly selector: string;
  /** Absolute path of the PEM private key. */
  readonly keyFile: string;
  /** Lower-case header field names to sign (h=); null = the default list (src/dkim/sign.ts). */
  readonly headers: readonly string[] | null;
  readonly algorithm: 'rsa-sha256' | 'ed25519-sha256';
  /** Line of the statement: key problems found later name it. */
  readonly line: number;
}

export interface Pop3Config {
  readonly listen: HostPort | null;
  readonly listenTls: HostPort | null;
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
  readonly allowPlaintext: boolean;
  /** Seconds, ≥ 600 (RFC 1939 §3). */
  readonly inactivityTimeout: number;
  readonly maxFailedLogins: number;
  /** Seconds from connect to a successful login; not restarted by commands. */
  readonly loginTimeout: number;
  /** Simultaneous connections from one client address. */
  readonly maxConnectionsPerIp: number;
}

export type DisplayCompat = 'ibm' | 'spoolgate';

/** (ext) Store Backend PostgreSQL ([P2], docs/cluster.md). Times in seconds. */
export interface PostgresStoreConfig {
  /** postgres://user@host[:port]/database — never with a password (refused: it would be displayed). */
  readonly url: string;
  /** The password's file; null = the SPOOLGATE_STORE_PASSWORD environment variable, else none. */
  readonly passwordFile: string | null;
  /** This node's name in the cluster (leases, D,NODES); unique per node. */
  readonly node: string;
  readonly schema: string;
  readonly poolSize: number;
  readonly statementTimeout: number;
  readonly connectTimeout: number;
  readonly leaseTime: number;
  readonly heartbeat: number;
  readonly tls: boolean;
  readonly tlsVerify: boolean;
  readonly tlsCaFile: string | null;
}

export interface StoreConfig {
  readonly backend: 'sqlite' | 'postgresql';
  /** null with Backend SQLite. */
  readonly postgres: PostgresStoreConfig | null;
}

export interface Config {
  /** Absolute path of the file this came from (as resolved by parseConfig). */
  readonly configFile: string;
  /** Code page the file was read in: CSSMTP_CODEPAGE_CONFIG, or 'UTF-8'. */
  readonly configCodePage: string;

  // ---- CSSMTP statements (SPEC.md §3) ----
  readonly badSpoolDisp: BadSpoolDisp;
  readonly chkPointSizeLimit: number;
  readonly extendedRetry: {
    readonly active: boolean;
    /** Days. */
    readonly age: number;
    /** Minutes; 0 = bypass extended retry. */
    readonly interval: number;
    readonly mailDirectory: string;
  };
  /** Upper case, 1–8 of A-Z 0-9 $ # @. */
  readonly extWrtName: string;
  readonly header: { readonly date: boolean; readonly userInfo: boolean };
  /** KB; 0 = unlimited. */
  readonly jesJobSize: number;
  /** KB; 0 = unlimited. */
  readonly jesMsgSize: number;
  /** 0 = unlimited. */
  readonly jesSyntaxErrLimit: number;
  readonly logLevel: number;
  /** The addresses used (at most 4, as local@domain). */
  readonly mailAdministrators: readonly string[];
  readonly options: {
    readonly nullTrnc: boolean;
    readonly testMode: boolean;
    /** One character accepted as "@" in spool commands and headers. */
    readonly atSign: string;
    readonly tlsEhlo: boolean;
  };
  readonly report: ReportAction;
  readonly retryLimit: {
    readonly count: number;
    /** Minutes. */
    readonly interval: number;
  };
  readonly smf119: {
    readonly config: boolean;
    readonly connect: boolean;
    readonly mail: boolean;
    readonly spool: boolean;
    readonly stats: boolean;
    /** (ext) Minutes between STATS records. */
    readonly interval: number;
  };
  readonly targetServers: readonly TargetServerConfig[];
  readonly timeout: TimeoutConfig;
  /** Canonical code page name of the spool records, e.g. 'IBM-1047'. */
  readonly translate: string;
  readonly undeliverable: {
    readonly returnToMailFrom: boolean;
    readonly deadLetterAction: DeadLetterAction;
    readonly deadLetterDirectory: string;
    /** (ext) a copy of every notification goes here. */
    readonly copyTo: string | null;
    /** (ext) minutes after arrival when a NOTIFY=DELAY recipient's sender is told the mail waits; 0 = never. */
    readonly delayNotice: number;
  };
  /** null = NONE; else absolute path of the exit module. */
  readonly userExit: string | null;

  // ---- (ext) statements ----
  readonly instance: string;
  /** Name this host gives in EHLO, Received and Message-ID; default os.hostname(). */
  readonly hostName: string;
  readonly stateDirectory: string;
  readonly controlSocket: string;
  /** null = stderr. */
  readonly logFile: string | null;
  readonly logFormat: LogFormat;
  /** (ext) sender of error reports; null = the null reverse-path. */
  readonly reportMailFrom: string | null;
  /** (ext) Milliseconds one user-exit call (or its loading) may take. */
  readonly userExitTimeout: number;
  /** (ext) What a failing user exit (throw, bad answer, load failure, timeout) means for the mail. */
  readonly userExitFailure: UserExitFailure;
  /**
   * (ext) The only folder user-exit modules may come from (UserExit and USEREXIT,LEVEL=); it and
   * the module must be owned by the gateway's user or root and writable by nobody else.
   * Default: the configuration file's folder.
   */
  readonly userExitDirectory: string;
  /**
   * (ext) RFC 5321 §6.3 loop detection: a message that arrives with more Received fields than this
   * is refused by the receiver (554 5.4.6) and made undeliverable by the forwarder.
   */
  readonly maxReceivedHeaders: number;
  /** (ext) Seconds a stop waits for delivery attempts in flight before cutting their connections. */
  readonly drainTimeout: number;
  /**
   * (ext) Display layout for screen scrapers: `ibm` writes the seed's labels exactly (its
   * misspellings included) and leaves out every (ext) line; `spoolgate` (default) writes the
   * labels correctly and adds the (ext) lines.
   */
  readonly displayCompat: DisplayCompat;
  readonly spool: {
    readonly directory: string;
    readonly recordFormat: SpoolRecordFormat;
    readonly recordLength: number;
    /** Seconds. */
    readonly rescanInterval: number;
  };
  /** null = no HTTP API / web console. */
  readonly http: {
    readonly listen: HostPort;
    /** (ext) Host header names accepted besides IP literals, localhost and the Listen host (DNS rebinding). */
    readonly allowedHosts: readonly string[];
    /** (ext) Bytes: the largest request body of POST /api/v1/messages (the send API). */
    readonly sendMaxBody: number;
    /** (ext) Messages per minute one client address may send through the send API; 0 = no limit. */
    readonly sendRate: number;
    /** (ext) The user the send API sends as for SenderPolicy Own (never privileged); null = the instance's own user. */
    readonly sendUser: string | null;
  } | null;
  /** null = no SMTP receiver. */
  readonly receiver: ReceiverConfig | null;
  readonly filters: readonly FilterRule[];
  /** (ext) DKIM signing, one entry per From: domain. */
  readonly dkim: readonly DkimConfig[];
  /** null = no POP3 server. */
  readonly pop3: Pop3Config | null;
  /** demo: make the README tour's `demo` user on the first start (only the shipped config/spoolgate.conf says YES). */
  readonly users: { readonly defaultDomain: string | null; readonly senderPolicy: SenderPolicy; readonly demo: boolean };
  /** (ext) Days each kind is kept (0 = for ever); Interval: minutes between pruning runs. */
  readonly retention: {
    readonly journal: number;
    readonly accounting: number;
    readonly deadLetters: number;
    readonly reports: number;
    readonly interval: number;
  };
  /** (ext) Where durable state lives: the embedded SQLite (default) or a shared PostgreSQL. */
  readonly store: StoreConfig;
}
