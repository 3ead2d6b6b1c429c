/**
 * Annotations and layers over the server API (spec §3, issue #5), against a real Folio over
 * HTTP, on the embedded database and on the real PostgreSQL.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { SAMPLES, highlightAt } from '../../helpers/annotation-samples.js'
import { assertError, request, type JsonResponse } from '../../helpers/http.js'
import { makePdf } from '../../helpers/pdf-fixtures.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'

type Json = Record<string, unknown>

for (const db of dbKinds()) {
  describe(`annotations over the server API (${db})`, () => {
    let f: TestFolio
    let n = 0
    const call = (method: string, path: string, json?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> =>
      request(`${f.url}/api${path}`, { method, headers: { ...authHeader(), ...headers }, json })
    const rows = async (documentId: string) =>
      Number((await f.app.db.query<{ n: number }>('select count(*)::int as n from annotations where document_id = $1', [documentId]))[0]!.n)
    async function newDocument(pages = 2): Promise<string> {
      const id = `doc-${++n}`
      const res = await request(`${f.url}/api/documents?document_id=${id}`, {
        method: 'POST',
        headers: { ...authHeader(), 'content-type': 'application/pdf' },
        body: makePdf({ pages: Array.from({ length: pages }, () => ({})) }),
      })
      assert.equal(res.status, 200, res.text)
      return id
    }

    before(async () => {
      f = await startFolio({ db })
    })
    after(async () => {
      await f.destroy()
    })

    for (const [name, sample] of Object.entries(SAMPLES)) {
      test(`a ${name} annotation is created, read back equal, replaced with its version, and deleted`, async () => {
        const doc = await newDocument()
        const created = await call('POST', `/documents/${doc}/annotations`, { content: sample, user_id: 'alice', group: 'g1' })
        assert.equal(created.status, 200, created.text)
        const rec = created.body.data
        assert.equal(rec.annotation_id, rec.id)
        assert.deepEqual({ createdBy: rec.createdBy, updatedBy: rec.updatedBy, group: rec.group, version: rec.version }, { createdBy: 'alice', updatedBy: 'alice', group: 'g1', version: 1 })

        const got = await call('GET', `/documents/${doc}/annotations/${rec.id}`)
        assert.equal(got.status, 200)
        assert.deepEqual(got.body.data.content, sample)
        assert.equal(got.headers.get('etag'), '"1"')

        const changed = { ...sample, bbox: [10, 20, 30, 40], opacity: 0.5 }
        const put = await call('PUT', `/documents/${doc}/annotations/${rec.id}`, { content: changed, user_id: 'bob' }, { 'if-match': '"1"' })
        assert.equal(put.status, 200, put.text)
        assert.deepEqual({ v: put.body.data.version, c: put.body.data.createdBy, u: put.body.data.updatedBy, g: put.body.data.group }, { v: 2, c: 'alice', u: 'bob', g: 'g1' })
        assert.deepEqual((await call('GET', `/documents/${doc}/annotations/${rec.id}`)).body.data.content, changed)

        assert.equal((await call('DELETE', `/documents/${doc}/annotations/${rec.id}`)).status, 200)
        assertError(await call('GET', `/documents/${doc}/annotations/${rec.id}`), 404, 'annotation_not_found')
        assert.equal(await rows(doc), 0)
      })
    }

    test('a batch of every type is listed back equal, in creation order, with truncated false', async () => {
      const doc = await newDocument()
      const items = Object.values(SAMPLES).map((content, i) => ({ id: `a${i}`, content }))
      const res = await call('POST', `/documents/${doc}/annotations`, { annotations: items })
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.length, items.length)
      const list = await call('GET', `/documents/${doc}/annotations`)
      assert.equal(list.body.data.truncated, false)
      const byId = new Map(list.body.data.annotations.map((a: Json) => [a.id, a.content]))
      for (const item of items) assert.deepEqual(byId.get(item.id), item.content)
    })

    test('one invalid item refuses the whole batch with 422, its path and reason, and writes nothing', async () => {
      const doc = await newDocument()
      const annotations = [0, 1, 2, 3].map((i) => ({ content: highlightAt(0, 100 + i * 20) }))
      ;(annotations[3]!.content as Json).bbox = [1, 2, 'three', 4]
      const res = await call('POST', `/documents/${doc}/annotations`, { annotations })
      assertError(res, 422, 'invalid_annotation')
      assert.equal(res.body.error.path, '$.annotations[3].content.bbox[2]')
      assert.equal(res.body.error.reason, 'wrong_type')
      assert.equal(await rows(doc), 0)
    })

    test('a pageIndex beyond the document is refused with page_out_of_range', async () => {
      const doc = await newDocument(2)
      const res = await call('POST', `/documents/${doc}/annotations`, { content: highlightAt(2, 100) })
      assertError(res, 422, 'invalid_annotation')
      assert.equal(res.body.error.reason, 'page_out_of_range')
      assert.equal(res.body.error.path, '$.content.pageIndex')
    })

    test('more than 1000 annotations in one request is refused with too_many_annotations', async () => {
      const doc = await newDocument()
      const res = await call('POST', `/documents/${doc}/annotations`, { annotations: Array.from({ length: 1001 }, () => ({ content: highlightAt(0, 10) })) })
      assertError(res, 422, 'too_many_annotations')
      assert.equal(res.body.error.limit, 1000)
      assert.equal(await rows(doc), 0)
    })

    test('a content that is not an object, or a missing body field, is a 400 or 422 with a code', async () => {
      const doc = await newDocument()
      assertError(await call('POST', `/documents/${doc}/annotations`, { content: 'highlight' }), 400, 'bad_request')
      assertError(await call('POST', `/documents/${doc}/annotations`, {}), 422, 'invalid_annotation')
      assertError(await call('DELETE', `/documents/${doc}/annotations`, { annotationIds: 'some' }), 400, 'bad_request')
      assertError(await call('POST', `/documents/${doc}/annotations`, { id: '../x', content: highlightAt(0, 1) }), 422, 'invalid_annotation')
    })

    test('an id that exists refuses the whole batch with 409 annotation_exists', async () => {
      const doc = await newDocument()
      assert.equal((await call('POST', `/documents/${doc}/annotations`, { id: 'taken', content: highlightAt(0, 10) })).status, 200)
      const res = await call('POST', `/documents/${doc}/annotations`, { annotations: [{ id: 'fresh', content: highlightAt(0, 30) }, { id: 'taken', content: highlightAt(0, 50) }] })
      assertError(res, 409, 'annotation_exists')
      assert.deepEqual(res.body.error.annotationIds, ['taken'])
      assertError(await call('GET', `/documents/${doc}/annotations/fresh`), 404, 'annotation_not_found')
    })

    test('a stale version gets 409 with the current version and changes nothing (If-Match, body version, bulk)', async () => {
      const doc = await newDocument()
      await call('POST', `/documents/${doc}/annotations`, { annotations: [{ id: 'x', content: highlightAt(0, 10) }, { id: 'y', content: highlightAt(0, 40) }] })
      const first = await call('PUT', `/documents/${doc}/annotations/x`, { content: highlightAt(0, 11) }, { 'if-match': '"1"' })
      assert.equal(first.status, 200)
      const stale = await call('PUT', `/documents/${doc}/annotations/x`, { content: highlightAt(0, 99) }, { 'if-match': '"1"' })
      assertError(stale, 409, 'annotation_version_conflict')
      assert.equal(stale.body.error.currentVersion, 2)
      assertError(await call('PUT', `/documents/${doc}/annotations/x`, { content: highlightAt(0, 99), version: 1 }), 409, 'annotation_version_conflict')
      assert.deepEqual((await call('GET', `/documents/${doc}/annotations/x`)).body.data.content, highlightAt(0, 11))

      const bulk = await call('PUT', `/documents/${doc}/annotations`, { annotations: [{ id: 'y', content: highlightAt(0, 41), version: 1 }, { id: 'x', content: highlightAt(0, 12), version: 1 }] })
      assertError(bulk, 409, 'annotation_version_conflict')
      assert.deepEqual(bulk.body.error.conflicts, [{ id: 'x', currentVersion: 2 }])
      assert.equal((await call('GET', `/documents/${doc}/annotations/y`)).body.data.version, 1, 'the batch is all or nothing')

      assertError(await call('DELETE', `/documents/${doc}/annotations/x`, undefined, { 'if-match': '"1"' }), 409, 'annotation_version_conflict')
      assert.equal((await call('DELETE', `/documents/${doc}/annotations/x`, undefined, { 'if-match': '"2"' })).status, 200)
      const missing = await call('PUT', `/documents/${doc}/annotations`, { annotations: [{ id: 'y', content: highlightAt(0, 41) }, { id: 'gone', content: highlightAt(0, 1) }] })
      assertError(missing, 404, 'annotation_not_found')
      assert.deepEqual(missing.body.error.annotationIds, ['gone'])
    })

    test('layers are isolated: each lists, reads and deletes only its own annotations', async () => {
      const doc = await newDocument()
      await call('POST', `/documents/${doc}/annotations`, { id: 'same', content: highlightAt(0, 10, '#ff0000') })
      const inLayer = await call('POST', `/documents/${doc}/layers/review/annotations`, { id: 'same', content: highlightAt(0, 10, '#00ff00') })
      assert.equal(inLayer.status, 200, inLayer.text)
      await call('POST', `/documents/${doc}/layers/review/annotations`, { id: 'only-review', content: highlightAt(0, 30) })
      const ids = async (path: string) => (await call('GET', path)).body.data.annotations.map((a: Json) => a.id).sort()
      assert.deepEqual(await ids(`/documents/${doc}/annotations`), ['same'])
      assert.deepEqual(await ids(`/documents/${doc}/layers/review/annotations`), ['only-review', 'same'])
      assert.equal((await call('GET', `/documents/${doc}/annotations/same`)).body.data.content.color, '#ff0000')
      assert.equal((await call('GET', `/documents/${doc}/layers/review/annotations/same`)).body.data.content.color, '#00ff00')
      assertError(await call('GET', `/documents/${doc}/annotations/only-review`), 404, 'annotation_not_found')
      assert.deepEqual((await call('GET', `/documents/${doc}/layers`)).body.data, ['', 'review'])

      await call('DELETE', `/documents/${doc}/layers/review/annotations`, { annotationIds: 'all' })
      assert.deepEqual(await ids(`/documents/${doc}/annotations`), ['same'], 'deleting all in a layer leaves the default layer')
      assert.equal((await call('DELETE', `/documents/${doc}/layers/review`)).status, 200)
      assert.deepEqual((await call('GET', `/documents/${doc}/layers`)).body.data, [''])
      assertError(await call('DELETE', `/documents/${doc}/layers/review`), 404, 'layer_not_found')
      assertError(await call('GET', `/documents/${doc}/layers/a*b/annotations`), 400, 'invalid_layer_name')
    })

    test('a new layer copies its source layer; an existing name is 409', async () => {
      const doc = await newDocument()
      await call('POST', `/documents/${doc}/layers/draft/annotations`, { annotations: [{ id: 'k1', content: highlightAt(0, 10) }, { id: 'k2', content: SAMPLES.ink }] })
      const created = await call('POST', `/documents/${doc}/layers`, { name: 'final', source_layer_name: 'draft' })
      assert.equal(created.status, 200, created.text)
      assert.deepEqual(created.body.data, { name: 'final', errors: [] })
      const copied = (await call('GET', `/documents/${doc}/layers/final/annotations`)).body.data.annotations
      assert.deepEqual(copied.map((a: Json) => a.id).sort(), ['k1', 'k2'])
      assertError(await call('POST', `/documents/${doc}/layers`, { name: 'final' }), 409, 'layer_exists')
      const empty = await call('POST', `/documents/${doc}/layers`, { name: 'blank' })
      assert.equal(empty.status, 200)
      assert.deepEqual((await call('GET', `/documents/${doc}/layers/blank/annotations`)).body.data.annotations, [], 'a PDF without annotations gives an empty base layer')
    })

    test('bulk delete removes the listed ids (skipping unknown ones), then "all"', async () => {
      const doc = await newDocument()
      await call('POST', `/documents/${doc}/annotations`, { annotations: ['a', 'b', 'c'].map((id, i) => ({ id, content: highlightAt(0, i * 20) })) })
      const some = await call('DELETE', `/documents/${doc}/annotations`, { annotationIds: ['a', 'nope'] })
      assert.deepEqual(some.body.data, { annotationIds: ['a'] })
      const all = await call('DELETE', `/documents/${doc}/annotations`, { annotationIds: 'all' })
      assert.deepEqual(all.body.data, { annotationIds: ['b', 'c'] })
      assert.equal(await rows(doc), 0)
    })

    test('listing is capped at 1000 with truncated true; NDJSON streams every annotation', async () => {
      const doc = await newDocument()
      for (let batch = 0; batch < 2; batch++) {
        const annotations = Array.from({ length: batch === 0 ? 1000 : 5 }, (_, i) => ({ content: highlightAt(0, i % 700) }))
        assert.equal((await call('POST', `/documents/${doc}/annotations`, { annotations })).status, 200)
      }
      const json = await call('GET', `/documents/${doc}/annotations`)
      assert.equal(json.body.data.annotations.length, 1000)
      assert.equal(json.body.data.truncated, true)
      const nd = await request(`${f.url}/api/documents/${doc}/annotations`, { headers: { ...authHeader(), accept: 'application/x-ndjson' } })
      assert.equal(nd.status, 200)
      assert.match(nd.headers.get('content-type') ?? '', /application\/x-ndjson/)
      const lines = nd.text.trim().split('\n').map((l) => JSON.parse(l))
      assert.equal(lines.length, 1005)
      assert.equal(new Set(lines.map((l) => l.id)).size, 1005)
    })

    test('copy_document shares the file and copies every layer; deleting a document removes its annotations', async () => {
      const doc = await newDocument()
      await call('POST', `/documents/${doc}/annotations`, { id: 'd1', content: highlightAt(0, 10) })
      await call('POST', `/documents/${doc}/layers/l1/annotations`, { id: 'l1a', content: highlightAt(1, 10) })
      const copy = await call('POST', '/copy_document', { document_id: doc, new_document_id: `${doc}-copy` })
      assert.equal(copy.status, 200, copy.text)
      assert.deepEqual(copy.body.data, { document_id: `${doc}-copy` })
      const [a, b] = await Promise.all([doc, `${doc}-copy`].map((id) => call('GET', `/documents/${id}/properties`)))
      assert.equal(a!.body.data.sourcePdfSha256, b!.body.data.sourcePdfSha256)
      assert.equal((await call('GET', `/documents/${doc}-copy/annotations/d1`)).status, 200)
      assert.equal((await call('GET', `/documents/${doc}-copy/layers/l1/annotations/l1a`)).status, 200)
      assertError(await call('POST', '/copy_document', { document_id: doc, new_document_id: `${doc}-copy` }), 409, 'document_exists')
      assertError(await call('POST', '/copy_document', { document_id: 'missing' }), 404, 'document_not_found')
      const generated = await call('POST', '/copy_document', { document_id: doc })
      assert.match(generated.body.data.document_id, /^[A-Za-z0-9_-]{16,}$/)

      assert.equal((await call('DELETE', `/documents/${doc}`)).status, 200)
      assert.equal(await rows(doc), 0)
      assert.equal(await rows(`${doc}-copy`), 2, 'the copy keeps its own annotations')
      assertError(await call('GET', `/documents/${doc}/annotations`), 404, 'document_not_found')
    })

    test('document.json exports the layer as Instant JSON; apply_instant_json creates, replaces and deletes skipped objects', async () => {
      const doc = await newDocument()
      await call('POST', `/documents/${doc}/annotations`, { annotations: [{ id: 'keep', content: highlightAt(0, 10) }, { id: 'from-pdf', content: { ...highlightAt(0, 40), pdfObjectId: 42 } }] })
      const exported = await call('GET', `/documents/${doc}/document.json`)
      assert.equal(exported.status, 200)
      assert.equal(exported.body.format, 'https://pspdfkit.com/instant-json/v1')
      assert.deepEqual(exported.body.annotations.map((a: Json) => a.id).sort(), ['from-pdf', 'keep'])

      const applied = await call('POST', `/documents/${doc}/apply_instant_json`, {
        format: 'https://pspdfkit.com/instant-json/v1',
        annotations: [{ ...highlightAt(0, 12, '#0000ff'), id: 'keep' }, { ...SAMPLES.note, id: 'new-note' }],
        skippedPdfObjectIds: [42],
      })
      assert.equal(applied.status, 200, applied.text)
      assert.deepEqual(applied.body.data, { created: 1, updated: 1, deleted: 1 })
      const after = (await call('GET', `/documents/${doc}/annotations`)).body.data.annotations
      assert.deepEqual(after.map((a: Json) => a.id).sort(), ['keep', 'new-note'])
      assert.equal(after.find((a: Json) => a.id === 'keep').version, 2)

      const form = new FormData()
      form.append('instant.json', new Blob([JSON.stringify({ format: 'https://pspdfkit.com/instant-json/v1', annotations: [{ ...highlightAt(1, 5), id: 'via-multipart' }] })], { type: 'application/json' }), 'instant.json')
      const multipart = await request(`${f.url}/api/documents/${doc}/layers/imported/apply_instant_json`, { method: 'POST', headers: authHeader(), body: form })
      assert.equal(multipart.status, 200, multipart.text)
      assert.equal((await call('GET', `/documents/${doc}/layers/imported/annotations/via-multipart`)).status, 200)

      assertError(await call('POST', `/documents/${doc}/apply_instant_json`, { annotations: [] }), 422, 'invalid_instant_json')
      const bad = await call('POST', `/documents/${doc}/apply_instant_json`, { format: 'https://pspdfkit.com/instant-json/v1', annotations: [{ ...highlightAt(0, 1), color: 'blue' }] })
      assertError(bad, 422, 'invalid_annotation')
      assert.equal(bad.body.error.path, '$.annotations[0].color')
    })

    test('overwriting the file replaces its annotations and layers with the new file\'s', async () => {
      const doc = await newDocument()
      await call('POST', `/documents/${doc}/annotations`, { id: 'old', content: highlightAt(0, 10) })
      await call('POST', `/documents/${doc}/layers/l/annotations`, { id: 'old-l', content: highlightAt(0, 10) })
      const res = await request(`${f.url}/api/documents?document_id=${doc}&overwrite_existing_document=true`, {
        method: 'POST',
        headers: { ...authHeader(), 'content-type': 'application/pdf' },
        body: makePdf({ pages: [{ text: 'new' }] }),
      })
      assert.equal(res.status, 200, res.text)
      assert.equal(await rows(doc), 0)
      assert.deepEqual((await call('GET', `/documents/${doc}/layers`)).body.data, [''])
    })

    test('an annotation write over 16 MiB is refused with 413 naming the limit', async () => {
      const doc = await newDocument()
      const res = await call('POST', `/documents/${doc}/annotations`, { content: highlightAt(0, 1), pad: 'x'.repeat(17 * 1024 * 1024) })
      assertError(res, 413, 'payload_too_large')
      assert.equal(res.body.error.limit, 16 * 1024 * 1024)
    })

    test('an unknown document is 404 on every annotation route; the API token is required', async () => {
      for (const [method, path, body] of [
        ['GET', '/documents/nope/annotations'],
        ['POST', '/documents/nope/annotations', { content: highlightAt(0, 1) }],
        ['DELETE', '/documents/nope/annotations', { annotationIds: 'all' }],
        ['GET', '/documents/nope/layers'],
        ['GET', '/documents/nope/document.json'],
        ['GET', '/documents/nope/events'],
      ] as Array<[string, string, unknown?]>) {
        assertError(await call(method, path, body), 404, 'document_not_found')
      }
      assertError(await request(`${f.url}/api/documents/nope/annotations`), 401, 'unauthorized')
    })
  })
}
