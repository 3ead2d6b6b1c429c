/**
 * Which keys fit which algorithms (spec §1, §4), as applied to JWT_PUBLIC_KEY/JWT_ALGORITHM at
 * start: a misfit stops the start naming the variables; without JWT_ALGORITHM the key decides.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { test } from 'node:test'
import { algorithmProblem, deriveAlgorithm, parsePublicKeyPem } from '../../src/auth/key-fit.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { keyPair } from '../helpers/jwt.js'

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
