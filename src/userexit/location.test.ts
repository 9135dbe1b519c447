import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../testing/peers.js';
import { FakeClock } from '../testing/clock.js';
import { checkExitLocation } from './location.js';
import { UserExitRunner, prepareUserExit } from './runner.js';

const ECHO = 'export default () => "CONTINUE";\n';

test('issue #15 item 8: a user exit comes only from UserExitDirectory, owner-only', async (t) => {
  const root = tempDir(t);
  const dir = join(root, 'exits');
  mkdirSync(join(dir, 'sub'), { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  const good = join(dir, 'good.mjs');
  writeFileSync(good, ECHO, { mode: 0o644 });
  writeFileSync(join(dir, 'sub', 'deep.mjs'), ECHO, { mode: 0o644 });
  const outside = join(root, 'outside.mjs');
  writeFileSync(outside, ECHO, { mode: 0o644 });
  const uid = process.getuid?.() ?? 0;

  assert.deepEqual(await checkExitLocation(good, dir, uid), { ok: true });
  assert.deepEqual(await checkExitLocation(join(dir, 'sub', 'deep.mjs'), dir, uid), { ok: true });
  const refuse = async (module: string, want: RegExp, checkUid = uid): Promise<void> => {
    const r = await checkExitLocation(module, dir, checkUid);
    assert.equal(r.ok, false, module);
    assert.match(r.ok ? '' : r.error, want);
  };
  await refuse(outside, /^REFUSED: not inside UserExitDirectory .*put the module there or change UserExitDirectory/);
  await refuse(join(dir, '..', 'outside.mjs'), /^REFUSED: not inside UserExitDirectory/);
  await refuse('/etc/passwd', /^REFUSED: not inside UserExitDirectory/);
  await refuse(join(dir, 'missing.mjs'), /^NOT LOADED: /);
  await refuse(dir, /not inside/);
  // A symbolic link in the folder that leads out of it.
  symlinkSync(outside, join(dir, 'link.mjs'));
  await refuse(join(dir, 'link.mjs'), /^REFUSED: not inside UserExitDirectory/);
  // A world- or group-writable module or folder.
  chmodSync(good, 0o666);
  await refuse(good, /good\.mjs is writable by everybody \(mode 666\); chmod go-w it/);
  chmodSync(good, 0o664);
  await refuse(good, /writable by its group/);
  chmodSync(good, 0o644);
  chmodSync(join(dir, 'sub'), 0o777);
  await refuse(join(dir, 'sub', 'deep.mjs'), /sub is writable by everybody/);
  chmodSync(join(dir, 'sub'), 0o755);
  chmodSync(dir, 0o775);
  await refuse(good, /exits is writable by its group/);
  chmodSync(dir, 0o755);
  // Owned by somebody else (not the gateway's user, not root).
  if (uid === 0) {
    chownSync(good, 4242, 4242);
    await refuse(good, /owned by uid 4242, not by the gateway's user \(uid 0\) or root/);
    chownSync(good, 0, 0);
  } else {
    await refuse(good, /owned by uid/, uid + 1);
  }
  assert.deepEqual(await checkExitLocation(good, dir, uid), { ok: true });

  // USEREXIT,LEVEL=: relative to UserExitDirectory; a path elsewhere is refused before it is loaded.
  assert.deepEqual(await prepareUserExit('good.mjs', dir, 2000, new FakeClock()), { ok: true, value: good });
  const far = await prepareUserExit(outside, dir, 2000, new FakeClock());
  assert.equal(far.ok, false);
  assert.match(far.ok ? '' : far.error, /outside\.mjs REFUSED: not inside UserExitDirectory/);
});

test('a module admitted earlier but made writable by others since is refused at its next load', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'exit.mjs');
  writeFileSync(path, ECHO, { mode: 0o644 });
  chmodSync(path, 0o644);
  const r = new UserExitRunner({ module: path, timeoutMs: () => 5000 });
  t.after(() => r.close());
  assert.equal(await r.load(), undefined, 'owner-only: loads');
  await r.close();
  chmodSync(path, 0o666);
  const again = new UserExitRunner({ module: path, timeoutMs: () => 5000 });
  t.after(() => again.close());
  const failed = await again.load();
  assert.deepEqual(failed, { ok: false, cause: 'load', detail: `REFUSED: ${path} is writable by everybody (mode 666); chmod go-w it` });
  assert.equal(again.starts, 1);
});
