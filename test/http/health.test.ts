import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { assertError, request } from '../helpers/http.js'
import { dbKinds, startFolio, type TestFolio } from '../helpers/start-folio.js'

for (const db of dbKinds()) {
  describe(`health and the OpenAPI document (${db})`, () => {
    let f: TestFolio
    before(async () => {
      f = await startFolio({ db })
    })
    after(async () => {
      await f.destroy()
    })

    test('GET /healthcheck is 200 {"status":"ok"} without a credential and says nothing else', async () => {
      const res = await request(`${f.url}/healthcheck`)
      assert.equal(res.status, 200)
      assert.deepEqual(res.body, { status: 'ok' })
    })

    test('GET /api/openapi.json is OpenAPI 3.1 with Document Engine operation ids, readable without a credential', async () => {
      const res = await request(`${f.url}/api/openapi.json`)
      assert.equal(res.status, 200)
      assert.equal(res.body.openapi, '3.1.0')
      const ops = new Map<string, string>()
      for (const [path, item] of Object.entries<any>(res.body.paths)) {
        for (const [method, op] of Object.entries<any>(item)) ops.set(op.operationId, `${method.toUpperCase()} ${path}`)
      }
      assert.equal(ops.get('upload-document'), 'POST /api/documents')
      assert.equal(ops.get('list-documents'), 'GET /api/documents')
      assert.equal(ops.get('bulk-delete-documents'), 'DELETE /api/documents')
      assert.equal(ops.get('fetch-document-info'), 'GET /api/documents/{documentId}/document_info')
      assert.equal(ops.get('fetch-document-properties'), 'GET /api/documents/{documentId}/properties')
      assert.equal(ops.get('delete-document'), 'DELETE /api/documents/{documentId}')
      assert.equal(ops.get('download-document-pdf'), 'GET /api/documents/{documentId}/pdf')
      assert.equal(ops.get('render-document-page'), 'GET /api/documents/{documentId}/pages/{pageIndex}/image')
      assert.equal(ops.get('get-document-page-text'), 'GET /api/documents/{documentId}/pages/{pageIndex}/text')
      assert.ok(!('/api/openapi.json' in res.body.paths), 'the document does not list itself')
    })

    test('GET /api/upstream.yml is the same document as YAML', async () => {
      const res = await fetch(`${f.url}/api/upstream.yml`)
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type') ?? '', /yaml/)
      const text = await res.text()
      assert.match(text, /^openapi: 3\.1\.0$/m)
      assert.match(text, /operationId: upload-document/)
    })

    test('unknown paths are 404 not_found in the JSON error format; /dashboard is off', async () => {
      for (const path of ['/nope', '/dashboard', '/dashboard/secrets']) {
        assertError(await request(`${f.url}${path}`), 404, 'not_found')
      }
      // The client surfaces check the JWT first (issue #3), like /api checks its token.
      assertError(await request(`${f.url}/i/d/x/document_info`), 401, 'invalid_token')
    })
  })
}
