// The operator message catalogue (SPEC.md §4): the seed's EZD18xx IDs and texts for what its
// MODIFY examples show, and invented IDs in the same range (EZD1835E–EZD1844E, the gaps the seed
// does not use) for what it does not. Suffix I = information, E = the command was not carried out.
// Every ID is listed in docs/messages.md (a test keeps the two in step).

export const MESSAGE_IDS = [
  'EZD1809I', 'EZD1810I', 'EZD1814I', 'EZD1821I', 'EZD1822I', 'EZD1823I', 'EZD1828I', 'EZD1829I',
  'EZD1830I', 'EZD1831I', 'EZD1832I', 'EZD1833I', 'EZD1834I', 'EZD1835E', 'EZD1836E', 'EZD1837I',
  'EZD1838E', 'EZD1839I', 'EZD1840I', 'EZD1841I', 'EZD1842I', 'EZD1843I', 'EZD1844E', 'EZD1845I', 'EZD1846I',
  'EZD1847I', 'EZD1848I', 'EZD1849I', 'EZD1850I', 'EZD1851I', 'EZD1852I', 'EZD1853I', 'EZD1854I', 'EZD1855I', 'EZD1856E',
  'EZD1860I', 'EZD1861I', 'EZD1862E', 'EZD1863I', 'EZD1864I',
  'EZD1865I',
] as const;

export type MessageId = (typeof MESSAGE_IDS)[number];

/** Message texts; `i` is the instance name as shown (upper case). */
export const Msg = {
  // ---- seed ----
  /** Example 8 (LOGLEVEL); also USEREXIT. NOT UPDATED when no value was given. */
  completedStatus: (i: string, cmd: 'LOGLEVEL' | 'USEREXIT', updated: boolean) => `EZD1809I ${i} MODIFY ${cmd} COMMAND COMPLETED : ${updated ? 'UPDATED' : 'NOT UPDATED'}`,
  /** Examples 11, 12. */
  flushTkid: (i: string, tkid: number) => `EZD1810I ${i} MODIFY FLUSHRETRY, TKID=${tkid} COMMAND COMPLETED`,
  /** Example 14. */
  resumed: (i: string) => `EZD1814I ${i} MODIFY RESUME COMMAND COMPLETED`,
  /** Example 13 and the TLS steps: a target answered (after REFRESHTARGETS, or when it becomes usable). */
  ableToUse: (i: string, addr: string) => `EZD1821I ${i} ABLE TO USE TARGET SERVER ${addr}`,
  /** Example 15 (IMMEDIATE); DELAY in the same form. */
  suspended: (i: string, mode: 'immediate' | 'delay') => `EZD1822I ${i} MODIFY SUSPEND ${mode.toUpperCase()} COMMAND COMPLETED`,
  /** Examples 16, 17. */
  flushAge: (i: string, days: number) => `EZD1823I ${i} MODIFY FLUSHRETRY, AGE=${days} COMMAND COMPLETED`,
  /** Example 1. */
  logLevel: (i: string, level: number) => `EZD1828I ${i} DISPLAY LOGLEVEL = ${level}`,
  // EZD1829I (Example 2) is built by src/config/display.ts formatConfigDisplay.
  /** Examples 3, 4. */
  ipList: (i: string) => `EZD1830I ${i} IPLIST:`,
  /** Examples 6, 7. */
  targets: (i: string) => `EZD1831I ${i} TARGETS:`,
  /** Example 5 (summary). */
  spoolSummary: (i: string) => `EZD1832I ${i} SPOOLSTATUS:`,
  /** Example 5 (detail). */
  spoolDetail: (i: string) => `EZD1833I ${i} SPOOLSTATUS:`,
  /** Examples 9–17: an action command was taken. */
  accepted: (i: string) => `EZD1834I ${i} MODIFY COMMAND ACCEPTED`,
  /** Example 9. */
  updatedConfig: (i: string) => `EZD1840I ${i} UPDATED CONFIGURATION`,
  /**
   * Seed (Options TestMode) names the ID, not its text: TestMode YES without a report
   * destination (Report None) shows nothing. At start and after REFRESH, in the log.
   */
  testModeNoReport: (i: string) => `EZD1841I ${i} TESTMODE HAS NO VALID REPORT DESTINATION`,
  /** Example 10. */
  refreshIpListDone: (i: string) => `EZD1842I ${i} MODIFY REFRESHIPLIST COMMAND COMPLETED`,
  /** Example 10: REFRESHIPLIST changed the address list. */
  updatedTargetsIpList: (i: string) => `EZD1845I ${i} UPDATED TARGET SERVERS`,
  /** Example 9: REFRESH changed the TargetServer statements. */
  updatedTargetsRefresh: (i: string) => `EZD1846I ${i} UPDATED TARGET SERVERS`,
  /** Example 9. */
  refreshDone: (i: string) => `EZD1848I ${i} MODIFY REFRESH COMMAND COMPLETED`,
  // ---- invented (not shown by the seed) ----
  notValid: (i: string, detail: string) => `EZD1835E ${i} MODIFY COMMAND NOT VALID : ${detail}`,
  failed: (i: string, cmd: string, detail: string) => `EZD1836E ${i} MODIFY ${cmd} COMMAND FAILED : ${detail}`,
  refreshTargetsDone: (i: string) => `EZD1837I ${i} MODIFY REFRESHTARGETS COMMAND COMPLETED`,
  noSuchTarget: (i: string, addr: string) => `EZD1838E ${i} DISPLAY TARGETS ADDR=${addr} IS NOT A TARGET SERVER IN USE`,
  unableToUse: (i: string, addr: string, detail: string) => `EZD1839I ${i} UNABLE TO USE TARGET SERVER ${addr} : ${detail}`,
  refreshIgnored: (i: string, statement: string, detail: string) => `EZD1843I ${i} REFRESH IGNORED ${statement.toUpperCase()} CHANGE : ${detail}`,
  /** USEREXIT,LEVEL=VERSIONn: a CSSMTP exit program cannot run here; docs/userexit.md has the module form. */
  mvsExit: (i: string, level: string) => `EZD1847I ${i} USEREXIT ${level} IS AN MVS EXIT AND CANNOT RUN HERE : USER EXIT NOT CHANGED; WRITE IT AS A JAVASCRIPT MODULE (DOCS/USEREXIT.MD)`,
  refreshRejected: (i: string, detail: string) => `EZD1844E ${i} REFRESH REJECTED : ${detail}`,
  // ---- invented for the queue (O1 #17, src/control/queue-commands.ts) ----
  /** DISPLAY,QUEUE: shown of total matching. */
  queueList: (i: string, shown: number, total: number) => `EZD1849I ${i} QUEUE: ${shown} OF ${total} MESSAGES`,
  // ---- invented for the cluster ([P2] #19, docs/cluster.md) ----
  /** DISPLAY,NODES: the nodes heartbeating on the shared store, and which one answers. */
  nodes: (i: string, n: number, self: string) => `EZD1860I ${i} NODES: ${n} (THIS NODE ${self})`,
  /** REFRESH,ALL: another node re-read its configuration (what it changed). */
  nodeRefreshed: (i: string, node: string, detail: string) => `EZD1861I ${i} NODE ${node} REFRESHED : ${detail}`,
  /** REFRESH,ALL: another node refused the refresh, or did not answer within the bound. */
  nodeNotRefreshed: (i: string, node: string, detail: string) => `EZD1862E ${i} NODE ${node} NOT REFRESHED : ${detail}`,
  /** REFRESH,ALL: how many nodes were asked (none with Backend SQLite: this node only). */
  refreshAll: (i: string, detail: string) => `EZD1863I ${i} MODIFY REFRESH,ALL : ${detail}`,
  /** DISPLAY,TARGETS / SPOOLSTATUS on a cluster: every node's rows follow, with a NODE column. */
  clusterView: (i: string, n: number, self: string) => `EZD1864I ${i} CLUSTER: ${n} NODES (THIS NODE ${self})`,
  /** DISPLAY,QUEUE,ID=. */
  queueMessage: (i: string, id: string) => `EZD1850I ${i} QUEUE MESSAGE ${id}:`,
  /** DISPLAY,QSHAPE. */
  queueShape: (i: string, by: 'target' | 'domain') => `EZD1851I ${i} QSHAPE BY ${by.toUpperCase()} (AGE IN MINUTES):`,
  /** DISPLAY,DEADLETTERS. */
  deadLetters: (i: string, n: number) => `EZD1852I ${i} DEADLETTERS: ${n}`,
  /** DISPLAY,HELD. */
  heldFiles: (i: string, n: number) => `EZD1853I ${i} HELD SPOOL FILES: ${n}`,
  /** DISPLAY,HELD,ID=: the file's problem report. */
  heldReport: (i: string, id: string) => `EZD1854I ${i} HELD SPOOL FILE ${id} REPORT:`,
  /** HOLD, RELEASE, RETRY, BOUNCE, DELETE, REQUEUE, PURGEDEAD, RELEASEHELD, PURGEHELD carried out. */
  queueDone: (i: string, cmd: string, detail: string) => `EZD1855I ${i} MODIFY ${cmd} COMMAND COMPLETED : ${detail}`,
  /** A queue command not carried out: no such id, not in a state for it, a bad id. */
  queueFailed: (i: string, cmd: string, detail: string) => `EZD1856E ${i} MODIFY ${cmd} COMMAND FAILED : ${detail}`,
  // ---- invented for `spoolgate status` (O2 #18 item 6, src/control/status.ts) ----
  /** DISPLAY,STATUS: the process, listeners, queue counts and targets follow. */
  status: (i: string) => `EZD1865I ${i} STATUS:`,
} as const;

/** Is this response line an error message (the command was not carried out)? */
export function isErrorLine(line: string): boolean {
  return /^EZD\d{4}E /.test(line);
}
