import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { TokenFacts } from '../../src/auth/keys.js'
import { RevocationIndex } from '../../src/revocations/cache.js'
import { readUnverifiedClaims } from '../../src/revocations/jwt-payload.js'
import { fakeJwt } from '../helpers/secret-fixtures.js'

const NOW = 1_800_000_000_000
const facts = (o: Partial<TokenFacts> = {}): TokenFacts => ({ tokenHash: 'h0', documentId: 'doc', exp: NOW / 1000 + 60, iat: NOW / 1000 - 60, ...o })

test('each kind of revocation covers exactly its tokens', () => {
  const idx = new RevocationIndex(() => NOW)
  assert.equal(idx.isRevoked(facts()), false, 'nothing revoked')
  idx.add({ id: 1, kind: 'token', value: 'h1', issuedBeforeMs: null, expiresAtMs: NOW + 1000 })
  idx.add({ id: 2, kind: 'jti', value: 'j1', issuedBeforeMs: null, expiresAtMs: NOW + 1000 })
  assert.equal(idx.isRevoked(facts({ tokenHash: 'h1' })), true)
  assert.equal(idx.isRevoked(facts({ tokenHash: 'h2' })), false)
  assert.equal(idx.isRevoked(facts({ jti: 'j1' })), true)
  assert.equal(idx.isRevoked(facts({ jti: 'j2' })), false)
  assert.equal(idx.size, 2)
})

test('a document_id or user_id revocation covers tokens issued before issuedBefore, and tokens without iat', () => {
  const idx = new RevocationIndex(() => NOW)
  idx.add({ id: 1, kind: 'document_id', value: 'doc', issuedBeforeMs: NOW - 10_000, expiresAtMs: NOW + 1000 })
  idx.add({ id: 2, kind: 'user_id', value: 'u1', issuedBeforeMs: NOW, expiresAtMs: NOW + 1000 })
  assert.equal(idx.isRevoked(facts({ iat: (NOW - 20_000) / 1000 })), true, 'issued before')
  assert.equal(idx.isRevoked(facts({ iat: (NOW - 10_000) / 1000 })), false, 'issued at issuedBefore is not before it')
  assert.equal(idx.isRevoked(facts({ iat: undefined })), true, 'no iat: refused until the revocation ends')
  assert.equal(idx.isRevoked(facts({ documentId: 'other', iat: undefined })), false)
  assert.equal(idx.isRevoked(facts({ documentId: 'other', userId: 'u1' })), true)
  assert.equal(idx.isRevoked(facts({ documentId: 'other', userId: 'u2' })), false)
})

test('an expired revocation covers nothing; lifting and replacing keep the index exact', () => {
  let now = NOW
  const idx = new RevocationIndex(() => now)
  idx.add({ id: 1, kind: 'jti', value: 'j', issuedBeforeMs: null, expiresAtMs: NOW + 1000 })
  idx.add({ id: 2, kind: 'jti', value: 'j', issuedBeforeMs: null, expiresAtMs: NOW + 5000 })
  idx.remove(2)
  assert.equal(idx.isRevoked(facts({ jti: 'j' })), true)
  now = NOW + 1000
  assert.equal(idx.isRevoked(facts({ jti: 'j' })), false)
  assert.equal(idx.dropExpired(now), 1)
  assert.equal(idx.size, 0)
  idx.replaceAll([{ id: 7, kind: 'token', value: 'h0', issuedBeforeMs: null, expiresAtMs: now + 1 }])
  assert.equal(idx.isRevoked(facts()), true)
  idx.replaceAll([])
  assert.equal(idx.isRevoked(facts()), false)
})

test('claims are read from a compact JWT without verifying it; anything else is not a JWT', () => {
  assert.deepEqual(readUnverifiedClaims(fakeJwt({ jti: 'a', exp: 10, iat: 5 })), { jti: 'a', exp: 10, iat: 5 })
  assert.deepEqual(readUnverifiedClaims(fakeJwt({ jti: 42, exp: 'soon' })), { jti: undefined, exp: undefined, iat: undefined })
  for (const bad of ['', 'a.b', 'a.b.c.d', 'not a jwt', `${fakeJwt({})}x!`, `e30.${Buffer.from('[1]').toString('base64url')}.x`, `e30.${'x'.repeat(9000)}.x`]) {
    assert.equal(readUnverifiedClaims(bad), undefined, bad.slice(0, 30))
  }
})
