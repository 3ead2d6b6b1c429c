/**
 * The client surfaces (spec §7), against a real Folio on both databases: every client route ×
 * (no token, bad token, the API token, right document with each permission set, another
 * document, a document that does not exist) gives exactly the expected status and code, on both
 * mounts; `/api` never accepts a JWT; no log line contains a token.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { assertNoTokenInLogs, claimsFor, keyPair, signToken } from '../../helpers/jwt.js'
import { assertError, request } from '../../helpers/http.js'
import { makePdf } from '../../helpers/pdf-fixtures.js'
import { authHeader, dbKinds, startFolio, TEST_API_TOKEN, type TestFolio } from '../../helpers/start-folio.js'

const DOC = 'client-doc'
const OTHER = 'client-other'

/** Each route with the permissions that open it, any one of them (spec §7 table). */
const ROUTES: Array<{ path: (id: string) => string; needs: string[] }> = [
  { path: (id) => `/i/d/${id}/document_info`, needs: ['read-document'] },
  { path: (id) => `/documents/${id}/document_info`, needs: ['read-document'] },
  { path: (id) => `/i/d/${id}/pdf`, needs: ['download'] },
  { path: (id) => `/documents/${id}/pdf`, needs: ['download'] },
  { path: (id) => `/i/d/${id}/pages/0/image?width=100`, needs: ['read-document'] },
  { path: (id) => `/documents/${id}/pages/1/image?height=80&format=jpeg`, needs: ['read-document'] },
  { path: (id) => `/i/d/${id}/pages/0/text`, needs: ['read-document'] },
  { path: (id) => `/documents/${id}/pages/0/text`, needs: ['read-document'] },
  { path: (id) => `/documents/${id}/cover?width=120`, needs: ['cover-image', 'read-document'] },
]

const PERMISSION_SETS = [[], ['read-document'], ['download'], ['write'], ['cover-image'], ['read-document', 'write', 'download', 'cover-image']]

for (const db of dbKinds()) {
  describe(`client surfaces /i and /documents (${db})`, () => {
    let f: TestFolio
    const pdf = makePdf({ pages: [{ width: 612, height: 792 }, { width: 300, height: 400, rotate: 90 }] })
    const pair = keyPair('ES256')
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

    before(async () => {
      f = await startFolio({ db, env: { JWT_PUBLIC_KEY: pair.publicPem, JWT_ALGORITHM: 'ES256', LOG_LEVEL: 'debug' } })
      for (const id of [DOC, OTHER]) {
        const res = await request(`${f.url}/api/documents?document_id=${id}&title=Client`, {
          method: 'POST',
          headers: { ...authHeader(), 'content-type': 'application/pdf' },
          body: pdf,
        })
        assert.equal(res.status, 200, res.text)
      }
    })
    after(async () => {
      await f.destroy()
    })

    test('the permissions matrix: each route × each credential gives exactly the expected answer', async () => {
      const otherDocToken = await signToken(claimsFor(OTHER, ['read-document', 'write', 'download', 'cover-image']), pair)
      const credentials: Array<{ name: string; headers: Record<string, string>; expect: (needs: string[]) => [number, string | null] }> = [
        { name: 'no token', headers: {}, expect: () => [401, 'invalid_token'] },
        { name: 'a bad token', headers: bearer('not.a.token'), expect: () => [401, 'invalid_token'] },
        { name: 'the API token', headers: authHeader(), expect: () => [401, 'invalid_token'] },
        { name: 'the API token as Bearer', headers: bearer(TEST_API_TOKEN), expect: () => [401, 'invalid_token'] },
        { name: 'a token for another document', headers: bearer(otherDocToken), expect: () => [403, 'forbidden'] },
      ]
      for (const perms of PERMISSION_SETS) {
        credentials.push({
          name: `permissions [${perms.join(', ')}]`,
          headers: bearer(await signToken(claimsFor(DOC, perms), pair)),
          expect: (needs) => (perms.some((p) => needs.includes(p)) ? [200, null] : [403, 'forbidden']),
        })
      }
      for (const route of ROUTES) {
        for (const c of credentials) {
          const res = await request(`${f.url}${route.path(DOC)}`, { headers: c.headers })
          const [status, code] = c.expect(route.needs)
          assert.equal(res.status, status, `${route.path(DOC)} with ${c.name}: ${res.text.slice(0, 200)}`)
          if (code) assert.equal(res.body?.error?.code, code, `${route.path(DOC)} with ${c.name}`)
        }
      }
    })

    test('the cover takes the JWT as ?jwt= (for an <img>) and is a PNG of the first page; no other route takes ?jwt=', async () => {
      const token = await signToken(claimsFor(DOC, ['cover-image']), pair)
      const res = await fetch(`${f.url}/documents/${DOC}/cover?width=150&jwt=${token}`)
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'image/png')
      const png = Buffer.from(await res.arrayBuffer())
      assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG')
      assert.equal(png.readUInt32BE(16), 150, 'width as asked')
      assert.equal(png.readUInt32BE(20), Math.round((150 * 792) / 612), 'height from the first page (612×792)')
      const readToken = await signToken(claimsFor(DOC, ['read-document']), pair)
      for (const path of [`/documents/${DOC}/document_info`, `/i/d/${DOC}/pages/0/image?width=50`, `/documents/${DOC}/pages/0/image?width=50`]) {
        assertError(await request(`${f.url}${path}${path.includes('?') ? '&' : '?'}jwt=${readToken}`), 401, 'invalid_token')
      }
      assertError(await request(`${f.url}/i/d/${DOC}/cover?jwt=${token}`), 401, 'invalid_token')
      assertError(await request(`${f.url}/documents/${DOC}/cover?jwt=${await signToken(claimsFor(DOC, ['download']), pair)}`), 403, 'forbidden')
    })

    test('document_info answers the same JSON on both mounts as on /api', async () => {
      const token = await signToken(claimsFor(DOC, ['read-document']), pair)
      const api = await request(`${f.url}/api/documents/${DOC}/document_info`, { headers: authHeader() })
      for (const path of [`/i/d/${DOC}/document_info`, `/documents/${DOC}/document_info`]) {
        const res = await request(`${f.url}${path}`, { headers: bearer(token) })
        assert.equal(res.status, 200)
        assert.deepEqual(res.body, api.body)
      }
      assert.equal(api.body.data.pageCount, 2)
    })

    test('pdf with download gives the file itself, byte-identical, with ranges', async () => {
      const token = await signToken(claimsFor(DOC, ['download']), pair)
      for (const path of [`/i/d/${DOC}/pdf`, `/documents/${DOC}/pdf`]) {
        const res = await fetch(`${f.url}${path}`, { headers: bearer(token) })
        assert.equal(res.status, 200)
        assert.equal(res.headers.get('content-type'), 'application/pdf')
        assert.ok(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(pdf)), "byte-identical")
        const part = await fetch(`${f.url}${path}`, { headers: { ...bearer(token), range: 'bytes=0-4' } })
        assert.equal(part.status, 206)
        assert.equal(await part.text(), '%PDF-')
      }
    })

    test('a token for a document that does not exist: 404 document_not_found (only after the grant check)', async () => {
      const token = await signToken(claimsFor('ghost-doc', ['read-document', 'download']), pair)
      assertError(await request(`${f.url}/documents/ghost-doc/document_info`, { headers: bearer(token) }), 404, 'document_not_found')
      assertError(await request(`${f.url}/i/d/ghost-doc/pdf`, { headers: bearer(token) }), 404, 'document_not_found')
      // Probing another id with this token says nothing about whether it exists.
      assertError(await request(`${f.url}/documents/${DOC}/document_info`, { headers: bearer(token) }), 403, 'forbidden')
      assertError(await request(`${f.url}/documents/..%2F${DOC}/document_info`, { headers: bearer(token) }), 403, 'forbidden')
    })

    test('a refusal names its reason; missing permission and other document are told apart', async () => {
      const noToken = await request(`${f.url}/documents/${DOC}/document_info`)
      assertError(noToken, 401, 'invalid_token')
      assert.equal(noToken.body.error.reason, 'missing_token')
      assert.match(noToken.headers.get('www-authenticate') ?? '', /^Bearer realm="folio"/)
      const expired = await signToken(claimsFor(DOC, ['read-document'], { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 }), pair)
      const e = await request(`${f.url}/documents/${DOC}/document_info`, { headers: bearer(expired) })
      assertError(e, 401, 'invalid_token')
      assert.equal(e.body.error.reason, 'expired')
      const other = await request(`${f.url}/documents/${OTHER}/pdf`, { headers: bearer(await signToken(claimsFor(DOC, ['download']), pair)) })
      assertError(other, 403, 'forbidden')
      assert.equal(other.body.error.reason, 'other_document')
      const perm = await request(`${f.url}/documents/${DOC}/pdf`, { headers: bearer(await signToken(claimsFor(DOC, ['read-document']), pair)) })
      assertError(perm, 403, 'forbidden')
      assert.deepEqual([perm.body.error.reason, perm.body.error.required], ['missing_permission', ['download']])
    })

    test('the token is taken only from Authorization: Bearer (not ?jwt= on these routes, not a cookie)', async () => {
      const token = await signToken(claimsFor(DOC, ['read-document']), pair)
      assertError(await request(`${f.url}/documents/${DOC}/document_info?jwt=${token}`), 401, 'invalid_token')
      assertError(await request(`${f.url}/documents/${DOC}/document_info`, { headers: { cookie: `jwt=${token}` } }), 401, 'invalid_token')
      assertError(await request(`${f.url}/documents/${DOC}/document_info`, { headers: { authorization: `Token token="${token}"` } }), 401, 'invalid_token')
    })

    test('/api never accepts a JWT, even a valid one for the document', async () => {
      const token = await signToken(claimsFor(DOC, ['read-document', 'write', 'download', 'cover-image']), pair)
      for (const path of [`/api/documents/${DOC}/document_info`, `/api/documents/${DOC}/pdf`, '/api/documents']) {
        assertError(await request(`${f.url}${path}`, { headers: bearer(token) }), 401, 'unauthorized')
      }
    })

    test('unknown paths under /i and /documents: 401 without a token, 404 after a valid one', async () => {
      const token = await signToken(claimsFor(DOC, ['read-document']), pair)
      for (const path of ['/i/nothing', `/i/d/${DOC}/nothing`, `/documents/${DOC}/nothing`, '/documents', `/i/d/${DOC}/cover?width=100`]) {
        assertError(await request(`${f.url}${path}`), 401, 'invalid_token')
        assertError(await request(`${f.url}${path}`, { headers: bearer(token) }), 404, 'not_found')
      }
    })

    test('the OpenAPI document lists both mounts with their own operation ids and the JWT scheme', async () => {
      const doc = (await request(`${f.url}/api/openapi.json`)).body
      const op = (path: string) => doc.paths[path]?.get
      assert.equal(op('/documents/{documentId}/document_info')?.operationId, 'client-fetch-document-info')
      assert.equal(op('/i/d/{documentId}/document_info')?.operationId, 'internal-fetch-document-info')
      assert.equal(op('/documents/{documentId}/pdf')?.operationId, 'client-download-document-pdf')
      assert.deepEqual(op('/documents/{documentId}/pdf')?.security, [{ JWT: [] }])
      assert.equal(doc.paths['/api/jwt/validate']?.post?.operationId, 'validate-jwt')
    })

    test('no log line contains a token or a signature', () => {
      assert.ok(f.logs.length > 20)
      assertNoTokenInLogs(f.logs)
    })
  })
}

