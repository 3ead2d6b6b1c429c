/**
 * POST /api/jwt/validate (spec §3): which check fails and which keys were tried, behind the API
 * token, never revealing key material; against a real Folio on both databases.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { jwkThumbprint } from '../../../src/auth/jwt-key.js'
import { assertError, request } from '../../helpers/http.js'
import { assertNoTokenInLogs, claimsFor, epoch, keyPair, signToken } from '../../helpers/jwt.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'

for (const db of dbKinds()) {
  describe(`POST /api/jwt/validate (${db})`, () => {
    let f: TestFolio
    const pair = keyPair('RS256')
    const validate = (body: unknown, headers: Record<string, string> = authHeader()) =>
      request(`${f.url}/api/jwt/validate`, { method: 'POST', headers, json: body })

    before(async () => {
      f = await startFolio({ db, env: { JWT_PUBLIC_KEY: pair.publicPem, JWT_ALGORITHM: 'RS256', JWT_ISSUER: 'my-backend' } })
    })
    after(async () => {
      await f.destroy()
    })

    test('a good token: valid, its claims, the grant and the key that verified it', async () => {
      const token = await signToken(claimsFor('doc-a', ['read-document'], { iss: 'my-backend', user_id: 'alice' }), pair)
      const res = await validate({ token })
      assert.equal(res.status, 200, res.text)
      const d = res.body.data
      assert.equal(d.valid, true)
      assert.equal(d.reason, null)
      assert.equal(d.claims.document_id, 'doc-a')
      assert.deepEqual(d.grant, { documentId: 'doc-a', permissions: ['read-document'], layer: '', userId: 'alice' })
      const thumb = jwkThumbprint(pair.publicKey)
      // The key is the `jwt` secret seeded from JWT_PUBLIC_KEY (issue #4): its id is the secret's.
      const secrets = await request(`${f.url}/api/secrets/jwt`, { headers: authHeader() })
      const current = secrets.body.find((x: { expiresAt: string | null }) => x.expiresAt === null)
      assert.deepEqual(d.keys_tried, [{ id: String(current.id), algorithm: 'RS256', fingerprint: thumb, result: 'verified' }])
    })

    test('a refused token: the failing check, the claim, the keys tried; never the key itself', async () => {
      const cases: Array<[string, Promise<string> | string, string, string?]> = [
        ['wrong issuer', signToken(claimsFor('d', ['read-document'], { iss: 'someone-else' }), pair), 'issuer_mismatch', 'iss'],
        ['expired', signToken(claimsFor('d', ['read-document'], { iss: 'my-backend', exp: epoch(-600), iat: epoch(-1200) }), pair), 'expired', 'exp'],
        ['another key', signToken(claimsFor('d', ['read-document'], { iss: 'my-backend' }), keyPair('RS256', true)), 'bad_signature'],
        ['another algorithm', signToken(claimsFor('d', ['read-document']), keyPair('ES256')), 'algorithm_not_allowed'],
        ['garbage', 'hello', 'malformed'],
        ['oversized', 'a'.repeat(9000), 'too_large'],
      ]
      for (const [name, tokenP, reason, claim] of cases) {
        const res = await validate({ token: await tokenP })
        assert.equal(res.status, 200, name)
        assert.equal(res.body.data.valid, false, name)
        assert.equal(res.body.data.reason, reason, name)
        assert.equal(res.body.data.claim, claim, name)
        assert.ok(!res.text.includes(pair.publicPem.split('\n')[1]!), 'no PEM in the answer')
        assert.ok(!/"n":|"e":"AQAB"/.test(res.text), 'no JWK members in the answer')
      }
      const bad = await validate({ token: await signToken(claimsFor('d', ['read-document'], { iss: 'my-backend' }), keyPair('RS256', true)) })
      assert.deepEqual(bad.body.data.keys_tried.map((k: { result: string }) => k.result), ['bad_signature'])
      assert.equal(bad.body.data.claims.document_id, 'd', 'claims are shown even when the signature fails, to spot a wrong claim')
    })

    test('it needs the API token (a JWT does not do), and a body {"token": string}', async () => {
      const token = await signToken(claimsFor('doc-a', ['read-document'], { iss: 'my-backend' }), pair)
      assertError(await validate({ token }, {}), 401, 'unauthorized')
      assertError(await validate({ token }, { authorization: `Bearer ${token}` }), 401, 'unauthorized')
      assertError(await validate({}), 400, 'bad_request')
      assertError(await validate({ token: 5 }), 400, 'bad_request')
      assertNoTokenInLogs(f.logs)
    })

    test('validating does not change what the client surfaces accept (no cache side effects)', async () => {
      const token = await signToken(claimsFor('doc-a', ['read-document'], { iss: 'my-backend' }), pair)
      await validate({ token })
      // the document does not exist: the grant passes, then 404, proving the token was verified afresh
      assertError(await request(`${f.url}/documents/doc-a/document_info`, { headers: { authorization: `Bearer ${token}` } }), 404, 'document_not_found')
    })
  })
}
