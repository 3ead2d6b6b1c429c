/**
 * The server API credential (spec §2): `Authorization: Token token="<token>"`, quotes optional.
 * The presented token is hashed and compared in constant time against the digest of every valid
 * api_auth_token; every digest is compared, so timing tells nothing about which one matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

export interface ApiTokenVerifier {
  verify(token: string): boolean
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

export function createApiTokenVerifier(digests: () => readonly Buffer[]): ApiTokenVerifier {
  return {
    verify(token) {
      const presented = createHash('sha256').update(token).digest()
      let ok = false
      for (const d of digests()) {
        if (d.length === presented.length && timingSafeEqual(d, presented)) ok = true
      }
      return ok
    },
  }
}
