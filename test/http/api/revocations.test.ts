/**
 * JWT revocation over the server API (spec §5), on both databases: each kind, list, lift,
 * Document Engine's /api/revoke, how long a revocation is kept, pruning, and that the in-memory
 * check (what JWT verification consults, issue #3) follows every change with no query.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { TokenFacts } from '../../../src/auth/keys.js'
import { assertError, request, type JsonResponse } from '../../helpers/http.js'
import { fakeJwt, nowSeconds } from '../../helpers/secret-fixtures.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const MAX = 86_400
const TOL = 30

function factsOf(token: string, claims: { jti?: string; document_id?: string; user_id?: string; iat?: number; exp?: number }): TokenFacts {
  return { tokenHash: sha256(token), jti: claims.jti, documentId: claims.document_id ?? 'doc-x', userId: claims.user_id, iat: claims.iat, exp: claims.exp ?? nowSeconds() + 600 }
}

for (const db of dbKinds()) {
  describe(`JWT revocation over the server API (${db})`, () => {
    let f: TestFolio
    const call = (method: string, path: string, json?: unknown): Promise<JsonResponse> =>
      request(`${f.url}/api${path}`, { method, headers: authHeader(), json })
    const revoked = (t: TokenFacts) => f.app.revocationCheck.isRevoked(t)

    before(async () => {
      f = await startFolio({ db })
    })
    after(async () => {
      await f.destroy()
    })

    test('a token revocation covers exactly that token until its exp (+ clock tolerance); the token itself is never stored or shown', async () => {
      const exp = nowSeconds() + 600
      const claims = { document_id: 'doc-a', exp, iat: nowSeconds() }
      const token = fakeJwt(claims)
      const other = fakeJwt({ ...claims, iat: claims.iat - 1 })
      assert.equal(revoked(factsOf(token, claims)), false)
      const res = await call('POST', '/jwt/revocations', { token })
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.expiresAt, new Date((exp + TOL) * 1000).toISOString())
      assert.equal(res.body.data.tokenSha256, sha256(token))
      assert.ok(!res.text.includes(token))
      assert.equal(revoked(factsOf(token, claims)), true, 'in effect when the request returns')
      assert.equal(revoked(factsOf(other, claims)), false)
      const rows = JSON.stringify(await f.app.db.query('select * from revocations'))
      assert.ok(!rows.includes(token.split('.')[1]!), 'only the digest is stored')
    })

    test('a jti revocation covers every token with that jti, for creation + JWT_MAX_LIFETIME', async () => {
      const res = await call('POST', '/jwt/revocations', { jti: 'jti-1' })
      assert.equal(res.status, 200, res.text)
      const expiresAt = Date.parse(res.body.data.expiresAt)
      assert.ok(Math.abs(expiresAt - (Date.now() + (MAX + TOL) * 1000)) < 60_000)
      assert.equal(revoked(factsOf('t1', { jti: 'jti-1' })), true)
      assert.equal(revoked(factsOf('t2', { jti: 'jti-1', document_id: 'another' })), true)
      assert.equal(revoked(factsOf('t3', { jti: 'jti-2' })), false)
    })

    test('a document_id or user_id revocation covers tokens issued before issuedBefore (default now) and tokens without iat', async () => {
      const issuedBefore = new Date(Date.now() - 60_000).toISOString()
      const d = await call('POST', '/jwt/revocations', { document_id: 'doc-b', issuedBefore })
      assert.equal(d.status, 200, d.text)
      assert.equal(d.body.data.issuedBefore, issuedBefore)
      assert.equal(d.body.data.expiresAt, new Date(Date.parse(issuedBefore) + (MAX + TOL) * 1000).toISOString())
      const t = Date.parse(issuedBefore) / 1000
      assert.equal(revoked(factsOf('a', { document_id: 'doc-b', iat: t - 10 })), true)
      assert.equal(revoked(factsOf('b', { document_id: 'doc-b', iat: t + 10 })), false, 'issued after: a fresh token works')
      assert.equal(revoked(factsOf('c', { document_id: 'doc-b' })), true, 'no iat: refused')

      const u = await call('POST', '/jwt/revocations', { user_id: 'user-1' })
      assert.equal(u.status, 200, u.text)
      assert.equal(revoked(factsOf('d', { user_id: 'user-1', iat: nowSeconds() - 5 })), true)
      assert.equal(revoked(factsOf('e', { user_id: 'user-2', iat: nowSeconds() - 5 })), false)
    })

    test('malformed revocations are refused with a code', async () => {
      const future = new Date(Date.now() + 3600_000).toISOString()
      for (const [body, status, code] of [
        [{}, 400, 'invalid_revocation'],
        [{ jti: 'a', user_id: 'b' }, 400, 'invalid_revocation'],
        [{ jti: 'a', issuedBefore: new Date().toISOString() }, 400, 'invalid_revocation'],
        [{ user_id: 'u', issuedBefore: future }, 400, 'invalid_revocation'],
        [{ user_id: 'u', issuedBefore: 'yesterday' }, 400, 'invalid_revocation'],
        [{ jti: '' }, 400, 'invalid_revocation'],
        [{ document_id: '../x' }, 400, 'invalid_document_id'],
        [{ token: 'not-a-jwt' }, 422, 'malformed_jwt'],
        [{ token: 'a'.repeat(9000) }, 400, 'bad_request'],
        [{ jti: 'a', extra: true }, 400, 'bad_request'],
      ] as const) {
        assertError(await call('POST', '/jwt/revocations', body), status, code)
      }
    })

    test('listing shows the active revocations; lifting one ends it on the spot, and a second lift is 404', async () => {
      const list = await call('GET', '/jwt/revocations')
      assert.equal(list.status, 200, list.text)
      const items = list.body.data.revocations
      assert.equal(items.length, f.app.revocations.size())
      const jti = items.find((r: { jti?: string }) => r.jti === 'jti-1')
      assert.ok(jti && jti.expiresAt && jti.createdAt)
      assert.equal((await call('DELETE', `/jwt/revocations/${jti.id}`)).status, 200)
      assert.equal(revoked(factsOf('t1', { jti: 'jti-1' })), false)
      assertError(await call('DELETE', `/jwt/revocations/${jti.id}`), 404, 'revocation_not_found')
      assertError(await call('DELETE', '/jwt/revocations/abc'), 404, 'revocation_not_found')
      assert.ok(!(await call('GET', '/jwt/revocations')).body.data.revocations.some((r: { id: number }) => r.id === jti.id))
    })

    test('POST /api/revoke revokes each token by its jti, or by itself without one, and answers the revoked tokens', async () => {
      const exp = nowSeconds() + 120
      const withJti = fakeJwt({ document_id: 'doc-c', jti: 'shared-jti', exp })
      const withoutJti = fakeJwt({ document_id: 'doc-c', exp })
      const res = await call('POST', '/revoke', { jwts: [withJti, 'garbage', withoutJti] })
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(res.body.data, [withJti, withoutJti])
      assert.equal(res.body.result, 'partial_failure')
      assert.deepEqual(res.body.failingPaths.map((p: { path: string }) => p.path), ['$.jwts[1]'])
      assert.equal(revoked(factsOf('another token sharing the jti', { jti: 'shared-jti' })), true)
      assert.equal(revoked(factsOf(withoutJti, { document_id: 'doc-c', exp })), true)
      assert.equal(revoked(factsOf('other', { document_id: 'doc-c', exp })), false)
      const list = (await call('GET', '/jwt/revocations')).body.data.revocations
      const j = list.find((r: { jti?: string }) => r.jti === 'shared-jti')
      assert.ok(Date.parse(j.expiresAt) >= Date.now() + MAX * 1000 - 60_000, 'a jti revocation outlives the one token: others share the jti')
      assert.equal((await call('POST', '/revoke', { jwts: [] })).body.result, 'success')
      assertError(await call('POST', '/revoke', {}), 400, 'bad_request')
    })

    test('expired revocations cover nothing and are pruned from the database and memory', async () => {
      const token = fakeJwt({ document_id: 'doc-d', exp: nowSeconds() - 3600 })
      const res = await call('POST', '/jwt/revocations', { token })
      assert.equal(res.status, 200)
      assert.ok(Date.parse(res.body.data.expiresAt) < Date.now(), 'kept no longer than the token could be valid')
      const before = (await f.app.db.query<{ n: number }>('select count(*)::int as n from revocations'))[0]!.n
      const pruned = await f.app.revocations.prune()
      assert.equal(pruned, 1)
      assert.equal((await f.app.db.query<{ n: number }>('select count(*)::int as n from revocations'))[0]!.n, before - 1)
      assertError(await call('DELETE', `/jwt/revocations/${res.body.data.id}`), 404, 'revocation_not_found')
      const audit = (await call('GET', '/audit?action=revocation.prune')).body.data
      assert.equal(audit[0].details.count, 1)
    })

    test('every revocation and lift is in the audit log with the API token that made it', async () => {
      const res = await call('GET', '/audit?limit=1000')
      const adds = res.body.data.filter((e: { action: string }) => e.action === 'revocation.add')
      const lifts = res.body.data.filter((e: { action: string }) => e.action === 'revocation.lift')
      assert.ok(adds.length >= 7)
      assert.equal(lifts.length, 1)
      assert.ok(adds.every((e: { actor: { type: string }; targetId: number }) => e.actor.type === 'api_auth_token' && e.targetId > 0))
      assert.ok(adds.some((e: { details: { jti?: string } }) => e.details.jti === 'shared-jti'))
    })

    test('after a restart the in-memory index is rebuilt from the database', async () => {
      const count = f.app.revocations.size()
      f = await f.restart()
      assert.equal(f.app.revocations.size(), count)
      assert.equal(revoked(factsOf('x', { jti: 'shared-jti' })), true)
    })
  })
}
