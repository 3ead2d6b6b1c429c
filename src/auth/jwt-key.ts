/**
 * The one JWT-key module: the algorithm allow-list (spec §1 `JWT_ALGORITHM`), reading PEM public
 * keys, which key fits which algorithm (spec §4 "an algorithm that does not fit the key is
 * refused"), the algorithm a key implies, and the RFC 7638 thumbprint that names a key.
 *
 * config.ts (JWT_PUBLIC_KEY at start), the secrets room (`jwt` secrets at runtime) and JWT
 * verification all use this module, so there is one allow-list and one set of fitting rules:
 * two lists that drift apart would let a key verify an algorithm one side refuses.
 *
 * The algorithm is always decided here from configuration and the key's own type, never from a
 * token (HOUSE-STYLE §4, habit 1): an RSA key verifies only RS256..PS512, a P-256 key only ES256,
 * and so on, so a token cannot talk the verifier into another family (key confusion,
 * CVE-2015-9235; the RS256/HS256 attack needs exactly that).
 *
 * This module imports nothing from Folio but errors.ts, so config.ts may import it without a circle.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import { FolioError } from '../errors.js'

export const JWT_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA',
] as const
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number]

/** RFC 7518 §3.3 (and NIST SP 800-57) ask for 2048 bits at least; jose refuses smaller RSA keys too. */
export const MIN_RSA_BITS = 2048

type Family = 'RSA' | 'P-256' | 'P-384' | 'P-521' | 'Ed25519'

const CURVE_OF: Record<string, 'P-256' | 'P-384' | 'P-521'> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
}

const RSA_ALGORITHMS: readonly JwtAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']

/** The algorithms each supported key family verifies; a family not listed verifies none. */
const ALGORITHMS_OF: Record<Family, readonly JwtAlgorithm[]> = {
  RSA: RSA_ALGORITHMS,
  'P-256': ['ES256'],
  'P-384': ['ES384'],
  'P-521': ['ES512'],
  Ed25519: ['EdDSA'],
}

export function isJwtAlgorithm(s: string): s is JwtAlgorithm {
  return (JWT_ALGORITHMS as readonly string[]).includes(s)
}

/** The key family in words an operator recognises: "RSA", "P-256", "Ed25519"... */
export function keyFamily(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'RSA'
  if (key.asymmetricKeyType === 'ec') return CURVE_OF[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? `EC (${key.asymmetricKeyDetails?.namedCurve ?? 'unknown curve'})`
  if (key.asymmetricKeyType === 'ed25519') return 'Ed25519'
  return key.asymmetricKeyType ?? key.type
}

/** The algorithms `key` can verify: empty for families JWS does not define for the spec's list. */
export function algorithmsFor(key: KeyObject): readonly JwtAlgorithm[] {
  return ALGORITHMS_OF[keyFamily(key) as Family] ?? []
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
  const want = (Object.keys(ALGORITHMS_OF) as Family[]).find((f) => f !== 'RSA' && ALGORITHMS_OF[f].includes(algorithm))!
  return family === want ? undefined : `${algorithm} needs a ${want} key; this is ${article(family)} key`
}

/**
 * The algorithm a key implies when none is given (spec §4): RSA → `rsaDefault` when that is an
 * RSA algorithm, else RS256; P-256 → ES256; P-384 → ES384; P-521 → ES512; Ed25519 → EdDSA.
 */
export function deriveAlgorithm(key: KeyObject, rsaDefault: JwtAlgorithm = 'RS256'): JwtAlgorithm | undefined {
  const family = keyFamily(key)
  if (family === 'RSA') return RSA_ALGORITHMS.includes(rsaDefault) ? rsaDefault : 'RS256'
  return ALGORITHMS_OF[family as Family]?.[0]
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

// ---------------------------------------------------------------------------------------------
// `jwt` secrets (spec §4): a PEM public key plus the one algorithm it verifies. The algorithm is
// the one given, else derived from the key (deriveAlgorithm). Refusals are FolioErrors whose
// messages never echo the input.

export interface ParsedJwtKey {
  key: KeyObject
  /** Normalised SPKI PEM (PKCS#1 input is re-exported), what the store keeps. */
  pem: string
  algorithm: JwtAlgorithm
  /** RFC 7638 JWK thumbprint (SHA-256, base64url): public, stable, usable as a `kid`. */
  fingerprint: string
}

const PEM_RE = /^-----BEGIN (RSA )?PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END (RSA )?PUBLIC KEY-----$/

function refuse(reason: string, message: string): never {
  throw new FolioError('invalid_jwt_key', { reason }, { message })
}

/**
 * Parses and checks a `jwt` secret. `algorithm`: the one asked for (body or env), if any;
 * `rsaDefault`: JWT_ALGORITHM. Throws FolioError `invalid_jwt_key`, `algorithm_not_allowed` or
 * `algorithm_key_mismatch`; messages never echo the input.
 */
export function parseJwtPublicKey(input: string, opts: { algorithm?: string; rsaDefault: JwtAlgorithm }): ParsedJwtKey {
  // A PEM pasted into JSON or an env variable often arrives with literal "\n" sequences.
  const text = input.replace(/\\n/g, '\n').trim()
  if (/PRIVATE KEY/.test(text)) {
    // Never store or echo a private key: only the customer's backend may hold it.
    refuse('private_key', 'This is a private key. Folio needs only the public key; keep the private key on your backend')
  }
  if (!PEM_RE.test(text)) refuse('not_pem_public_key', 'The secret is not a PEM public key (-----BEGIN PUBLIC KEY-----)')
  let key: KeyObject
  try {
    key = createPublicKey({ key: text, format: 'pem' })
  } catch {
    return refuse('not_pem_public_key', 'The PEM public key could not be read')
  }
  const family = keyFamily(key)
  const allowed = algorithmsFor(key)
  if (family === 'RSA') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < MIN_RSA_BITS) refuse('rsa_key_too_short', `The RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are needed`)
  } else if (allowed.length === 0) {
    if (key.asymmetricKeyType === 'ec') refuse('unsupported_key_type', 'The EC key is not on P-256, P-384 or P-521')
    refuse('unsupported_key_type', 'The key must be RSA, EC (P-256, P-384, P-521) or Ed25519')
  }
  let algorithm = deriveAlgorithm(key, opts.rsaDefault)!
  if (opts.algorithm !== undefined) {
    if (!isJwtAlgorithm(opts.algorithm)) {
      throw new FolioError('algorithm_not_allowed', { allowed: JWT_ALGORITHMS }, {
        message: `The algorithm is not allowed; use one of ${JWT_ALGORITHMS.join(' ')}`,
      })
    }
    algorithm = opts.algorithm
    if (!allowed.includes(algorithm)) {
      throw new FolioError('algorithm_key_mismatch', { algorithm, keyType: family, allowed }, {
        message: `${algorithm} does not fit a ${family} key; use ${allowed.join(' or ')}`,
      })
    }
  }
  const pem = key.export({ type: 'spki', format: 'pem' }).toString()
  return { key, pem, algorithm, fingerprint: jwkThumbprint(key) }
}
