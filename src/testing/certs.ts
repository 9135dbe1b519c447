// Test TLS material made with openssl: a CA and a server certificate for "localhost" and
// 127.0.0.1/::1, signed by that CA, so clients can verify against the CA file. Generated once
// per process into a temporary directory. testCerts(name) makes a separate set (its own CA,
// a certificate for `name` as well): two servers that no one CA file can both verify.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** A second, unrelated CA: certificates from it are "not trusted" by clients using caFile. */
  otherCaFile: string;
}

const cached = new Map<string, TestCerts>();

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function testCerts(name?: string): TestCerts {
  const have = cached.get(name ?? '');
  if (have) return have;
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-certs-'));
  const caName = name === undefined ? 'spoolgate test CA' : `spoolgate test CA for ${name}`;
  const altNames = `${name === undefined ? '' : `DNS:${name},`}DNS:localhost,IP:127.0.0.1,IP:::1`;
  const days = '30';
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', days, '-subj', `/CN=${caName}`], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'server.csr', '-subj', `/CN=${name ?? 'localhost'}`], dir);
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${altNames}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cert.pem', '-days', days, '-extfile', 'ext.cnf'], dir);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other-ca.pem', '-days', days, '-subj', '/CN=untrusted CA'], dir);
  const made: TestCerts = {
    dir,
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'cert.pem'),
    keyFile: join(dir, 'key.pem'),
    ca: readFileSync(join(dir, 'ca.pem')),
    cert: readFileSync(join(dir, 'cert.pem')),
    key: readFileSync(join(dir, 'key.pem')),
    otherCaFile: join(dir, 'other-ca.pem'),
  };
  cached.set(name ?? '', made);
  return made;
}
