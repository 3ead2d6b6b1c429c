/**
 * Project Wycheproof vectors (vendored subset, test/fixtures/wycheproof/README.md):
 *  - JSON Web Signature vectors through Folio's JWS verification (auth/jwt.ts `verifyJws`:
 *    syntax, algorithm policy, header keys, jose's signature check): every `valid` vector is
 *    accepted, every `invalid` one refused; the HS256 group is refused as a whole, by policy
 *    (Folio never accepts HS*), which is the one deliberate difference from "valid".
 *  - ECDSA P-256/SHA-256 P1363 vectors through the primitive jose calls for ES256
 *    (WebCrypto `subtle.verify` with ECDSA/SHA-256 and raw r||s signatures).
 */
import assert from 'node:assert/strict'
import { createPublicKey, webcrypto, type JsonWebKey } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { verifyJws } from '../../src/auth/jwt.js'
import type { VerificationKey } from '../../src/auth/keys.js'
import { jwkThumbprint } from '../../src/auth/jwt-key.js'
import type { JwtAlgorithm } from '../../src/config.js'
import { keyPair } from '../helpers/jwt.js'

const dir = new URL('../../../test/fixtures/wycheproof/', import.meta.url)
const load = async (name: string) => JSON.parse(await readFile(new URL(name, dir), 'utf8'))

interface JwsTest { tcId: number; comment: string; jws: string; result: 'valid' | 'invalid' }
interface JwsGroup { comment: string; public?: Record<string, string>; tests: JwsTest[] }

test('Wycheproof JSON Web Signature vectors: valid accepted, invalid refused, HS256 refused by policy', async (t) => {
  const doc = await load('json_web_signature_subset.json')
  let asExpected = 0
  let refusedByPolicy = 0
  let total = 0
  for (const group of doc.testGroups as JwsGroup[]) {
    let keys: VerificationKey[]
    if (group.public) {
      const key = createPublicKey({ key: group.public as unknown as JsonWebKey, format: 'jwk' })
      keys = [{ id: group.public.kid!, algorithm: group.public.alg as JwtAlgorithm, key, fingerprint: jwkThumbprint(key) }]
    } else {
      // HMAC group: Folio has no secret keys at all; any asymmetric key of ours stands in.
      const pair = keyPair('ES256')
      keys = [{ id: 'ours', algorithm: 'ES256', key: pair.publicKey, fingerprint: jwkThumbprint(pair.publicKey) }]
    }
    for (const v of group.tests) {
      total++
      const r = await verifyJws(v.jws, keys)
      const accepted = !('reason' in r)
      if (group.comment === 'hs256' && v.result === 'valid') {
        assert.equal(accepted, false, `tcId ${v.tcId}: HS256 is never accepted`)
        assert.equal((r as { reason: string }).reason, 'algorithm_not_allowed')
        refusedByPolicy++
        continue
      }
      assert.equal(accepted, v.result === 'valid', `tcId ${v.tcId} (${group.comment}, ${v.comment}) expected ${v.result}`)
      asExpected++
    }
  }
  t.diagnostic(`Wycheproof JWS: ${total} vectors; ${asExpected} as Wycheproof expects, ${refusedByPolicy} "valid" HS256 refused by Folio's policy`)
  assert.equal(total, doc.numberOfTests)
  assert.equal(asExpected + refusedByPolicy, total)
})

test('Wycheproof ECDSA P-256 SHA-256 P1363 vectors through the ES256 primitive jose uses', async (t) => {
  const doc = await load('ecdsa_secp256r1_sha256_p1363_subset.json')
  let asExpected = 0
  let total = 0
  for (const group of doc.testGroups) {
    const key = await webcrypto.subtle.importKey('spki', Buffer.from(group.publicKeyDer, 'hex'), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])
    for (const v of group.tests as Array<{ tcId: number; comment: string; msg: string; sig: string; result: string }>) {
      total++
      let ok: boolean
      try {
        ok = await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, Buffer.from(v.sig, 'hex'), Buffer.from(v.msg, 'hex'))
      } catch {
        ok = false
      }
      if (v.result !== 'acceptable') assert.equal(ok, v.result === 'valid', `tcId ${v.tcId} (${v.comment}) expected ${v.result}`)
      asExpected++
    }
  }
  t.diagnostic(`Wycheproof ECDSA P1363: ${asExpected} of ${total} vectors as expected`)
  assert.equal(total, doc.numberOfTests)
})
