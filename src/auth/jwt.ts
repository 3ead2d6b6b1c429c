/**
 * Client JWT verification (spec §2). One public face:
 *
 *   const jwt = createJwtVerifier({ keyRing, revocations, policy, now })
 *   await jwt.verify(token)   // → Grant, or throws FolioError('invalid_token', { reason, claim? })
 *   await jwt.explain(token)  // → why it would be accepted or refused (POST /api/jwt/validate)
 *
 * Checks run in a fixed order against server-side allow-lists (HOUSE-STYLE habit 1):
 * size → syntax → algorithm (from the key ring, never from the token alone) → header keys and
 * `crit` → signature (jose, with the key's one algorithm) → claims → revocation → grant.
 * A successful verification is cached by the token's sha256 until its `exp`; the revocation
 * check and the key's continued validity are consulted before a cached result is trusted.
 */
import { compactVerify, errors as joseErrors } from 'jose'
import { FolioError } from '../errors.js'
import { sha256Hex } from '../tools/digest.js'
import type { Grant } from './grant.js'
import { checkClaims, isRefusal, type JwtPolicy, type Refusal, type RefusalReason } from './jwt-claims.js'
import { VerificationCache } from './jwt-cache.js'
import { isJwtAlgorithm, type JwtAlgorithm } from './jwt-key.js'
import { noRevocations, type KeyRing, type RevocationCheck, type TokenFacts, type VerificationKey } from './keys.js'

export type { JwtPolicy, RefusalReason } from './jwt-claims.js'

/** spec §2: tokens over 8 KiB are refused before any parsing. */
export const MAX_TOKEN_BYTES = 8 * 1024
export const DEFAULT_CACHE_SIZE = 10_000

/** Header parameters that carry or point at a key (RFC 7515 §4.1.2-4.1.6): never used, and refused. */
const HEADER_KEYS = ['jwk', 'jku', 'x5u', 'x5c'] as const
const B64URL = /^[A-Za-z0-9_-]*$/

export interface KeyAttempt {
  id: string
  algorithm: JwtAlgorithm
  fingerprint: string
  result: 'verified' | 'bad_signature'
}

export interface Explanation {
  valid: boolean
  reason: RefusalReason | null
  claim?: string
  /** The protected header's public fields, when it could be read. */
  header?: { alg?: unknown; kid?: unknown; typ?: unknown }
  /** The decoded claims, when the payload could be read (verified only when `valid`). */
  claims?: Record<string, unknown>
  /** Keys whose algorithm matched the token's `alg`, by public id, and what each said. */
  keys_tried: KeyAttempt[]
  grant?: Grant
}

export interface JwtVerifier {
  verify(token: string): Promise<Grant>
  /**
   * The fast path alone, synchronously: the grant of a token verified before and still valid
   * (cache hit, not revoked, its key still valid), or undefined when `verify` must run.
   * Throws `invalid_token` (revoked) like `verify`.
   */
  verifyCached(token: string): Grant | undefined
  explain(token: string): Promise<Explanation>
  /** Observable state of the fast path (for tests and metrics). */
  cacheStats(): { size: number; hits: number; misses: number }
}

export interface JwtVerifierOptions {
  keyRing: KeyRing
  revocations?: RevocationCheck
  policy: JwtPolicy
  now?: () => Date
  /** Maximum cached verifications (LRU); 0 turns the cache off. */
  cacheSize?: number
}

export function refuse(reason: RefusalReason, claim?: string): FolioError {
  return new FolioError('invalid_token', claim === undefined ? { reason } : { reason, claim })
}

export function createJwtVerifier(opts: JwtVerifierOptions): JwtVerifier {
  const now = opts.now ?? (() => new Date())
  const revocations = opts.revocations ?? noRevocations
  const cache = new VerificationCache(opts.cacheSize ?? DEFAULT_CACHE_SIZE)
  // A key that stops being valid takes its cached verifications with it.
  opts.keyRing.onChange(() => cache.retainKeys(opts.keyRing.validKeys(now())))

  function fromCache(token: string, tokenHash: string, at: Date): Grant | undefined {
    const hit = cache.get(tokenHash, at.getTime())
    if (hit === undefined) return undefined
    // Revocation first: a cached verification never outlives a revocation (spec §5). The lookups
    // run again only after the set gained a revocation since this token's last check.
    const version = revocations.version
    if (version === undefined || hit.revocationsChecked !== version) {
      if (revocations.isRevoked(hit.facts)) throw refuse('revoked')
      hit.revocationsChecked = version
    }
    if (opts.keyRing.validKeys(at).some((k) => k.id === hit.keyId && k.fingerprint === hit.keyFingerprint)) return hit.grant
    cache.delete(tokenHash)
    return undefined
  }

  function verifyCached(token: string): Grant | undefined {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_BYTES) return undefined // verify refuses it
    return fromCache(token, sha256Hex(token), now())
  }

  async function verify(token: string): Promise<Grant> {
    if (typeof token !== 'string') throw refuse('malformed')
    if (token.length > MAX_TOKEN_BYTES) throw refuse('too_large') // before hashing or parsing
    const at = now()
    const tokenHash = sha256Hex(token)
    const hit = fromCache(token, tokenHash, at)
    if (hit !== undefined) return hit
    const r = await check(token, tokenHash, at, false)
    if ('reason' in r) throw refuse(r.reason, r.claim)
    return r.grant
  }

  async function explain(token: string): Promise<Explanation> {
    const tokenHash = typeof token === 'string' && token.length <= MAX_TOKEN_BYTES ? sha256Hex(token) : ''
    const r = await check(token, tokenHash, now(), true)
    if ('reason' in r) {
      return { valid: false, reason: r.reason, ...(r.claim ? { claim: r.claim } : {}), header: r.header, claims: r.claims, keys_tried: r.keysTried }
    }
    return { valid: true, reason: null, header: r.header, claims: r.claims, keys_tried: r.keysTried, grant: r.grant }
  }

  type Seen = { header?: Explanation['header']; claims?: Record<string, unknown>; keysTried: KeyAttempt[] }

  /** The cold path: every check, in order. `dryRun` (explain) neither reads nor fills the cache. */
  async function check(token: string, tokenHash: string, at: Date, dryRun: boolean): Promise<(Refusal & Seen) | ({ grant: Grant } & Seen)> {
    const seen: Seen = { keysTried: [] }
    const no = (reason: RefusalReason, claim?: string) => ({ reason, claim, ...seen })
    // For explain: what the token says, whether or not it verifies (never key material).
    if (dryRun && typeof token === 'string' && token.length <= MAX_TOKEN_BYTES) {
      const [h, p] = token.split('.')
      const header = h === undefined ? undefined : decodeJsonPart(h)
      if (header) seen.header = { alg: header.alg, kid: header.kid, typ: header.typ }
      if (p !== undefined) seen.claims = decodeJsonPart(p)
    }

    // 1-8: size, syntax, algorithm, header keys, crit, kid, signature.
    const jws = await verifyJws(token, opts.keyRing.validKeys(at), seen.keysTried)
    if ('reason' in jws) return no(jws.reason)
    const payload = decodeJsonPart(jws.payloadPart)
    if (payload === undefined) return no('malformed') // a JWT's payload is a JSON object (RFC 7519 §7.2)

    // 9. Claims.
    const claims = checkClaims(payload, opts.policy, at.getTime() / 1000)
    if (isRefusal(claims)) return no(claims.reason, claims.claim)

    // 10. Revocation: the revocations room's in-memory index (auth/keys.ts RevocationCheck).
    const facts: TokenFacts = {
      tokenHash,
      documentId: claims.grant.documentId,
      exp: claims.exp,
      ...(claims.jti !== undefined ? { jti: claims.jti } : {}),
      ...(claims.grant.userId !== undefined ? { userId: claims.grant.userId } : {}),
      ...(claims.iat !== undefined ? { iat: claims.iat } : {}),
    }
    if (revocations.isRevoked(facts)) return no('revoked')

    if (!dryRun) {
      cache.set(tokenHash, {
        grant: claims.grant,
        facts,
        keyId: jws.key.id,
        keyFingerprint: jws.key.fingerprint,
        expiresAtMs: (claims.exp + opts.policy.clockToleranceSeconds) * 1000,
      })
    }
    return { grant: claims.grant, ...seen }
  }

  return {
    verify,
    verifyCached,
    explain,
    cacheStats: () => ({ size: cache.size, hits: cache.hits, misses: cache.misses }),
  }
}

/**
 * The JWS part of verification (RFC 7515), steps 1-8 of the module comment: size, compact
 * syntax, algorithm, header keys, `crit`, `kid`, signature. Returns the key that verified and the
 * payload part (not yet parsed), or the refusal. Exported for the Wycheproof JWS vectors, whose
 * payloads are not JWT claims; `trace` collects each key tried.
 */
export async function verifyJws(
  token: string,
  validKeys: readonly VerificationKey[],
  trace: KeyAttempt[] = [],
): Promise<{ key: VerificationKey; payloadPart: string } | Refusal> {
  // 1. Size, before any parsing.
  if (typeof token !== 'string' || token.length === 0) return { reason: 'malformed' }
  if (token.length > MAX_TOKEN_BYTES) return { reason: 'too_large' }

  // 2. Compact serialization only: three parts (not two, not JSON; RFC 7515 §7.1).
  const parts = token.split('.')
  if (parts.length !== 3) return { reason: 'malformed' }
  const [h, p, s] = parts as [string, string, string]
  const header = decodeJsonPart(h)
  if (header === undefined) return { reason: 'malformed' }

  // 3. Algorithm: only what a valid key of ours is configured for. `none`, `HS*` and anything
  //    else never match, because no key carries them (config.ts refuses them at start).
  const alg = header.alg
  if (typeof alg !== 'string' || !isJwtAlgorithm(alg)) return { reason: 'algorithm_not_allowed' }
  if (validKeys.length === 0) return { reason: 'no_keys' }
  let candidates = validKeys.filter((k) => k.algorithm === alg)
  if (candidates.length === 0) return { reason: 'algorithm_not_allowed' }

  // 4. Keys named by the token are never used (embedded jwk, jku/x5u URLs, x5c chains).
  if (HEADER_KEYS.some((name) => Object.hasOwn(header, name))) return { reason: 'header_key_not_allowed' }
  // 5. No JWS extension is understood (b64=false has no place in a JWT, RFC 7797 §7).
  if (Object.hasOwn(header, 'crit')) return { reason: 'unsupported_crit' }

  // 6. The rest of the syntax: a payload and a signature in canonical base64url, so that one
  //    token has exactly one spelling (its hash keys the cache and revocation by token).
  if (p === '' || s === '' || !isCanonicalB64url(p) || !isCanonicalB64url(s)) return { reason: 'malformed' }

  // 7. `kid` only chooses among our own valid keys (by id or RFC 7638 thumbprint, which is the
  //    key's fingerprint): never a path, never fetched. A token that names a key is checked
  //    against that key only, and one that names none of ours is refused without a signature
  //    check: otherwise one forged token costs a verification per valid key (CPU exhaustion).
  //    Only a token without `kid` is tried against every key of its algorithm.
  if (header.kid !== undefined) {
    if (typeof header.kid !== 'string') return { reason: 'malformed' }
    candidates = candidates.filter((k) => k.id === header.kid || k.fingerprint === header.kid)
    if (candidates.length === 0) return { reason: 'bad_signature' }
  }

  // 8. Signature, by jose, with exactly the key's algorithm.
  for (const k of candidates) {
    const ok = await signatureVerifies(token, k)
    trace.push({ id: k.id, algorithm: k.algorithm, fingerprint: k.fingerprint, result: ok ? 'verified' : 'bad_signature' })
    if (ok) return { key: k, payloadPart: p }
  }
  return { reason: 'bad_signature' }
}

/**
 * jose's compact verification with the one algorithm the key is configured for. A failure of
 * any kind with this key is a non-match (the caller reports `bad_signature` after all keys);
 * jose re-checks `crit`, the algorithm allow-list and that the key fits the algorithm.
 */
async function signatureVerifies(token: string, k: VerificationKey): Promise<boolean> {
  try {
    await compactVerify(token, k.key, { algorithms: [k.algorithm] })
    return true
  } catch (e) {
    if (e instanceof joseErrors.JOSEError || e instanceof TypeError) return false
    throw e
  }
}

function isCanonicalB64url(part: string): boolean {
  if (!B64URL.test(part) || part.length % 4 === 1) return false
  return Buffer.from(part, 'base64url').toString('base64url') === part
}

/** A base64url JSON object, strictly: canonical encoding, valid UTF-8, an object at the top. */
function decodeJsonPart(part: string): Record<string, unknown> | undefined {
  if (part === '' || !isCanonicalB64url(part)) return undefined
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(part, 'base64url'))
  } catch {
    return undefined
  }
  try {
    const v: unknown = JSON.parse(text)
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
