/**
 * The contract between JWT verification (auth/jwt.ts) and the runtime secrets. Verification
 * asks a KeyRing for the keys valid now; the secrets service implements it, backed by the `jwt`
 * secrets (several valid at once; JWT_PUBLIC_KEY is seeded into them at start). Each key carries
 * its algorithm: the token's `alg` must equal it (never taken from the token alone).
 */
import type { KeyObject } from 'node:crypto'
import type { JwtAlgorithm } from './jwt-key.js'

export interface VerificationKey {
  /** Stable public id (the secret's id); a token's `kid` may name it. */
  readonly id: string
  readonly algorithm: JwtAlgorithm
  readonly key: KeyObject
  /** Public fingerprint for listings, audit and /api/jwt/validate; never the key material. */
  readonly fingerprint: string
}

export interface KeyRing {
  /** Keys valid at `now`, current first. Served from memory: no I/O per request. */
  validKeys(now: Date): readonly VerificationKey[]
  /** Called after the set of keys changed (rotation, expiry), e.g. to drop cached verifications. */
  onChange(listener: () => void): () => void
}

/** What revocation needs to know about a verified token (spec §5). */
export interface TokenFacts {
  /** sha256 (hex) of the whole compact token */
  tokenHash: string
  jti?: string
  documentId: string
  userId?: string
  /** seconds since epoch */
  iat?: number
  exp: number
}

/** In-memory revocation check, consulted before the verification cache. */
export interface RevocationCheck {
  isRevoked(t: TokenFacts): boolean
  /**
   * Changes whenever a revocation is added (or the set reloaded). While it is unchanged, a
   * token found not revoked stays not revoked: time only ends revocations, it never starts one.
   * Lets the verifier skip the lookups for a cached token (undefined: check every time).
   */
  readonly version?: number
}

export const noRevocations: RevocationCheck = { isRevoked: () => false }
