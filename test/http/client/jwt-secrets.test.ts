/**
 * Issue #4 checks on the JWT path of issue #3, written against the HTTP contract only (spec §2,
 * §4, §5, §7):
 *  - a revoked token is refused (401 invalid_token, reason revoked) on /i and /documents, on
 *    every node within 1 s, and accepted again once the revocation is lifted;
 *  - zero downtime: under continuous client load, with valid tokens from the old key and then
 *    the new, the JWT key is rotated; not one request that should succeed fails.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { makePdf } from '../../helpers/pdf-fixtures.js'
import { request } from '../../helpers/http.js'
import { ecPair, nowSeconds, rsaPair, signJwt, waitFor, type TestKeyPair } from '../../helpers/secret-fixtures.js'
import { authHeader, createStorage, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'


async function upload(f: TestFolio): Promise<string> {
  const res = await request(`${f.url}/api/documents`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: makePdf() })
  assert.equal(res.status, 200, res.text)
  return res.body.data.document_id
}

async function rotateJwtKey(f: TestFolio, key: TestKeyPair, body: Record<string, unknown> = {}) {
  const res = await request(`${f.url}/api/secrets/jwt/rotate`, { method: 'POST', headers: authHeader(), json: { secret: key.publicPem, ...body } })
  assert.equal(res.status, 200, res.text)
  return res.body.data
}

function token(key: TestKeyPair, alg: string, documentId: string, extra: Record<string, unknown> = {}): string {
  return signJwt({ document_id: documentId, permissions: ['read-document'], iat: nowSeconds(), exp: nowSeconds() + 600, ...extra }, key.privateKey, alg)
}

const get = (f: TestFolio, path: string, jwt: string) => request(`${f.url}${path}`, { headers: { authorization: `Bearer ${jwt}` } })

for (const db of dbKinds()) {
  describe(`JWT keys and revocation through the client surfaces (${db})`, () => {
    test('a revoked token is refused with 401 invalid_token reason revoked on /i and /documents; lifting restores it', async () => {
      const f = await startFolio({ db })
      try {
        const key = rsaPair()
        await rotateJwtKey(f, key)
        const doc = await upload(f)
        const jwt = token(key, 'RS256', doc, { jti: 'to-revoke', user_id: 'alice' })
        const paths = [`/i/d/${doc}/document_info`, `/documents/${doc}/document_info`]
        for (const p of paths) assert.equal((await get(f, p, jwt)).status, 200, p)
        for (const body of [{ jti: 'to-revoke' }, { token: jwt }, { document_id: doc }, { user_id: 'alice' }]) {
          const rev = await request(`${f.url}/api/jwt/revocations`, { method: 'POST', headers: authHeader(), json: body })
          assert.equal(rev.status, 200, rev.text)
          for (const p of paths) {
            const res = await get(f, p, jwt)
            assert.equal(res.status, 401, `${JSON.stringify(body)} ${p}`)
            assert.equal(res.body.error.code, 'invalid_token')
            assert.equal(res.body.error.reason, 'revoked')
            assert.ok(!res.text.includes(jwt))
          }
          assert.equal((await request(`${f.url}/api/jwt/revocations/${rev.body.data.id}`, { method: 'DELETE', headers: authHeader() })).status, 200)
          for (const p of paths) assert.equal((await get(f, p, jwt)).status, 200, `lifted: ${p}`)
        }
        // A document revocation covers tokens issued before it, not a fresh one.
        await request(`${f.url}/api/jwt/revocations`, { method: 'POST', headers: authHeader(), json: { document_id: doc, issuedBefore: new Date(Date.now() - 60_000).toISOString() } })
        assert.equal((await get(f, paths[0]!, token(key, 'RS256', doc, { iat: nowSeconds() - 3600 }))).status, 401)
        assert.equal((await get(f, paths[0]!, token(key, 'RS256', doc))).status, 200)
        // Document Engine's form.
        const other = token(key, 'RS256', doc, { jti: 'de-form' })
        assert.deepEqual((await request(`${f.url}/api/revoke`, { method: 'POST', headers: authHeader(), json: { jwts: [other] } })).body.data, [other])
        assert.equal((await get(f, paths[1]!, other)).status, 401)
      } finally {
        await f.destroy()
      }
    })

    test('rotating the JWT key under continuous load fails no request: tokens of the old key, then of the new', async (t) => {
      const f = await startFolio({ db })
      try {
        const oldKey = rsaPair()
        const newKey = ecPair('P-256')
        await rotateJwtKey(f, oldKey)
        const doc = await upload(f)
        let current = () => token(oldKey, 'RS256', doc)
        let running = true
        let sent = 0
        const failures: string[] = []
        const loops = Array.from({ length: 4 }, async (_, c) => {
          for (let i = c; running; i++) {
            const res = await get(f, i % 2 ? `/i/d/${doc}/document_info` : `/documents/${doc}/document_info`, current())
            sent++
            if (res.status !== 200) failures.push(`${res.status} ${res.text}`)
          }
        })
        await new Promise((r) => setTimeout(r, 300))
        const rotated = await rotateJwtKey(f, newKey) // the old key stays valid for JWT_MAX_LIFETIME
        current = () => token(newKey, 'ES256', doc)
        await new Promise((r) => setTimeout(r, 300))
        current = () => token(oldKey, 'RS256', doc) // a backend that has not switched yet
        await new Promise((r) => setTimeout(r, 300))
        current = () => token(newKey, 'ES256', doc)
        await new Promise((r) => setTimeout(r, 300))
        running = false
        await Promise.all(loops)
        t.diagnostic(`${sent} requests, ${failures.length} failed`)
        assert.deepEqual(failures, [])
        // Cutting the old key refuses its tokens at once.
        await request(`${f.url}/api/secrets/jwt/${rotated.previous.id}`, { method: 'PATCH', headers: authHeader(), json: { expiresAt: 'now' } })
        assert.equal((await get(f, `/i/d/${doc}/document_info`, token(oldKey, 'RS256', doc))).status, 401)
        assert.equal((await get(f, `/i/d/${doc}/document_info`, token(newKey, 'ES256', doc))).status, 200)
      } finally {
        await f.destroy()
      }
    })
  })
}

describe('JWT revocation across two nodes (postgres)', { skip: !dbKinds().includes('postgres') && 'no PostgreSQL in this run' }, () => {
  test('a token revoked on node A is refused on node B within 1 s', async (t) => {
    const storage = await createStorage('postgres')
    const a = await startFolio({ storage })
    const b = await startFolio({ storage })
    try {
      const key = rsaPair()
      await rotateJwtKey(a, key)
      const doc = await upload(a)
      const jwt = token(key, 'RS256', doc, { jti: 'cross-node' })
      await waitFor(async () => (await get(b, `/i/d/${doc}/document_info`, jwt)).status === 200)
      const t0 = performance.now()
      await request(`${a.url}/api/jwt/revocations`, { method: 'POST', headers: authHeader(), json: { jti: 'cross-node' } })
      const ms = await waitFor(async () => (await get(b, `/i/d/${doc}/document_info`, jwt)).status === 401, 5000, 5)
      t.diagnostic(`revoked on A, refused on B after ${(performance.now() - t0).toFixed(0)} ms`)
      assert.ok(ms < 1000)
    } finally {
      await b.close()
      await a.close()
      await storage.drop()
    }
  })
})
