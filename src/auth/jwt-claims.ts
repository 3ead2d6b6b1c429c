/**
 * The claim checks of a client JWT (spec §2), run only after the signature verified. A linear
 * checklist in the spec's order (jose's validateClaimsSet habit): presence and type of each
 * claim, then audience and issuer, then time. Each refusal names the check and, where one claim
 * is at fault, the claim; never its value.
 */
import { isStorableText } from '../db/text.js'
import { DOCUMENT_ID_RE } from '../documents/ids.js'
import { isPermission, type Grant, type Permission } from './grant.js'

export interface JwtPolicy {
  /** JWT_MAX_LIFETIME: a token whose `exp` lies further ahead is refused (seconds) */
  readonly maxLifetimeSeconds: number
  /** JWT_CLOCK_TOLERANCE: leeway for `exp`, `nbf` and `iat` (seconds) */
  readonly clockToleranceSeconds: number
  /** JWT_AUDIENCE: when set, `aud` is required and must contain it */
  readonly audience?: string
  /** JWT_ISSUER: when set, `iss` is required and must equal it */
  readonly issuer?: string
}

/** Every reason a token can be refused for; documented in docs/jwt.md and docs/errors.md. */
export const REFUSAL_REASONS = [
  'missing_token',
  'too_large',
  'malformed',
  'algorithm_not_allowed',
  'header_key_not_allowed',
  'unsupported_crit',
  'no_keys',
  'bad_signature',
  'missing_claim',
  'invalid_claim',
  'unknown_permission',
  'audience_mismatch',
  'issuer_mismatch',
  'expired',
  'not_yet_valid',
  'issued_in_future',
  'lifetime_too_long',
  'revoked',
] as const
export type RefusalReason = (typeof REFUSAL_REASONS)[number]

export interface Refusal {
  readonly reason: RefusalReason
  readonly claim?: string
}

export interface CheckedClaims {
  readonly grant: Grant
  readonly exp: number
  readonly iat?: number
  readonly jti?: string
}

/** Layer names follow spec §3: at most 256 characters, no `*`. */
const MAX_NAME = 256

const isNumericDate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0
// Storable too: a claim becomes a layer name, a user id or a revocation key in PostgreSQL.
const isShortString = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_NAME && isStorableText(v)

export function checkClaims(p: Record<string, unknown>, policy: JwtPolicy, nowSec: number): CheckedClaims | Refusal {
  const has = (name: string) => Object.hasOwn(p, name) && p[name] !== undefined && p[name] !== null
  const missing = (claim: string): Refusal => ({ reason: 'missing_claim', claim })
  const invalid = (claim: string): Refusal => ({ reason: 'invalid_claim', claim })

  // 1. document_id: the one document the token opens.
  if (!has('document_id')) return missing('document_id')
  const documentId = p.document_id
  if (typeof documentId !== 'string' || !DOCUMENT_ID_RE.test(documentId)) return invalid('document_id')

  // 2. permissions: an array of known values only; one unknown value refuses the token, so
  //    a typo never silently grants less (or, in a later version, more) than meant.
  if (!has('permissions')) return missing('permissions')
  const raw = p.permissions
  if (!Array.isArray(raw) || raw.some((x) => typeof x !== 'string')) return invalid('permissions')
  if (!raw.every(isPermission)) return { reason: 'unknown_permission', claim: 'permissions' }
  const permissions = [...new Set(raw as Permission[])]

  // 3. exp: required, a NumericDate (RFC 7519 §2).
  if (!has('exp')) return missing('exp')
  if (!isNumericDate(p.exp)) return invalid('exp')
  const exp = p.exp

  // 4. optional claims, honoured when present and then well-typed.
  if (has('nbf') && !isNumericDate(p.nbf)) return invalid('nbf')
  if (has('iat') && !isNumericDate(p.iat)) return invalid('iat')
  if (has('jti') && !(isShortString(p.jti) && p.jti !== '')) return invalid('jti')
  if (has('user_id') && !(isShortString(p.user_id) && p.user_id !== '')) return invalid('user_id')
  if (has('layer') && !(isShortString(p.layer) && !p.layer.includes('*'))) return invalid('layer')
  // Document Engine's `password` claim opens an encrypted PDF; it stays in memory only (render/password.ts).
  if (has('password') && !(typeof p.password === 'string' && p.password.length <= 1024 && !p.password.includes('\0'))) return invalid('password')

  // 5. audience and issuer, only when configured (as jose does: Folio has no identity otherwise).
  if (policy.issuer !== undefined) {
    if (!has('iss')) return missing('iss')
    if (p.iss !== policy.issuer) return { reason: 'issuer_mismatch', claim: 'iss' }
  }
  if (policy.audience !== undefined) {
    if (!has('aud')) return missing('aud')
    const aud = p.aud
    const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined
    if (list === undefined || list.some((a) => typeof a !== 'string')) return invalid('aud')
    if (!list.includes(policy.audience)) return { reason: 'audience_mismatch', claim: 'aud' }
  }

  // 6. time, with JWT_CLOCK_TOLERANCE for the issuer's clock being off from ours.
  const tol = policy.clockToleranceSeconds
  if (exp <= nowSec - tol) return { reason: 'expired', claim: 'exp' }
  if (has('nbf') && (p.nbf as number) > nowSec + tol) return { reason: 'not_yet_valid', claim: 'nbf' }
  // A future `iat` would also slip past revocations by `issuedBefore` (spec §5).
  if (has('iat') && (p.iat as number) > nowSec + tol) return { reason: 'issued_in_future', claim: 'iat' }
  if (exp > nowSec + policy.maxLifetimeSeconds + tol) return { reason: 'lifetime_too_long', claim: 'exp' }

  return {
    grant: Object.freeze({
      documentId,
      permissions: Object.freeze(permissions),
      layer: has('layer') ? (p.layer as string) : '',
      ...(has('user_id') ? { userId: p.user_id as string } : {}),
      ...(has('password') && p.password !== '' ? { password: p.password as string } : {}),
    }),
    exp,
    iat: has('iat') ? (p.iat as number) : undefined,
    jti: has('jti') ? (p.jti as string) : undefined,
  }
}

export function isRefusal(x: CheckedClaims | Refusal): x is Refusal {
  return 'reason' in x
}
