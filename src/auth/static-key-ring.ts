/**
 * The key ring built from JWT_PUBLIC_KEY + JWT_ALGORITHM (spec §1): one key, valid for the
 * life of the process, or none (JWT access off). Issue #4 replaces it in app.ts with the ring
 * backed by the `jwt` secrets (several valid keys, rotation at runtime); both honour the same
 * KeyRing contract (auth/keys.ts), so verification does not change.
 */
import type { Config } from '../config.js'
import { algorithmProblem, jwkThumbprint, parsePublicKeyPem } from './jwt-key.js'
import type { KeyRing, VerificationKey } from './keys.js'

/**
 * A VerificationKey from a PEM and its algorithm. Its id is `id` when given (a secret's id),
 * else the key's RFC 7638 thumbprint; its fingerprint is always the thumbprint.
 * Throws when the key cannot verify the algorithm (never echoing the PEM).
 */
export function verificationKeyFromPem(pem: string, algorithm: Config['jwt']['algorithm'], id?: string): VerificationKey {
  const key = parsePublicKeyPem(pem)
  const problem = algorithmProblem(key, algorithm)
  if (problem) throw new Error(`the key does not fit ${algorithm}: ${problem}`)
  const thumbprint = jwkThumbprint(key)
  return Object.freeze({ id: id ?? thumbprint, algorithm, key, fingerprint: thumbprint })
}

export function createStaticKeyRing(jwt: Config['jwt']): KeyRing {
  // config.ts has already checked the key against the algorithm; this cannot throw for a loaded Config.
  const keys: readonly VerificationKey[] = jwt.publicKey === undefined ? [] : [verificationKeyFromPem(jwt.publicKey, jwt.algorithm)]
  return {
    validKeys: () => keys,
    onChange: () => () => {},
  }
}
