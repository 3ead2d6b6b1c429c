/**
 * The client annotation routes (spec §7, issue #5 §3): scoped to the JWT's layer, attributed to
 * its user_id, guarded by its permissions.
 *
 * Until the JWT surface (issue #3) is merged, the routes are mounted here, with Folio's own
 * error handler, validation and media-type check, in a scope whose hook takes the Grant from a
 * test header instead of a verified JWT. Everything behind the Grant is the real Folio (same
 * database, same annotation service). After the merge these cases move onto real tokens.
 */
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { after, before, describe, test } from 'node:test'
import { FolioError } from '../../../src/errors.js'
import { registerClientAnnotationRoutes, type ClientGrant } from '../../../src/http/client/annotations.js'
import { createErrorHandler } from '../../../src/http/error-handler.js'
import { checkMediaType } from '../../../src/http/media.js'
import { validatorCompiler } from '../../../src/http/validation.js'
import { highlightAt } from '../../helpers/annotation-samples.js'
import { assertError, request } from '../../helpers/http.js'
import { makePdf } from '../../helpers/pdf-fixtures.js'
import { openSse } from '../../helpers/sse.js'
import { authHeader, startFolio, type TestFolio } from '../../helpers/start-folio.js'

const grants = new WeakMap<FastifyRequest, ClientGrant>()

async function clientHarness(f: TestFolio): Promise<{ url: string; app: FastifyInstance }> {
  const app = Fastify()
  app.setValidatorCompiler(validatorCompiler)
  app.setErrorHandler(createErrorHandler(1024 * 1024))
  app.addHook('preParsing', async (req) => checkMediaType(req))
  const grantOf = (req: FastifyRequest) => {
    const g = grants.get(req)
    if (!g) throw new FolioError('forbidden')
    return g
  }
  for (const [prefix, inner] of [['/i', '/d/:documentId'], ['/documents', '/:documentId']] as const) {
    await app.register(async (scope) => {
      // Stand-in for issue #3's JWT hook: the grant a verified token would carry.
      scope.addHook('onRequest', async (req) => {
        const header = req.headers['x-test-grant']
        if (typeof header === 'string') grants.set(req, JSON.parse(header) as ClientGrant)
      })
      registerClientAnnotationRoutes(scope, { annotations: f.app.annotations, grantOf }, inner)
    }, { prefix })
  }
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, app }
}

describe('client annotation routes', () => {
  let f: TestFolio
  let client: { url: string; app: FastifyInstance }
  const asClient = (grant: ClientGrant, method: string, path: string, json?: unknown) =>
    request(`${client.url}${path}`, { method, headers: { 'x-test-grant': JSON.stringify(grant) }, json })
  const api = (method: string, path: string, json?: unknown) => request(`${f.url}/api${path}`, { method, headers: authHeader(), json })

  before(async () => {
    f = await startFolio({ db: 'pglite' })
    client = await clientHarness(f)
    const res = await request(`${f.url}/api/documents?document_id=cdoc`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: makePdf() })
    assert.equal(res.status, 200)
    await request(`${f.url}/api/documents?document_id=other`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: makePdf() })
  })
  after(async () => {
    await client.app.close()
    await f.destroy()
  })

  const writer: ClientGrant = { documentId: 'cdoc', permissions: ['read-document', 'write', 'download'], layer: 'alice-layer', userId: 'alice' }

  test("writes land in the token's layer and are attributed to its user_id, whatever the body says", async () => {
    const created = await asClient(writer, 'POST', '/i/d/cdoc/annotations', { id: 'c1', content: highlightAt(0, 10), user_id: 'mallory' })
    assert.equal(created.status, 200, created.text)
    assert.equal(created.body.data.createdBy, 'alice')
    const inLayer = await api('GET', '/documents/cdoc/layers/alice-layer/annotations/c1')
    assert.equal(inLayer.status, 200, 'the write is in the layer the token names')
    assertError(await api('GET', '/documents/cdoc/annotations/c1'), 404, 'annotation_not_found')

    const bob: ClientGrant = { ...writer, userId: 'bob' }
    const updated = await asClient(bob, 'PUT', '/documents/cdoc/annotations/c1', { content: highlightAt(0, 20) })
    assert.equal(updated.status, 200, updated.text)
    assert.deepEqual([updated.body.data.createdBy, updated.body.data.updatedBy, updated.body.data.version], ['alice', 'bob', 2])
    assertError(await asClient(bob, 'PUT', '/documents/cdoc/annotations/c1', { content: highlightAt(0, 30), version: 1 }), 409, 'annotation_version_conflict')
    const anonymous = await asClient({ ...writer, userId: undefined }, 'POST', '/i/d/cdoc/annotations', { content: highlightAt(0, 40) })
    assert.equal(anonymous.body.data.createdBy, null)
  })

  test("reads see only the token's layer (the default layer when the token names none)", async () => {
    await api('POST', '/documents/cdoc/annotations', { id: 'in-default', content: highlightAt(0, 10) })
    const reader: ClientGrant = { documentId: 'cdoc', permissions: ['read-document'] }
    const list = await asClient(reader, 'GET', '/i/d/cdoc/annotations')
    assert.deepEqual(list.body.data.annotations.map((a: { id: string }) => a.id), ['in-default'])
    const layered = await asClient({ ...reader, layer: 'alice-layer' }, 'GET', '/documents/cdoc/annotations')
    assert.ok(!layered.body.data.annotations.some((a: { id: string }) => a.id === 'in-default'))
    assertError(await asClient({ ...reader, layer: 'alice-layer' }, 'GET', '/i/d/cdoc/annotations/in-default'), 404, 'annotation_not_found')
  })

  test('each route needs its permission and the token\'s document: 403 forbidden otherwise', async () => {
    const readOnly: ClientGrant = { documentId: 'cdoc', permissions: ['read-document'] }
    assertError(await asClient(readOnly, 'POST', '/i/d/cdoc/annotations', { content: highlightAt(0, 10) }), 403, 'forbidden')
    assertError(await asClient(readOnly, 'DELETE', '/i/d/cdoc/annotations', { annotationIds: 'all' }), 403, 'forbidden')
    assertError(await asClient(readOnly, 'GET', '/i/d/cdoc/pdf'), 403, 'forbidden')
    assertError(await asClient({ documentId: 'cdoc', permissions: ['write'] }, 'GET', '/i/d/cdoc/annotations'), 403, 'forbidden')
    assertError(await asClient(writer, 'GET', '/i/d/other/annotations'), 403, 'forbidden')
    assertError(await asClient(writer, 'POST', '/documents/other/annotations', { content: highlightAt(0, 10) }), 403, 'forbidden')
  })

  test("the pdf route writes the token's layer into the PDF; events stream the token's layer", async () => {
    const pdf = await fetch(`${client.url}/i/d/cdoc/pdf`, { headers: { 'x-test-grant': JSON.stringify(writer) } })
    assert.equal(pdf.status, 200)
    const bytes = Buffer.from(await pdf.arrayBuffer())
    assert.ok(bytes.toString('latin1').includes('/NM(c1)'), 'the layer annotation is written (parsed checks: annotation-pdf.test.ts)')

    const events = await openSse(`${client.url}/documents/cdoc/events`, { 'x-test-grant': JSON.stringify({ ...writer, permissions: ['read-document'] }) })
    try {
      await events.waitFor(1)
      await api('POST', '/documents/cdoc/annotations', { id: 'not-mine', content: highlightAt(0, 50) })
      await asClient(writer, 'POST', '/i/d/cdoc/annotations', { id: 'mine', content: highlightAt(0, 60) })
      await events.waitFor(2)
      assert.deepEqual(events.events.slice(1).map((e) => e.data.annotationId), ['mine'])
    } finally {
      events.close()
    }
  })
})
