/**
 * The client annotation routes (spec §7, issue #5 §3), on the real JWT surfaces `/i/d/:id` and
 * `/documents/:id`: scoped to the JWT's layer, attributed to its user_id, guarded by its
 * permissions. Every request carries a real token signed for the grant it describes.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { highlightAt } from '../../helpers/annotation-samples.js'
import { assertError, request } from '../../helpers/http.js'
import { claimsFor, keyPair, signToken } from '../../helpers/jwt.js'
import { makePdf } from '../../helpers/pdf-fixtures.js'
import { openSse } from '../../helpers/sse.js'
import { authHeader, startFolio, type TestFolio } from '../../helpers/start-folio.js'

/** What a token grants (spec §2 claims), as these tests describe it. */
interface ClientGrant {
  documentId: string
  permissions: readonly string[]
  layer?: string
  userId?: string
}

const pair = keyPair('ES256')

async function bearerFor(g: ClientGrant): Promise<Record<string, string>> {
  const extra: Record<string, unknown> = {}
  if (g.layer !== undefined) extra.layer = g.layer
  if (g.userId !== undefined) extra.user_id = g.userId
  return { authorization: `Bearer ${await signToken(claimsFor(g.documentId, [...g.permissions], extra), pair)}` }
}

describe('client annotation routes', () => {
  let f: TestFolio
  const asClient = async (grant: ClientGrant, method: string, path: string, json?: unknown) =>
    request(`${f.url}${path}`, { method, headers: await bearerFor(grant), json })
  const api = (method: string, path: string, json?: unknown) => request(`${f.url}/api${path}`, { method, headers: authHeader(), json })

  before(async () => {
    f = await startFolio({ db: 'pglite', env: { JWT_PUBLIC_KEY: pair.publicPem, JWT_ALGORITHM: 'ES256' } })
    const res = await request(`${f.url}/api/documents?document_id=cdoc`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: makePdf() })
    assert.equal(res.status, 200)
    await request(`${f.url}/api/documents?document_id=other`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: makePdf() })
  })
  after(async () => {
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
    const pdf = await fetch(`${f.url}/i/d/cdoc/pdf`, { headers: await bearerFor(writer) })
    assert.equal(pdf.status, 200)
    const bytes = Buffer.from(await pdf.arrayBuffer())
    assert.ok(bytes.toString('latin1').includes('/NM(c1)'), 'the layer annotation is written (parsed checks: annotation-pdf.test.ts)')

    const events = await openSse(`${f.url}/documents/cdoc/events`, await bearerFor({ ...writer, permissions: ['read-document'] }))
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
