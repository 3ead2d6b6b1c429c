import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import { test } from 'node:test'
import { FolioError } from '../../src/errors.js'
import { jwkThumbprint, parseJwtPublicKey } from '../../src/secrets/jwt-key.js'
import { ecPair, ed25519Pair, ed448Pair, privatePem, rsaPair } from '../helpers/secret-fixtures.js'

const rsa = rsaPair()
const p256 = ecPair('P-256')

function refusedWith(fn: () => unknown, code: string, reason?: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FolioError, String(e))
    assert.equal(e.code, code)
    if (reason) assert.equal(e.details.reason, reason)
    return true
  })
}

test('the algorithm is derived from the key: RSA → JWT_ALGORITHM when RSA else RS256, P-256/384/521 → ES256/384/512, Ed25519 → EdDSA', () => {
  assert.equal(parseJwtPublicKey(rsa.publicPem, { rsaDefault: 'RS256' }).algorithm, 'RS256')
  assert.equal(parseJwtPublicKey(rsa.publicPem, { rsaDefault: 'PS384' }).algorithm, 'PS384')
  assert.equal(parseJwtPublicKey(rsa.publicPem, { rsaDefault: 'ES256' }).algorithm, 'RS256')
  assert.equal(parseJwtPublicKey(p256.publicPem, { rsaDefault: 'RS256' }).algorithm, 'ES256')
  assert.equal(parseJwtPublicKey(ecPair('P-384').publicPem, { rsaDefault: 'RS256' }).algorithm, 'ES384')
  assert.equal(parseJwtPublicKey(ecPair('P-521').publicPem, { rsaDefault: 'RS256' }).algorithm, 'ES512')
  assert.equal(parseJwtPublicKey(ed25519Pair().publicPem, { rsaDefault: 'RS256' }).algorithm, 'EdDSA')
})

test('a given algorithm must fit the key family; none, HS256 and unknown names are not allowed', () => {
  assert.equal(parseJwtPublicKey(rsa.publicPem, { algorithm: 'PS512', rsaDefault: 'RS256' }).algorithm, 'PS512')
  refusedWith(() => parseJwtPublicKey(rsa.publicPem, { algorithm: 'ES256', rsaDefault: 'RS256' }), 'algorithm_key_mismatch')
  refusedWith(() => parseJwtPublicKey(p256.publicPem, { algorithm: 'ES384', rsaDefault: 'RS256' }), 'algorithm_key_mismatch')
  refusedWith(() => parseJwtPublicKey(p256.publicPem, { algorithm: 'RS256', rsaDefault: 'RS256' }), 'algorithm_key_mismatch')
  for (const alg of ['none', 'HS256', 'rs256', 'ES256K']) {
    refusedWith(() => parseJwtPublicKey(rsa.publicPem, { algorithm: alg, rsaDefault: 'RS256' }), 'algorithm_not_allowed')
  }
})

test('a PKCS#1 RSA public key is accepted and stored as the same SPKI PEM; "\\n" escapes are accepted', () => {
  const pkcs1 = createPublicKey(rsa.publicPem).export({ type: 'pkcs1', format: 'pem' }).toString()
  const a = parseJwtPublicKey(pkcs1, { rsaDefault: 'RS256' })
  const b = parseJwtPublicKey(rsa.publicPem.replace(/\n/g, '\\n'), { rsaDefault: 'RS256' })
  assert.equal(a.pem, rsa.publicPem)
  assert.equal(b.pem, rsa.publicPem)
  assert.equal(a.fingerprint, b.fingerprint)
})

test('private keys, certificates, garbage, short RSA keys and other curves are refused with a reason', () => {
  refusedWith(() => parseJwtPublicKey(privatePem(rsa), { rsaDefault: 'RS256' }), 'invalid_jwt_key', 'private_key')
  refusedWith(() => parseJwtPublicKey('hello', { rsaDefault: 'RS256' }), 'invalid_jwt_key', 'not_pem_public_key')
  refusedWith(() => parseJwtPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', { rsaDefault: 'RS256' }), 'invalid_jwt_key', 'not_pem_public_key')
  refusedWith(() => parseJwtPublicKey(`${rsa.publicPem}${p256.publicPem}`, { rsaDefault: 'RS256' }), 'invalid_jwt_key', 'not_pem_public_key')
  refusedWith(() => parseJwtPublicKey('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', { rsaDefault: 'RS256' }), 'invalid_jwt_key', 'not_pem_public_key')
  refusedWith(() => parseJwtPublicKey(rsaPair(1024).publicPem, { rsaDefault: 'RS256' }), 'invalid_jwt_key', 'rsa_key_too_short')
  refusedWith(() => parseJwtPublicKey(ecPair('secp256k1').publicPem, { rsaDefault: 'RS256' }), 'invalid_jwt_key', 'unsupported_key_type')
  refusedWith(() => parseJwtPublicKey(ed448Pair().publicPem, { rsaDefault: 'RS256' }), 'invalid_jwt_key', 'unsupported_key_type')
})

test('refusal messages never echo the key material', () => {
  const pem = privatePem(rsa)
  try {
    parseJwtPublicKey(pem, { rsaDefault: 'RS256' })
    assert.fail('expected a refusal')
  } catch (e) {
    const body = (e as Error).message + JSON.stringify((e as FolioError).details)
    assert.ok(!body.includes(pem.split('\n')[1]!.slice(0, 20)))
  }
})

test('the fingerprint is the RFC 7638 JWK thumbprint (the RFC\'s own example)', () => {
  const n = '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw'
  const key = createPublicKey({ key: { kty: 'RSA', n, e: 'AQAB' }, format: 'jwk' })
  assert.equal(jwkThumbprint(key), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
})
