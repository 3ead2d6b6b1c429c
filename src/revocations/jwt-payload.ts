/**
 * Reads the claims of a compact JWT WITHOUT verifying its signature. This is deliberate and safe
 * for revocation only: the caller already holds the API token (full control of the server API),
 * revoking can only narrow access, and what is read (`jti`, `exp`, `iat`) only decides what to
 * revoke and how long to keep the revocation. A forged token can revoke nothing the API token
 * holder could not revoke anyway. Never use this to grant access; verification is auth/jwt.ts.
 */
export interface UnverifiedClaims {
  jti?: string
  /** seconds since epoch */
  exp?: number
  iat?: number
}

const SEGMENT = /^[A-Za-z0-9_-]+$/
/** spec §2: tokens over 8 KiB are refused anyway. */
export const MAX_TOKEN_LENGTH = 8192
export const MAX_JTI_LENGTH = 1024

/** The claims, or undefined when `token` is not a compact JWS with a JSON object payload. */
export function readUnverifiedClaims(token: string): UnverifiedClaims | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined
  const parts = token.split('.')
  if (parts.length !== 3 || !SEGMENT.test(parts[0]!) || !SEGMENT.test(parts[1]!) || !/^[A-Za-z0-9_-]*$/.test(parts[2]!)) return undefined
  let payload: unknown
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return undefined
  const p = payload as Record<string, unknown>
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
  return {
    // A non-string jti is ill-typed: such a token is refused by verification, and is revoked by itself here.
    jti: typeof p.jti === 'string' && p.jti.length > 0 && p.jti.length <= MAX_JTI_LENGTH ? p.jti : undefined,
    exp: num(p.exp),
    iat: num(p.iat),
  }
}
