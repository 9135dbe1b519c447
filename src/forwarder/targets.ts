// Target resolution (SPEC.md §2.1): TargetIP literals, TargetName (A/AAAA) and TargetMx (MX in
// preference order, then A/AAAA of each exchange). Only the first four unique addresses are used;
// the rest and any duplicates are warnings. DNS is injected.
import { isIP } from 'node:net';
import type { Resolver } from '../core/index.js';
import { describeError } from '../core/index.js';
import type { TargetAddress, TargetServerSpec } from './types.js';

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
  for (const [serverIndex, server] of servers.entries()) {
    for (const ip of server.targetIp) {
      candidates.push({ address: normalise(ip), port: server.port, source: { kind: 'TargetIP' }, server, serverIndex });
    }
    for (const name of server.targetName) {
      try {
        for (const a of await resolver.resolveAddresses(name)) {
          candidates.push({ address: normalise(a), port: server.port, source: { kind: 'TargetName', name }, server, serverIndex });
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
              candidates.push({ address: normalise(a), port: server.port, source: { kind: 'TargetMx', name, exchange: rec.exchange, preference: rec.priority }, server, serverIndex });
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
