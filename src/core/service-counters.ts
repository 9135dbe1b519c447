// Counters of the receiver and POP3 for /metrics (O2 #18 item 6). A plain record each role
// increments where it decides (the role knows its events: receiver/index.ts, pop3/server.ts);
// main.ts makes one per process and hands the same object to the roles and to web/metrics.ts.
// Counters only grow (Prometheus counters); a restart starts them at 0.

export interface ReceiverCounters {
  /** Connections the server took (greeted or refused by policy). */
  connections: number;
  /** Messages answered 250 at the end of DATA. */
  accepted: number;
  /** RCPT refused because relaying is not allowed for the client. */
  relayRefused: number;
  /** Messages a Filter rule stopped (discarded or kept in quarantine; dry runs not counted). */
  filtered: number;
  /** Connections refused because a DNSBL zone lists the client. */
  dnsblHits: number;
  /** Replies sent with a 4xx or 5xx code (the last line of each reply). */
  replies4xx: number;
  replies5xx: number;
}

export interface Pop3Counters {
  /** Successful logins (the maildrop opened). */
  logins: number;
  /** Logins refused for a wrong user name or password. */
  failures: number;
  /** Logins refused unchecked because the client address failed too often (the shared throttle). */
  throttled: number;
}

export class ServiceCounters {
  readonly receiver: ReceiverCounters = { connections: 0, accepted: 0, relayRefused: 0, filtered: 0, dnsblHits: 0, replies4xx: 0, replies5xx: 0 };
  readonly pop3: Pop3Counters = { logins: 0, failures: 0, throttled: 0 };
}
