/**
 * The one SHA-256 helper is pinned: revocations match tokens by this digest and the API token is
 * stored as it, so any change of encoding or case would silently break both.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sha256Hex } from '../../src/tools/digest.js'

test('sha256Hex is lowercase hex of SHA-256 (FIPS 180-2 test vectors)', () => {
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
})

test('sha256Hex hashes strings as UTF-8, the same as their bytes', () => {
  assert.equal(sha256Hex('é'), sha256Hex(Buffer.from([0xc3, 0xa9])))
  assert.equal(sha256Hex('é'), '4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c')
  assert.equal(sha256Hex(Buffer.from('abc')), sha256Hex('abc'))
})

