// Password hashing with node:crypto scrypt (RFC 7914). The stored form carries its parameters
// and salt so they can be raised later without breaking existing hashes:
//   scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>
// Never stores or logs the password itself.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams { N: number; r: number; p: number }

/** N=2^15, r=8, p=1: about 32 MiB and tens of milliseconds per hash (OWASP guidance). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 32768, r: 8, p: 1 };
const KEY_LEN = 32;
const SALT_LEN = 16;

function derive(password: string, salt: Buffer, prm: ScryptParams): Promise<Buffer> {
  const opts: ScryptOptions = { N: prm.N, r: prm.r, p: prm.p, maxmem: 256 * prm.N * prm.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LEN, opts, (e, key) => (e ? reject(e) : resolve(key)));
  });
}

export async function hashPassword(password: string, prm: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_LEN);
  const key = await derive(password, salt, prm);
  return `scrypt$${prm.N}$${prm.r}$${prm.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Parses a stored hash; undefined for anything that is not our format. */
function parseHash(stored: string): { prm: ScryptParams; salt: Buffer; key: Buffer } | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every((v) => Number.isInteger(v) && v > 0)) return undefined;
  return { prm: { N, r, p }, salt: Buffer.from(parts[4]!, 'base64'), key: Buffer.from(parts[5]!, 'base64') };
}

/**
 * Timing-safe check. With `stored` undefined (unknown user) a dummy hash is still computed so the
 * answer takes about as long as for a real user.
 */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const parsed = stored === undefined ? undefined : parseHash(stored);
  if (parsed === undefined) {
    await derive(password, Buffer.alloc(SALT_LEN), DEFAULT_SCRYPT);
    return false;
  }
  const key = await derive(password, parsed.salt, parsed.prm);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}
