// Target resolution (SPEC.md §2.1): TargetIP literals, TargetName (A/AAAA) and TargetMx (MX in
// preference order, then A/AAAA of each exchange). Only the first four unique addresses are used;
// the rest and any duplicates are warnings. DNS is injected.
import { isIP } from 'node:net';
import type { Resolver } from '../core/index.js';
import { describeError } from '../core/index.js';
import type { TargetAddress, TargetAuth, TargetServerSpec, TargetSettings, TargetTlsSettings } from './types.js';

export const MAX_TARGET_ADDRESSES = 4;

export interface ResolvedTargets {
  readonly targets: readonly TargetAddress[];
  readonly warnings: readonly string[];
}

function normalise(ip: string): string {
  return isIP(ip) === 6 ? ip.toLowerCase() : ip;
}

export async function resolveTargets(servers: readonly TargetServerSpec[], resolver: Resolver): Promise<ResolvedTargets> {
  const candidates: TargetAddress[] = [];
  const warnings: string[] = [];
  for (const server of servers) {
    for (const ip of server.targetIp) {
      candidates.push({ address: normalise(ip), port: server.port, source: { kind: 'TargetIP' }, server });
    }
    for (const name of server.targetName) {
      try {
        for (const a of await resolver.resolveAddresses(name)) {
          candidates.push({ address: normalise(a), port: server.port, source: { kind: 'TargetName', name }, server });
        }
      } catch (e) {
        warnings.push(`TargetName ${name} could not be resolved: ${describeError(e)}`);
      }
    }
    if (server.targetMx !== undefined) {
      const name = server.targetMx;
      try {
        // RFC 5321 §5.1: lower preference first; equal preferences keep resolver order here.
        const mx = [...(await resolver.resolveMx(name))].sort((a, b) => a.priority - b.priority);
        for (const rec of mx) {
          try {
            for (const a of await resolver.resolveAddresses(rec.exchange)) {
              candidates.push({ address: normalise(a), port: server.port, source: { kind: 'TargetMx', name, exchange: rec.exchange, preference: rec.priority }, server });
            }
          } catch (e) {
            warnings.push(`TargetMx ${name}: exchange ${rec.exchange} could not be resolved: ${describeError(e)}`);
          }
        }
      } catch (e) {
        warnings.push(`TargetMx ${name} could not be resolved: ${describeError(e)}`);
      }
    }
  }
  const seen = new Set<string>();
  const targets: TargetAddress[] = [];
  for (const c of candidates) {
    const key = `${c.address}|${c.port}`;
    if (seen.has(key)) {
      warnings.push(`duplicate target address ${c.address} port ${c.port} ignored`);
      continue;
    }
    seen.add(key);
    if (targets.length >= MAX_TARGET_ADDRESSES) {
      warnings.push(`target address ${c.address} ignored: only the first ${MAX_TARGET_ADDRESSES} addresses are used`);
      continue;
    }
    targets.push(c);
  }
  return { targets, warnings };
}

type Equality<T> = { readonly [K in keyof T]-?: (a: T[K], b: T[K]) => boolean };

const same = <T>(a: T, b: T): boolean => a === b;

// One entry per field: adding a field to TargetTlsSettings or TargetSettings does not compile
// until it is said here how it is compared.
const TLS_EQUAL: Equality<TargetTlsSettings> = { caFile: same, servername: same, minVersion: same, verify: same };

const AUTH_EQUAL: Equality<TargetAuth> = { user: same, password: (a, b) => a.equals(b) };

/** The fields of `a` and `b` that differ, by the table's comparison. */
function differing<T extends object>(table: Equality<T>, a: T, b: T): (keyof T)[] {
  return (Object.keys(table) as (keyof T)[]).filter((k) => !table[k](a[k], b[k]));
}

function allEqual<T extends object>(table: Equality<T>, a: T, b: T): boolean {
  return differing(table, a, b).length === 0;
}

const SETTINGS_EQUAL: Equality<TargetSettings> = {
  port: same,
  secure: same,
  connectLimit: same,
  maxMsgSent: same,
  messageSize: same,
  tls: (a, b) => allEqual(TLS_EQUAL, a, b),
  auth: (a, b) => (a === null || b === null ? a === b : allEqual(AUTH_EQUAL, a, b)),
  sourceIp: same,
};

/**
 * Do connections made with `a` and with `b` behave the same? REFRESH keeps a target's pool (open
 * connections, state, learned capabilities) only when this holds for its old and new statement.
 * The statement's other parts (TargetIP/TargetName/TargetMx lists) say where the target is, not
 * how to talk to it. A CA file is compared by name: its content is read at each STARTTLS.
 */
export function sameTargetSettings(a: TargetSettings, b: TargetSettings): boolean {
  return allEqual(SETTINGS_EQUAL, a, b);
}

/** Names the settings that differ (for the log; never their values, which may be secret). */
export function changedTargetSettings(a: TargetSettings, b: TargetSettings): (keyof TargetSettings)[] {
  return differing(SETTINGS_EQUAL, a, b);
}
