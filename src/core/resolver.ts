// DNS is injected (STYLE.md §2). main.ts passes a node:dns/promises based resolver;
// tests pass testing/FakeResolver.
export interface MxRecord {
  exchange: string;
  priority: number;
}

export interface Resolver {
  /** A and AAAA addresses of a host name, in the order the resolver returned them. */
  resolveAddresses(name: string): Promise<string[]>;
  resolveMx(name: string): Promise<MxRecord[]>;
  /** A records only; used for DNSBL lookups (an answer means "listed"). Empty when NXDOMAIN. */
  resolve4(name: string): Promise<string[]>;
}
