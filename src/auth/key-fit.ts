/**
 * Which public keys may verify which JWT algorithm (spec §1 `JWT_ALGORITHM`, §4 "an algorithm
 * that does not fit the key is refused"), and the RFC 7638 thumbprint that names a key.
 *
 * The algorithm is always decided here from configuration and the key's own type, never from a
 * token (HOUSE-STYLE §4, habit 1): an RSA key verifies only RS256..PS512, a P-256 key only ES256, and
 * so on, so a token cannot talk the verifier into another family (key confusion, CVE-2015-9235).
 * Shared with the secrets service (issue #4), which applies the same rules to added keys.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import type { JwtAlgorithm } from '../config.js'

/** RFC 7518 §3.3 asks for 2048 bits at least; jose refuses smaller RSA keys too. */
export const MIN_RSA_BITS = 2048

const CURVE_OF: Record<string, 'P-256' | 'P-384' | 'P-521'> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
}

const EC_ALGORITHM: Record<'P-256' | 'P-384' | 'P-521', JwtAlgorithm> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }

/** The key family in words an operator recognises: "RSA", "P-256", "Ed25519"... */
export function keyFamily(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'RSA'
  if (key.asymmetricKeyType === 'ec') return CURVE_OF[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? `EC (${key.asymmetricKeyDetails?.namedCurve ?? 'unknown curve'})`
  if (key.asymmetricKeyType === 'ed25519') return 'Ed25519'
  return key.asymmetricKeyType ?? key.type
}

/**
 * Why `key` cannot verify `algorithm`, or undefined when it can. Only public keys of the
 * families JWS defines for the spec's algorithms qualify (rsa-pss-typed keys, Ed448, secret
 * keys and private keys do not).
 */
export function algorithmProblem(key: KeyObject, algorithm: JwtAlgorithm): string | undefined {
  if (key.type !== 'public') return 'is not a public key'
  const family = keyFamily(key)
  if (algorithm.startsWith('RS') || algorithm.startsWith('PS')) {
    if (family !== 'RSA') return `${algorithm} needs an RSA key; this is ${article(family)} key`
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < MIN_RSA_BITS) return `RSA keys need at least ${MIN_RSA_BITS} bits; this one has ${bits}`
    return undefined
  }
  if (algorithm === 'EdDSA') return family === 'Ed25519' ? undefined : `EdDSA needs an Ed25519 key; this is ${article(family)} key`
  const want = (Object.keys(EC_ALGORITHM) as Array<keyof typeof EC_ALGORITHM>).find((c) => EC_ALGORITHM[c] === algorithm)!
  return family === want ? undefined : `${algorithm} needs a ${want} key; this is ${article(family)} key`
}

/**
 * The algorithm a key implies when none is given (spec §4): RSA → `rsaDefault` when that is an
 * RSA algorithm, else RS256; P-256 → ES256; P-384 → ES384; P-521 → ES512; Ed25519 → EdDSA.
 */
export function deriveAlgorithm(key: KeyObject, rsaDefault: JwtAlgorithm = 'RS256'): JwtAlgorithm | undefined {
  const family = keyFamily(key)
  if (family === 'RSA') return /^(RS|PS)/.test(rsaDefault) ? rsaDefault : 'RS256'
  if (family === 'Ed25519') return 'EdDSA'
  return EC_ALGORITHM[family as keyof typeof EC_ALGORITHM]
}

/** Parses a PEM public key (SPKI, or PKCS#1 for RSA); throws a short message, never the PEM. */
export function parsePublicKeyPem(pem: string): KeyObject {
  if (!/-----BEGIN (RSA )?PUBLIC KEY-----/.test(pem)) throw new Error('is not a PEM public key (expected -----BEGIN PUBLIC KEY-----)')
  try {
    return createPublicKey({ key: pem, format: 'pem' })
  } catch {
    throw new Error('could not be read as a PEM public key')
  }
}

const thumbprints = new WeakMap<KeyObject, string>()

/**
 * RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key: a public, stable name a
 * backend can compute on its side and send as `kid` (see docs/jwt.md). Never key material.
 */
export function jwkThumbprint(key: KeyObject): string {
  let t = thumbprints.get(key)
  if (t !== undefined) return t
  const jwk = key.export({ format: 'jwk' }) as Record<string, string>
  // Required members only, in lexicographic order, no whitespace (RFC 7638 §3.2-3.3).
  const members: Record<string, string[]> = { RSA: ['e', 'kty', 'n'], EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'] }
  const names = members[jwk.kty ?? '']
  if (!names) throw new Error(`no thumbprint for key type ${jwk.kty}`)
  const canonical = `{${names.map((n) => `${JSON.stringify(n)}:${JSON.stringify(jwk[n])}`).join(',')}}`
  t = createHash('sha256').update(canonical).digest('base64url')
  thumbprints.set(key, t)
  return t
}

function article(family: string): string {
  return /^[AEIOR]/.test(family) ? `an ${family}` : `a ${family}`
}
