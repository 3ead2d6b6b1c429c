/**
 * The server API credential (spec §2): `Authorization: Token token="<token>"`, quotes optional.
 * The presented token is hashed and compared in constant time against the digest of every valid
 * api_auth_token; every digest is compared, so timing tells nothing about which one matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

/** The credential a request presented: which api_auth_token secret matched (for the audit log). */
export interface ApiCredential {
  secretId: number
  fingerprint: string
}

/** One valid api_auth_token: its sha256 digest and public identity. */
export interface ApiTokenEntry extends ApiCredential {
  digest: Buffer
}

export interface ApiTokenVerifier {
  verify(token: string): boolean
  /** The matching secret, or undefined. Same constant-time walk as verify. */
  identify(token: string): ApiCredential | undefined
}

const HEADER_RE = /^Token\s+token=(?:"([^"]*)"|([^\s"]*))\s*$/i
const MAX_TOKEN_LENGTH = 1024

/** Extracts the token from an Authorization header value; undefined when it is not that scheme. */
export function parseApiTokenHeader(header: string | undefined): string | undefined {
  if (header === undefined || header.length > MAX_TOKEN_LENGTH + 32) return undefined
  const m = HEADER_RE.exec(header)
  const token = m?.[1] ?? m?.[2]
  return token === undefined || token === '' ? undefined : token
}

/**
 * `tokens` is read on every call (the secrets service serves it from memory), so a rotation or
 * an expiry applies to the next request without any query.
 */
export function createApiTokenVerifier(tokens: () => readonly ApiTokenEntry[]): ApiTokenVerifier {
  const identify = (token: string): ApiCredential | undefined => {
    const presented = createHash('sha256').update(token).digest()
    let found: ApiTokenEntry | undefined
    for (const t of tokens()) {
      if (t.digest.length === presented.length && timingSafeEqual(t.digest, presented)) found = t
    }
    return found && { secretId: found.secretId, fingerprint: found.fingerprint }
  }
  return { verify: (token) => identify(token) !== undefined, identify }
}
