/**
 * `jwt` secrets: a PEM public key plus the one algorithm it verifies (spec §4). The algorithm is
 * the one given, else derived from the key: RSA → JWT_ALGORITHM when that is an RSA algorithm,
 * else RS256; P-256 → ES256, P-384 → ES384, P-521 → ES512; Ed25519 → EdDSA. An algorithm that
 * does not fit the key is refused, so a key can never be used with another family's algorithm
 * (the RS256/HS256 confusion attack needs exactly that; HOUSE-STYLE §10.1).
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import { JWT_ALGORITHMS, type JwtAlgorithm } from '../config.js'
import { FolioError } from '../errors.js'

export interface ParsedJwtKey {
  key: KeyObject
  /** Normalised SPKI PEM (PKCS#1 input is re-exported), what the store keeps. */
  pem: string
  algorithm: JwtAlgorithm
  /** RFC 7638 JWK thumbprint (SHA-256, base64url): public, stable, usable as a `kid`. */
  fingerprint: string
}

const RSA_ALGORITHMS: readonly JwtAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
const CURVES: Record<string, JwtAlgorithm> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }
// NIST SP 800-57 / RFC 7518 §3.3: RSA keys for JWS are at least 2048 bits.
const MIN_RSA_BITS = 2048
const PEM_RE = /^-----BEGIN (RSA )?PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END (RSA )?PUBLIC KEY-----$/

function refuse(reason: string, message: string): never {
  throw new FolioError('invalid_jwt_key', { reason }, { message })
}

/** Algorithms a key of this type can verify, and the one derived when none is given. */
function familyOf(key: KeyObject, rsaDefault: JwtAlgorithm): { allowed: readonly JwtAlgorithm[]; derived: JwtAlgorithm; family: string } {
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
      if (bits < MIN_RSA_BITS) refuse('rsa_key_too_short', `The RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are needed`)
      return { allowed: RSA_ALGORITHMS, derived: RSA_ALGORITHMS.includes(rsaDefault) ? rsaDefault : 'RS256', family: 'RSA' }
    }
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? ''
      const alg = CURVES[curve]
      if (!alg) refuse('unsupported_key_type', 'The EC key is not on P-256, P-384 or P-521')
      return { allowed: [alg], derived: alg, family: curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : 'P-521' }
    }
    case 'ed25519':
      return { allowed: ['EdDSA'], derived: 'EdDSA', family: 'Ed25519' }
    default:
      return refuse('unsupported_key_type', 'The key must be RSA, EC (P-256, P-384, P-521) or Ed25519')
  }
}

/** RFC 7638: SHA-256 over the required JWK members in lexicographic order, no whitespace. */
export function jwkThumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' }) as Record<string, string>
  const members = jwk.kty === 'RSA' ? ['e', 'kty', 'n'] : jwk.kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : ['crv', 'kty', 'x']
  const canonical = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(jwk[m])}`).join(',')}}`
  return createHash('sha256').update(canonical).digest('base64url')
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
  const { allowed, derived, family } = familyOf(key, opts.rsaDefault)
  let algorithm = derived
  if (opts.algorithm !== undefined) {
    if (!(JWT_ALGORITHMS as readonly string[]).includes(opts.algorithm)) {
      throw new FolioError('algorithm_not_allowed', { allowed: JWT_ALGORITHMS }, {
        message: `The algorithm is not allowed; use one of ${JWT_ALGORITHMS.join(' ')}`,
      })
    }
    algorithm = opts.algorithm as JwtAlgorithm
    if (!allowed.includes(algorithm)) {
      throw new FolioError('algorithm_key_mismatch', { algorithm, keyType: family, allowed }, {
        message: `${algorithm} does not fit a ${family} key; use ${allowed.join(' or ')}`,
      })
    }
  }
  const pem = key.export({ type: 'spki', format: 'pem' }).toString()
  return { key, pem, algorithm, fingerprint: jwkThumbprint(key) }
}
