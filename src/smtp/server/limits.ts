// Connection counting for the listener: total and per client IP (SPEC.md §5 limits).
export class ConnectionCounter {
  private total = 0;
  private readonly perIp = new Map<string, number>();

  constructor(private maxTotal: number, private maxPerIp: number) {}

  /** New limits for the next acquire(); connections already counted stay counted. */
  setLimits(maxTotal: number, maxPerIp: number): void {
    this.maxTotal = maxTotal;
    this.maxPerIp = maxPerIp;
  }

  /** Counts a new connection, or says which limit refuses it. */
  acquire(ip: string): { ok: true } | { ok: false; reason: string } {
    if (this.total >= this.maxTotal) return { ok: false, reason: `connection limit ${this.maxTotal} reached` };
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.maxPerIp) return { ok: false, reason: `per-client limit ${this.maxPerIp} reached for ${ip}` };
    this.total++;
    this.perIp.set(ip, n + 1);
    return { ok: true };
  }

  release(ip: string): void {
    this.total = Math.max(0, this.total - 1);
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }

  get count(): number {
    return this.total;
  }
}
