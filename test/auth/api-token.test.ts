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
  const digest = (s: string) => createHash('sha256').update(s).digest()
  const v = createApiTokenVerifier(() => [digest('first-token'), digest('second-token')])
  assert.equal(v.verify('first-token'), true)
  assert.equal(v.verify('second-token'), true)
  assert.equal(v.verify('first-tokeN'), false)
  assert.equal(v.verify(''), false)
  assert.equal(createApiTokenVerifier(() => []).verify('first-token'), false)
})
