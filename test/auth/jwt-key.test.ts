/**
 * The one JWT-key module: which keys fit which algorithms (spec §1, §4), as applied to JWT_PUBLIC_KEY/JWT_ALGORITHM at
 * start: a misfit stops the start naming the variables; without JWT_ALGORITHM the key decides.
 * The same module checks `jwt` secrets added at runtime (second half of this file).
 */
import assert from 'node:assert/strict'
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { test } from 'node:test'
import { algorithmProblem, deriveAlgorithm, jwkThumbprint, parseJwtPublicKey, parsePublicKeyPem } from '../../src/auth/jwt-key.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { FolioError } from '../../src/errors.js'
import { keyPair } from '../helpers/jwt.js'
import { ecPair, ed25519Pair, ed448Pair, privatePem, rsaPair } from '../helpers/secret-fixtures.js'

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
    return []
  } catch (e) {
    assert.ok(e instanceof ConfigError)
    return e.problems
  }
}

test('each algorithm takes only keys of its family and size', () => {
  const rsa = keyPair('RS256').publicKey
  const p256 = keyPair('ES256').publicKey
  const p384 = keyPair('ES384').publicKey
  const ed = keyPair('EdDSA').publicKey
  for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const) {
    assert.equal(algorithmProblem(rsa, alg), undefined)
    assert.match(algorithmProblem(p256, alg)!, /needs an RSA key; this is a P-256 key/)
  }
  assert.equal(algorithmProblem(p256, 'ES256'), undefined)
  assert.match(algorithmProblem(p384, 'ES256')!, /needs a P-256 key/)
  assert.match(algorithmProblem(rsa, 'ES512')!, /needs a P-521 key; this is an RSA key/)
  assert.equal(algorithmProblem(ed, 'EdDSA'), undefined)
  assert.match(algorithmProblem(rsa, 'EdDSA')!, /needs an Ed25519 key/)
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey
  assert.match(algorithmProblem(small, 'RS256')!, /at least 2048 bits/)
  const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey
  assert.match(algorithmProblem(secp256k1, 'ES256')!, /needs a P-256 key; this is an EC \(secp256k1/)
})

test('the algorithm a key implies (spec §4)', () => {
  assert.equal(deriveAlgorithm(keyPair('RS256').publicKey), 'RS256')
  assert.equal(deriveAlgorithm(keyPair('RS256').publicKey, 'PS384'), 'PS384')
  assert.equal(deriveAlgorithm(keyPair('RS256').publicKey, 'ES256'), 'RS256')
  assert.equal(deriveAlgorithm(keyPair('ES256').publicKey), 'ES256')
  assert.equal(deriveAlgorithm(keyPair('ES384').publicKey), 'ES384')
  assert.equal(deriveAlgorithm(keyPair('ES512').publicKey), 'ES512')
  assert.equal(deriveAlgorithm(keyPair('EdDSA').publicKey), 'EdDSA')
})

test('JWT_PUBLIC_KEY that does not fit JWT_ALGORITHM stops the start, naming both; the PEM is never echoed', () => {
  const es = keyPair('ES256').publicPem
  const p = problems({ JWT_PUBLIC_KEY: es, JWT_ALGORITHM: 'RS256' })
  assert.equal(p.length, 1)
  assert.match(p[0]!, /^JWT_PUBLIC_KEY: does not fit JWT_ALGORITHM=RS256: RS256 needs an RSA key; this is a P-256 key$/)
  assert.ok(!p[0]!.includes(es.split('\n')[1]!))
  assert.match(problems({ JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----' })[0]!, /^JWT_PUBLIC_KEY: could not be read/)
  const priv = keyPair('ES256').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  assert.match(problems({ JWT_PUBLIC_KEY: priv })[0]!, /^JWT_PUBLIC_KEY: is not a PEM public key/, 'a private key pasted by mistake is refused')
  // An invalid JWT_ALGORITHM is reported once, not again as a misfit.
  assert.deepEqual(problems({ JWT_PUBLIC_KEY: es, JWT_ALGORITHM: 'HS256' }).map((x) => x.split(':')[0]), ['JWT_ALGORITHM'])
})

test('without JWT_ALGORITHM the key decides; with it, it is kept; "\\n" escapes are accepted', () => {
  assert.equal(loadConfig({ JWT_PUBLIC_KEY: keyPair('ES384').publicPem }).jwt.algorithm, 'ES384')
  assert.equal(loadConfig({ JWT_PUBLIC_KEY: keyPair('EdDSA').publicPem }).jwt.algorithm, 'EdDSA')
  assert.equal(loadConfig({ JWT_PUBLIC_KEY: keyPair('RS256').publicPem }).jwt.algorithm, 'RS256')
  assert.equal(loadConfig({ JWT_PUBLIC_KEY: keyPair('RS256').publicPem, JWT_ALGORITHM: 'PS512' }).jwt.algorithm, 'PS512')
  assert.equal(loadConfig({}).jwt.algorithm, 'RS256')
  const escaped = keyPair('ES256').publicPem.replace(/\n/g, '\\n')
  assert.equal(loadConfig({ JWT_PUBLIC_KEY: escaped }).jwt.algorithm, 'ES256')
  const pkcs1 = keyPair('RS256').publicKey.export({ type: 'pkcs1', format: 'pem' }) as string
  assert.equal(parsePublicKeyPem(pkcs1).asymmetricKeyType, 'rsa', 'BEGIN RSA PUBLIC KEY (PKCS#1) is read too')
})

// `jwt` secrets (spec §4)

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
