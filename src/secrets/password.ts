/**
 * Dashboard passwords (spec §4): stored with scrypt, a slow, memory-hard password hash, so a
 * stolen database does not give the passwords away cheaply. The parameters travel in the stored
 * string (`scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`), so they can be raised later without
 * breaking stored hashes. Hashing runs on libuv's thread pool (async `scrypt`), not on the event loop.
 * API tokens are not hashed here: they are long and random, and SHA-256 suffices (auth/api-token.ts).
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import { COMMON_PASSWORDS } from './common-passwords.js'

// N = 2^15, r = 8: 32 MiB and ~0.1–0.2 s per hash on the 2-core machines measured here. Logins
// are rate limited (DASHBOARD_RATE_LIMITING_*), which bounds what an attacker can make us spend.
const LOG2_N = 15
const R = 8
const P = 1
const KEY_LEN = 32

function scrypt(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keyLen, opts, (e, k) => (e ? reject(e) : resolve(k))))
}

const maxmem = (log2n: number, r: number) => 128 * r * 2 ** log2n * 2 // twice the need, for the library's own overhead

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const hash = await scrypt(password, salt, KEY_LEN, { N: 2 ** LOG2_N, r: R, p: P, maxmem: maxmem(LOG2_N, R) })
  return `scrypt$${LOG2_N}$${R}$${P}$${salt.toString('base64url')}$${hash.toString('base64url')}`
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [log2n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])]
  if (![log2n, r, p].every(Number.isInteger) || log2n > 20 || r > 32 || p > 16) return false
  const expected = Buffer.from(parts[5]!, 'base64url')
  const actual = await scrypt(password, Buffer.from(parts[4]!, 'base64url'), expected.length, { N: 2 ** log2n, r, p, maxmem: maxmem(log2n, r) })
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/**
 * True for passwords on the short list of the most common ones (case-insensitive), and for a
 * single character repeated: the first guesses of any attacker, refused as dashboard passwords.
 */
export function isCommonPassword(password: string): boolean {
  const p = password.toLowerCase()
  return COMMON_PASSWORDS.has(p) || new Set(p).size === 1
}
