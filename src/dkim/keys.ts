// The DKIM keys of the Dkim statements, read from their files (at start and at each REFRESH:
// a rotated key file is picked up by REFRESH). Every problem is a configuration error in the
// common format (file:line: Dkim KeyFile: problem; allowed: the fix). The private key never
// leaves this file's objects in a printable form: problems name the file, never its contents,
// and a DkimKey prints as its domain and selector only (JSON, util.inspect, String()).
import { readFileSync, statSync } from 'node:fs';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { describeError } from '../core/index.js';
import { formatDiagnostic, type DkimConfig } from '../config/index.js';

/**
 * RFC 8301 §3.2: signers MUST use RSA keys of at least 1024 bits (and SHOULD use 2048); keys
 * below 1024 bits are refused, so verifiers never discard our signatures for being weak.
 */
export const MIN_RSA_BITS = 1024;
/** A key file larger than this is not a DKIM key (an 8192-bit RSA PEM is about 6.5 KB). */
const MAX_KEY_FILE_BYTES = 64 * 1024;

export class DkimKey {
  readonly #privateKey: KeyObject;
  constructor(
    readonly domain: string,
    readonly selector: string,
    readonly algorithm: DkimConfig['algorithm'],
    readonly headers: readonly string[] | null,
    readonly keyFile: string,
    privateKey: KeyObject,
  ) {
    this.#privateKey = privateKey;
  }

  /** Only for crypto.sign (sign.ts). */
  privateKey(): KeyObject {
    return this.#privateKey;
  }

  /**
   * The TXT record to publish at <selector>._domainkey.<domain> (RFC 6376 §3.6.1): k=rsa with
   * the DER SubjectPublicKeyInfo, or (RFC 8463 §4.2) k=ed25519 with the raw 32-octet public key.
   */
  txtRecord(): string {
    const spki = createPublicKey(this.#privateKey).export({ type: 'spki', format: 'der' });
    if (this.algorithm === 'ed25519-sha256') return `v=DKIM1; k=ed25519; p=${spki.subarray(spki.length - 32).toString('base64')}`;
    return `v=DKIM1; k=rsa; p=${spki.toString('base64')}`;
  }

  /** The DNS name the TXT record goes to. */
  get dnsName(): string {
    return `${this.selector}._domainkey.${this.domain}`;
  }

  toString(): string {
    return `DKIM key ${this.dnsName} (${this.algorithm})`;
  }
  toJSON(): unknown {
    return { domain: this.domain, selector: this.selector, algorithm: this.algorithm, keyFile: this.keyFile };
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** The keys in force, by signing domain (A-label, lower case). */
export class DkimKeyring {
  constructor(private readonly byDomain: ReadonlyMap<string, DkimKey>) {}
  static readonly EMPTY = new DkimKeyring(new Map());
  get(domain: string): DkimKey | undefined {
    return this.byDomain.get(domain);
  }
  get size(): number {
    return this.byDomain.size;
  }
  domains(): string[] {
    return [...this.byDomain.keys()];
  }
}

export interface LoadedKeys {
  readonly keyring: DkimKeyring;
  /** Non-fatal remarks (a key file others can read), in the configuration error format. */
  readonly warnings: readonly string[];
}

export type KeyFileReader = (path: string) => { readonly bytes: Buffer; readonly mode: number };

const readKeyFile: KeyFileReader = (path) => {
  const st = statSync(path);
  if (!st.isFile()) throw new Error('not a regular file');
  if (st.size > MAX_KEY_FILE_BYTES) throw new Error(`${st.size} octets, too large for a key`);
  return { bytes: readFileSync(path), mode: st.mode };
};

const GENERATE: Record<DkimConfig['algorithm'], string> = {
  'rsa-sha256': 'a PEM RSA private key of 2048 bits, e.g. made with: openssl genrsa -out <KeyFile> 2048 (docs/dkim.md)',
  'ed25519-sha256': 'a PEM Ed25519 private key, e.g. made with: openssl genpkey -algorithm ed25519 -out <KeyFile> (docs/dkim.md)',
};

/**
 * Reads every Dkim statement's key. Any problem refuses the whole set (the gateway does not
 * start, a REFRESH is refused and the keys in force stay): mail is never sent unsigned because
 * one key file went missing.
 */
export function loadDkimKeys(entries: readonly DkimConfig[], configFile: string, read: KeyFileReader = readKeyFile): { ok: true; value: LoadedKeys } | { ok: false; error: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const keys = new Map<string, DkimKey>();
  for (const e of entries) {
    const problem = (text: string, allowed: string | null = GENERATE[e.algorithm]): string =>
      formatDiagnostic({ file: configFile, line: e.line, statement: 'Dkim', parameter: 'KeyFile', problem: text, allowed });
    let file: { bytes: Buffer; mode: number };
    try {
      file = read(e.keyFile);
    } catch (x) {
      errors.push(problem(`cannot read ${e.keyFile}: ${describeError(x)}`, `a file the gateway's user can read: ${GENERATE[e.algorithm]}`));
      continue;
    }
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: file.bytes, format: 'pem' });
    } catch (x) {
      // The error names the decoder's complaint, never the bytes it was given.
      const why = /passphrase/i.test(describeError(x)) ? 'the key is encrypted (decrypt it: openssl pkey -in <file> -out <KeyFile>)' : 'not a PEM private key';
      errors.push(problem(`${e.keyFile} cannot be used: ${why}`));
      continue;
    }
    const type = key.asymmetricKeyType;
    if (e.algorithm === 'rsa-sha256') {
      if (type !== 'rsa') { errors.push(problem(`${e.keyFile} holds an ${type ?? 'unknown'} key, Algorithm rsa-sha256 needs an RSA key`)); continue; }
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) { errors.push(problem(`${e.keyFile} holds a ${bits}-bit RSA key; RFC 8301 needs at least ${MIN_RSA_BITS}`)); continue; }
    } else if (type !== 'ed25519') {
      errors.push(problem(`${e.keyFile} holds an ${type ?? 'unknown'} key, Algorithm ed25519-sha256 needs an Ed25519 key`));
      continue;
    }
    if ((file.mode & 0o077) !== 0) {
      warnings.push(formatDiagnostic({ file: configFile, line: e.line, statement: 'Dkim', parameter: 'KeyFile', problem: `${e.keyFile} can be read by others (mode ${(file.mode & 0o777).toString(8)})`, allowed: `chmod 600 ${e.keyFile}` }));
    }
    keys.set(e.domain, new DkimKey(e.domain, e.selector, e.algorithm, e.headers, e.keyFile, key));
  }
  if (errors.length > 0) return { ok: false, error: errors };
  return { ok: true, value: { keyring: new DkimKeyring(keys), warnings } };
}
