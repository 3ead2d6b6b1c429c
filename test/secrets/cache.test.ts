import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ExpiringList } from '../../src/secrets/cache.js'
import { createSigner } from '../../src/secrets/signer.js'

test('an expiring list shows items until their expiry and caches the result between expiries', () => {
  const list = new ExpiringList([{ value: 'current', until: Infinity }, { value: 'old', until: 1000 }, { value: 'older', until: 500 }])
  assert.deepEqual(list.at(0), ['current', 'old', 'older'])
  assert.equal(list.at(1), list.at(499), 'the same array between expiries: no allocation per request')
  assert.deepEqual(list.at(500), ['current', 'old'])
  assert.deepEqual(list.at(1000), ['current'])
  assert.deepEqual(list.at(0), ['current', 'old', 'older'], 'an earlier time recomputes')
  assert.equal(list.nextExpiry(0), 500)
  assert.equal(list.nextExpiry(500), 1000)
  assert.equal(list.nextExpiry(1000), Infinity)
})

test('the signer signs with the current secret_key_base and verifies with any valid one, per purpose', () => {
  let current = { id: 2, material: 'b'.repeat(64) }
  let valid = [current, { id: 1, material: 'a'.repeat(64) }]
  const keys = { current: () => current, valid: () => valid }
  const cookies = createSigner('session', keys)
  const signed = cookies.sign('user=ops;exp=123')
  assert.match(signed, /^[A-Za-z0-9_-]+\.2\.[A-Za-z0-9_-]{43}$/)
  assert.equal(cookies.verify(signed), 'user=ops;exp=123')
  assert.equal(createSigner('other-purpose', keys).verify(signed), undefined, 'a value signed for one purpose does not verify for another')
  const tampered = signed.replace(/^[^.]+/, Buffer.from('user=admin;exp=123').toString('base64url'))
  assert.equal(cookies.verify(tampered), undefined)
  assert.equal(cookies.verify('garbage'), undefined)

  // Rotation: the new current signs, the previous still verifies until it expires.
  current = { id: 3, material: 'c'.repeat(64) }
  valid = [current, { id: 2, material: 'b'.repeat(64) }]
  assert.match(cookies.sign('x'), /\.3\./)
  assert.equal(cookies.verify(signed), 'user=ops;exp=123')
  valid = [current]
  assert.equal(cookies.verify(signed), undefined, 'an expired secret_key_base verifies nothing')
})
