import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { createApiTokenVerifier, parseApiTokenHeader } from '../../src/auth/api-token.js'

test('the Token header is parsed with or without quotes, and nothing else is taken', () => {
  assert.equal(parseApiTokenHeader('Token token="abc"'), 'abc')
  assert.equal(parseApiTokenHeader('Token token=abc'), 'abc')
  assert.equal(parseApiTokenHeader('token   token="abc"  '), 'abc')
  for (const bad of [undefined, '', 'Bearer abc', 'Token abc', 'Token token=""', 'Token token="a" extra', 'Token token="abc', `Token token="${'a'.repeat(5000)}"`]) {
    assert.equal(parseApiTokenHeader(bad), undefined, String(bad))
  }
})

test('any valid token digest is accepted; near misses are not', () => {
  const entry = (s: string, secretId: number) => ({ digest: createHash('sha256').update(s).digest(), secretId, fingerprint: `fp${secretId}` })
  const v = createApiTokenVerifier(() => [entry('first-token', 1), entry('second-token', 2)])
  assert.equal(v.verify('first-token'), true)
  assert.equal(v.verify('second-token'), true)
  assert.equal(v.verify('first-tokeN'), false)
  assert.equal(v.verify(''), false)
  assert.equal(createApiTokenVerifier(() => []).verify('first-token'), false)
})

test('identify names the api_auth_token secret that matched, for the audit log', () => {
  const entry = (s: string, secretId: number) => ({ digest: createHash('sha256').update(s).digest(), secretId, fingerprint: `fp${secretId}` })
  const v = createApiTokenVerifier(() => [entry('first-token', 1), entry('second-token', 2)])
  assert.deepEqual(v.identify('second-token'), { secretId: 2, fingerprint: 'fp2' })
  assert.equal(v.identify('third-token'), undefined)
})
