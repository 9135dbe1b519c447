// Validation of user names, domains and aliases: they come from operators (CLI) and, for
// resolve(), from the network (RCPT TO local parts), so they are checked before any lookup.
import { canonicalLoginName } from '../core/login.js';
import { err, ok, type Result } from '../core/result.js';
import { StoreError } from './types.js';

/**
 * A user (login) name: 1–64 of a-z 0-9 . _ + - after core's canonicalLoginName (NFC, lower case,
 * no white space or invisible character anywhere: refused, never trimmed), not starting with a dot.
 */
const USER_RE = /^[a-z0-9_][a-z0-9._+-]{0,63}$/;
const DOMAIN_RE = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function canonicalUser(name: string): string | undefined {
  const n = canonicalLoginName(name);
  return n !== undefined && USER_RE.test(n) ? n : undefined;
}

export function canonicalDomain(domain: string): string | undefined {
  const d = domain.trim().toLowerCase().replace(/\.$/, '');
  return DOMAIN_RE.test(d) ? d : undefined;
}

/** An alias is a local part or local@domain; returns its canonical form. */
export function canonicalAlias(alias: string): string | undefined {
  const a = alias.trim().toLowerCase();
  const at = a.lastIndexOf('@');
  if (at < 0) return canonicalUser(a);
  const local = canonicalUser(a.slice(0, at));
  const dom = canonicalDomain(a.slice(at + 1));
  return local !== undefined && dom !== undefined ? `${local}@${dom}` : undefined;
}

/** A new user's name, domain and password checked as every UserDirectory does before addUser stores anything. */
export function newUserFields(name: string, password: string, domain: string | undefined): Result<{ name: string; domain: string | null }, StoreError> {
  const n = canonicalUser(name);
  if (n === undefined) return err(new StoreError('ERR_BAD_NAME', `user name "${name}" is not valid: use 1-64 of a-z 0-9 . _ + -`));
  let d: string | null = null;
  if (domain !== undefined) {
    const c = canonicalDomain(domain);
    if (c === undefined) return err(new StoreError('ERR_BAD_NAME', `domain "${domain}" is not a valid domain name`));
    d = c;
  }
  if (password.length === 0) return err(new StoreError('ERR_BAD_NAME', 'the password must not be empty'));
  return ok({ name: n, domain: d });
}

/**
 * The parts of an address resolve() looks up: its canonical local part and, when it has one, its
 * canonical domain; undefined when either is not valid (it then resolves to nobody).
 */
export function resolvableAddress(address: string): { local: string; domain: string | undefined } | undefined {
  const a = address.trim().toLowerCase();
  const at = a.lastIndexOf('@');
  const local = canonicalUser(at < 0 ? a : a.slice(0, at));
  if (local === undefined) return undefined;
  const domain = at < 0 ? undefined : canonicalDomain(a.slice(at + 1));
  if (at >= 0 && domain === undefined) return undefined;
  return { local, domain };
}
