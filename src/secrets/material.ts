/**
 * Turns a secret as given (API body or environment) into what is stored, checking the rules of
 * spec §4 on the way. What is stored is never more than verification needs:
 *  - jwt: the normalised PEM public key and its algorithm (auth/jwt-key.ts);
 *  - dashboard_password: a scrypt hash (password.ts);
 *  - api_auth_token: the SHA-256 digest (hex). Tokens are long and random, so a slow hash would
 *    add nothing but cost on every server API request (spec §4);
 *  - secret_key_base: the value itself, since Folio signs with it (signer.ts).
 * Fingerprints are public and never allow recovering a secret: for a password it is derived from
 * the salted hash, not from the password, so it cannot be used to test guesses.
 */
import type { JwtAlgorithm } from '../auth/jwt-key.js'
import { FolioError } from '../errors.js'
import { parseJwtPublicKey } from '../auth/jwt-key.js'
import { sha256Hex } from '../tools/digest.js'
import { hashPassword, isCommonPassword } from './password.js'
import type { NewSecret, SecretType } from './store.js'

export const MIN_LENGTH: Record<Exclude<SecretType, 'jwt'>, number> = {
  dashboard_password: 8,
  secret_key_base: 64,
  api_auth_token: 32,
}

/** Public, non-reversible id of a long random secret, for listings and the audit log. */
export function fingerprintOf(secret: string): string {
  return sha256Hex(`folio-fingerprint:${secret}`).slice(0, 16)
}

function checkLength(type: Exclude<SecretType, 'jwt'>, secret: string): void {
  const minLength = MIN_LENGTH[type]
  if (secret.length < minLength) {
    throw new FolioError('secret_too_short', { minLength }, { message: `A ${type} needs at least ${minLength} characters` })
  }
}

// The token travels in `Authorization: Token token="…"`: visible ASCII without the quote.
const API_TOKEN_RE = /^[\x21\x23-\x7e]+$/

export async function prepareSecret(
  type: SecretType,
  secret: string,
  opts: { algorithm?: string; rsaDefault: JwtAlgorithm },
): Promise<NewSecret> {
  if (opts.algorithm !== undefined && type !== 'jwt') {
    throw new FolioError('bad_request', { field: 'body/algorithm' }, { message: 'algorithm applies to jwt secrets only' })
  }
  switch (type) {
    case 'jwt': {
      const k = parseJwtPublicKey(secret, { algorithm: opts.algorithm, rsaDefault: opts.rsaDefault })
      return { type, material: k.pem, algorithm: k.algorithm, fingerprint: k.fingerprint }
    }
    case 'dashboard_password': {
      checkLength(type, secret)
      if (isCommonPassword(secret)) {
        throw new FolioError('common_password', {}, { message: 'This password is on the list of the most common passwords; choose another' })
      }
      const material = await hashPassword(secret)
      return { type, material, algorithm: null, fingerprint: sha256Hex(material).slice(0, 16) }
    }
    case 'secret_key_base':
      checkLength(type, secret)
      return { type, material: secret, algorithm: null, fingerprint: fingerprintOf(secret) }
    case 'api_auth_token':
      checkLength(type, secret)
      if (!API_TOKEN_RE.test(secret)) {
        throw new FolioError('secret_invalid_characters', {}, {
          message: 'An api_auth_token may contain only visible ASCII characters other than the double quote',
        })
      }
      return { type, material: sha256Hex(secret), algorithm: null, fingerprint: fingerprintOf(secret) }
  }
}
