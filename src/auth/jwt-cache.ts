/**
 * The fast path of JWT verification: successful verifications, keyed by the
 * sha256 of the whole token, kept until the token's `exp` (plus the clock tolerance), at most
 * `max` of them, least recently used out first. A viewer's many page requests then cost one
 * signature check. Only what verification proved is stored, never the token itself.
 *
 * The verifier (auth/jwt.ts) decides when an entry may be trusted: after the revocation check,
 * only while the key that verified it is still valid, and never past `expiresAtMs`.
 */
import { TtlMap } from '../tools/ttl-map.js'
import type { TokenFacts } from './keys.js'
import type { Grant } from './grant.js'

export interface CachedVerification {
  readonly grant: Grant
  readonly facts: TokenFacts
  /** id and fingerprint of the key that verified the signature */
  readonly keyId: string
  readonly keyFingerprint: string
  /** (exp + clock tolerance) in ms: past it, a fresh verification would say `expired` */
  readonly expiresAtMs: number
  /** RevocationCheck.version at which this token was last found not revoked. */
  revocationsChecked?: number
}

export class VerificationCache {
  private readonly entries: TtlMap<string, CachedVerification>
  hits = 0
  misses = 0

  constructor(readonly max: number) {
    this.entries = new TtlMap({ maxEntries: max })
  }

  get size(): number {
    return this.entries.size
  }

  get(tokenHash: string, nowMs: number): CachedVerification | undefined {
    const e = this.entries.get(tokenHash, nowMs)
    if (e === undefined) this.misses++
    else this.hits++
    return e
  }

  set(tokenHash: string, e: CachedVerification): void {
    this.entries.set(tokenHash, e, e.expiresAtMs)
  }

  delete(tokenHash: string): void {
    this.entries.delete(tokenHash)
  }

  /** Drops every entry verified by a key that is no longer in `validKeys` (id + fingerprint). */
  retainKeys(valid: ReadonlyArray<{ id: string; fingerprint: string }>): void {
    for (const [hash, e] of this.entries) {
      if (!valid.some((k) => k.id === e.keyId && k.fingerprint === e.keyFingerprint)) this.entries.delete(hash)
    }
  }

  clear(): void {
    this.entries.clear()
  }
}
