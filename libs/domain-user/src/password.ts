import { hash, verify } from '@node-rs/argon2';

/**
 * Password hashing: argon2id (RFC 9106) with the OWASP-recommended minimum (19 MiB, t=2, p=1).
 * An unknown username is checked against a dummy hash so that it costs what a known one does
 * (OAuth 2.1 §7.7: no timing oracle for usernames).
 */
const OPTIONS = {
  algorithm: 2 /* Algorithm.Argon2id (a const enum) */,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
};

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

let dummy: Promise<string> | undefined;

/** An argon2 verification: @node-rs/argon2's `verify` (a test passes one that counts the work). */
export type Argon2Verify = (passwordHash: string, password: string) => Promise<boolean>;

export async function verifyPassword(
  passwordHash: string | null,
  password: string,
  argon2Verify: Argon2Verify = verify,
): Promise<boolean> {
  if (passwordHash === null) {
    dummy ??= hashPassword('dummy password for unknown users');
    await argon2Verify(await dummy, password).catch(() => false);
    return false;
  }
  try {
    return await argon2Verify(passwordHash, password);
  } catch {
    return false;
  }
}
