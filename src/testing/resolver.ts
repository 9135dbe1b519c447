// FakeResolver: DNS answers from a table. Unknown names answer like NXDOMAIN (empty / ENOTFOUND).
import type { MxRecord, Resolver } from '../core/resolver.js';

export class FakeResolver implements Resolver {
  addresses = new Map<string, string[]>();
  mx = new Map<string, MxRecord[]>();
  a = new Map<string, string[]>();
  lookups: string[] = [];

  async resolveAddresses(name: string): Promise<string[]> {
    this.lookups.push(`ADDR ${name}`);
    const r = this.addresses.get(name.toLowerCase());
    if (!r) throw Object.assign(new Error(`queryA ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return r;
  }

  async resolveMx(name: string): Promise<MxRecord[]> {
    this.lookups.push(`MX ${name}`);
    const r = this.mx.get(name.toLowerCase());
    if (!r) throw Object.assign(new Error(`queryMx ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return r;
  }

  async resolve4(name: string): Promise<string[]> {
    this.lookups.push(`A ${name}`);
    return this.a.get(name.toLowerCase()) ?? [];
  }
}
