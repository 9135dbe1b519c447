// IP addresses and CIDR ranges for the connection deny list and the address relay list, and the
// DNSBL query name of a client address (RFC 5782 §2.1 IPv4, §2.4 IPv6 nibbles).
import { isIP } from 'node:net';
import type { Cidr } from '../config/types.js';

/** An address as bytes: 4 for IPv4, 16 for IPv6. IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4. */
export function ipBytes(ip: string): Uint8Array | undefined {
  const zone = ip.indexOf('%');
  const text = zone >= 0 ? ip.slice(0, zone) : ip;
  const fam = isIP(text);
  if (fam === 4) return Uint8Array.from(text.split('.').map(Number));
  if (fam !== 6) return undefined;
  const v6 = ipv6Bytes(text);
  // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; compare them as IPv4.
  if (v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff) return v6.subarray(12);
  return v6;
}

function ipv6Bytes(text: string): Uint8Array {
  let s = text;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    tail.push(...last.split('.').map(Number));
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const r = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? h : [...h, ...new Array<string>(8 - h.length - r.length).fill('0'), ...r];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

/** True when ip lies in the range. An IPv4 client matches IPv4 ranges even when seen as ::ffff:a.b.c.d. */
export function cidrContains(range: Pick<Cidr, 'address' | 'prefix'>, ip: string): boolean {
  const a = ipBytes(ip);
  const net = ipBytes(range.address);
  if (a === undefined || net === undefined || a.length !== net.length) return false;
  const prefix = Math.min(range.prefix, a.length * 8);
  const full = Math.floor(prefix / 8);
  for (let i = 0; i < full; i++) if (a[i] !== net[i]) return false;
  const bits = prefix % 8;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((a[full] ?? 0) & mask) === ((net[full] ?? 0) & mask);
}

export function inAnyCidr(ranges: readonly Pick<Cidr, 'address' | 'prefix'>[], ip: string): Pick<Cidr, 'address' | 'prefix'> | undefined {
  return ranges.find((r) => cidrContains(r, ip));
}

/**
 * RFC 5782 §2.1: an IPv4 client a.b.c.d is looked up as d.c.b.a.<zone>; §2.4: an IPv6 client as
 * its 32 nibbles in reverse order, dot-separated. undefined for a non-IP.
 */
export function dnsblQueryName(ip: string, zone: string): string | undefined {
  const b = ipBytes(ip);
  if (b === undefined) return undefined;
  const z = zone.replace(/^\.+|\.+$/g, '');
  if (b.length === 4) return `${[...b].reverse().join('.')}.${z}`;
  const nibbles: string[] = [];
  for (const byte of b) nibbles.push((byte >> 4).toString(16), (byte & 0xf).toString(16));
  return `${nibbles.reverse().join('.')}.${z}`;
}
