/**
 * A fixed key ring for tests and benchmarks: one key from a PEM + algorithm, valid forever, or
 * none. Folio itself verifies with the ring of the `jwt` secrets (secrets/service.ts); both honour
 * the KeyRing contract (src/auth/keys.ts), so verification is the same.
 */
import type { Config } from '../../src/config.js'
import { algorithmProblem, jwkThumbprint, parsePublicKeyPem } from '../../src/auth/jwt-key.js'
import type { KeyRing, VerificationKey } from '../../src/auth/keys.js'

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
