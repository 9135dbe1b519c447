// The independent DKIM verifier for tests: dkimpy (Debian python3-dkim), run with the system
// /usr/bin/python3 (the python3 on PATH may be another installation without the module), with
// the public key TXT records handed to it instead of DNS. A missing verifier skips the test (CI
// fails): needPeer(t, 'dkimpy').
import { execFileSync } from 'node:child_process';

export const SYSTEM_PYTHON = '/usr/bin/python3';

const SCRIPT = String.raw`
import sys, json, logging, io
import dkim
records = json.loads(sys.argv[1])
asked = []
def dnsfunc(name, timeout=5):
    n = name.decode() if isinstance(name, bytes) else name
    asked.append(n.rstrip('.'))
    txt = records.get(n.rstrip('.'))
    return txt.encode() if txt is not None else None
out = io.StringIO()
logger = logging.getLogger('dkimtest')
logger.addHandler(logging.StreamHandler(out))
logger.setLevel(logging.DEBUG)
msg = sys.stdin.buffer.read()
d = dkim.DKIM(msg, logger=logger)
count = len([h for h in d.headers if h[0].lower() == b'dkim-signature'])
results = []
for idx in range(count):
    try:
        results.append(bool(d.verify(idx=idx, dnsfunc=dnsfunc)))
    except Exception as e:
        out.write('exception: %r\n' % (e,))
        results.append(False)
print(json.dumps({'results': results, 'asked': asked, 'log': out.getvalue()}))
`;

export interface DkimVerdict {
  /** One verdict per DKIM-Signature field, topmost first; empty when the message has none. */
  readonly results: readonly boolean[];
  /** The DNS names dkimpy asked for. */
  readonly asked: readonly string[];
  readonly log: string;
}

/** Verifies every signature of `message` with dkimpy; `records` maps "<selector>._domainkey.<domain>" to its TXT value. */
export function dkimVerify(message: Buffer, records: Readonly<Record<string, string>>): DkimVerdict {
  const out = execFileSync(SYSTEM_PYTHON, ['-c', SCRIPT, JSON.stringify(records)], { input: message, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out) as DkimVerdict;
}
