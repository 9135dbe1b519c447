// The embedded default's demo user (README tour): on the first start of a configuration that asks
// for it explicitly (`Users Demo YES`, said only by the shipped config/spoolgate.conf) and has a
// DefaultDomain and no users yet, a user `demo` with a random password, the password written
// (mode 0600) to the state directory so the operator can read it. A production configuration
// that sets DefaultDomain gets no demo user. Nothing happens once any user exists.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { UserDirectory } from './types.js';

export interface DemoUser {
  readonly user: string;
  readonly passwordFile: string;
  readonly password: string;
}

export async function ensureDemoUser(users: UserDirectory, settings: { readonly demo: boolean; readonly defaultDomain: string | null }, passwordFile: string): Promise<DemoUser | undefined> {
  const domain = settings.defaultDomain;
  if (!settings.demo || domain === null || (await users.listUsers()).length > 0) return undefined;
  const password = randomBytes(12).toString('base64url');
  const added = await users.addUser('demo', password, { domain });
  if (!added.ok) return undefined;
  writeFileSync(passwordFile, password + '\n', { mode: 0o600 });
  return { user: 'demo', passwordFile, password };
}
