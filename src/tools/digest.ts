/**
 * The one SHA-256 digest of Folio (hex, lowercase). Token hashes are compared across rooms:
 * a revocation stores sha256Hex(token) and JWT verification looks it up by sha256Hex(token);
 * the API token is stored as its digest and compared by it. Two spellings of this function
 * (another encoding, another case) would make revoking a token silently stop matching, so every
 * room imports this one and test/tools/digest.test.ts pins its output.
 *
 * Strings are hashed as UTF-8.
 */
import { createHash } from 'node:crypto'

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}
