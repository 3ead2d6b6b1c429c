/**
 * Persisted edits and downloads with edits: apply_operations, pdf_with_operations,
 * apply_instructions (and its layer variant), versions and restore. The file is checked with
 * independent tools; the annotations (every layer) must follow their pages in the same
 * transaction, live viewers must get the changes, and a refused edit must change nothing.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { highlightAt } from '../../helpers/annotation-samples.js'
import { assertError, request } from '../../helpers/http.js'
import { needPdfTools, qpdfCheck } from '../../helpers/pdf-tools.js'
import { openSse, type SseClient } from '../../helpers/sse.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'
import { pdfPages, pdfText, pdftotext, post, upload } from '../../helpers/build.js'

const texts = (pdf: Buffer) => pdftotext(pdf).split('\f').map((s) => s.trim()).slice(0, -1)

async function download(f: TestFolio, id: string, source = true): Promise<Buffer> {
  const res = await fetch(`${f.url}/api/documents/${id}/pdf${source ? '?source=true' : ''}`, { headers: authHeader() })
  assert.equal(res.status, 200)
  return Buffer.from(await res.arrayBuffer())
}

async function annotationsOf(f: TestFolio, id: string, layer = ''): Promise<Array<{ id: string; page: number }>> {
  const res = await request(`${f.url}/api/documents/${id}${layer ? `/layers/${layer}` : ''}/annotations`, { headers: authHeader() })
  assert.equal(res.status, 200, res.text)
  return (res.body.data.annotations as Array<{ id: string; content: { pageIndex: number } }>).map((a) => ({ id: a.id, page: a.content.pageIndex })).sort((a, b) => a.page - b.page || a.id.localeCompare(b.id))
}

async function annotate(f: TestFolio, id: string, annotationId: string, page: number, layer = ''): Promise<void> {
  const res = await request(`${f.url}/api/documents/${id}${layer ? `/layers/${layer}` : ''}/annotations`, { method: 'POST', headers: authHeader(), json: { id: annotationId, content: highlightAt(page, 100) } })
  assert.equal(res.status, 200, res.text)
}

async function ops(f: TestFolio, id: string, operations: unknown, route = 'apply_operations') {
  return request(`${f.url}/api/documents/${id}/${route}`, { method: 'POST', headers: authHeader(), json: { operations } })
}

for (const db of dbKinds()) {
  describe(`document editing (${db})`, () => {
    let f: TestFolio
    const streams: SseClient[] = []
    before(async () => {
      f = await startFolio({ db })
    })
    after(async () => {
      for (const s of streams) s.close()
      await f.destroy()
    })

    test('apply_operations removes, duplicates, moves, rotates and adds pages; annotations of every layer follow; viewers get the changes', async (t) => {
      if (!needPdfTools(t)) return
      await upload(f, 'ed1', pdfText(['P0', 'P1', 'P2', 'P3']))
      await annotate(f, 'ed1', 'on0', 0)
      await annotate(f, 'ed1', 'on1', 1)
      await annotate(f, 'ed1', 'on2', 2)
      await annotate(f, 'ed1', 'bob3', 3, 'bob')
      const live = await openSse(`${f.url}/api/documents/ed1/events`, authHeader())
      streams.push(live)
      await live.waitFor(1)
      const res = await ops(f, 'ed1', [
        { type: 'removePages', pageIndexes: [1] }, // P0 P2 P3
        { type: 'duplicatePages', pageIndexes: [0] }, // P0 P0 P2 P3
        { type: 'movePages', pageIndexes: ['last'], beforePageIndex: 0 }, // P3 P0 P0 P2
        { type: 'rotatePages', pageIndexes: [3], rotateBy: 90 }, // P2 rotated
        { type: 'addPage', afterPageIndex: 'last', backgroundColor: '#ffffff', pageWidth: 200, pageHeight: 300, rotateBy: 0 },
        { type: 'setPageLabel', pageIndexes: [0], pageLabel: 'Cover' },
        { type: 'updateMetadata', metadata: { title: 'Edited' } },
      ])
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.document_id, 'ed1')
      const pdf = await download(f, 'ed1')
      qpdfCheck(pdf)
      assert.deepEqual(texts(pdf), ['P3', 'P0', 'P0', 'P2', ''])
      const info = pdfPages(pdf)
      assert.deepEqual(info.pages.map((p) => p.rot), [0, 0, 0, 90, 0])
      assert.equal(info.pages[4]!.size, '200 x 300')
      const docInfo = await request(`${f.url}/api/documents/ed1/document_info`, { headers: authHeader() })
      assert.equal(docInfo.body.data.pageCount, 5)
      assert.equal(docInfo.body.data.pages[3].rotation, 90)

      const def = await annotationsOf(f, 'ed1')
      assert.deepEqual(def.filter((a) => a.id.startsWith('on')).map((a) => `${a.id}@${a.page}`), ['on0@1', 'on2@3'], 'on1 went with its page; on0 and on2 moved')
      assert.deepEqual(def.filter((a) => a.page === 1 || a.page === 2).length, 2, 'the annotation of the duplicated page is on both copies')
      assert.ok(def.some((a) => a.id === 'on0'), 'the original keeps its id')
      assert.deepEqual(await annotationsOf(f, 'ed1', 'bob'), [{ id: 'bob3', page: 0 }], 'another layer follows too')

      const events = await live.waitFor(5)
      const kinds = events.filter((e) => e.event !== 'ready').map((e) => `${e.event}:${e.data.annotationId === 'on1' || e.data.annotationId === 'on0' || e.data.annotationId === 'on2' ? e.data.annotationId : 'copy'}`)
      assert.ok(kinds.includes('deleted:on1'), kinds.join())
      assert.ok(kinds.includes('updated:on2'), kinds.join())
      assert.ok(kinds.includes('created:copy'), kinds.join())
    })

    test('pdf_with_operations downloads the edit with annotations written in and leaves the document unchanged', async (t) => {
      if (!needPdfTools(t)) return
      await upload(f, 'ed2', pdfText(['Q0', 'Q1', 'Q2']))
      await annotate(f, 'ed2', 'q1', 1)
      const before = await download(f, 'ed2')
      const res = await fetch(`${f.url}/api/documents/ed2/pdf_with_operations`, {
        method: 'POST', headers: { ...authHeader(), 'content-type': 'application/json' }, body: JSON.stringify({ operations: [{ type: 'keepPages', pageIndexes: [1, 2] }, { type: 'rotatePages', pageIndexes: 'all', rotateBy: 180 }] }),
      })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'application/pdf')
      const pdf = Buffer.from(await res.arrayBuffer())
      qpdfCheck(pdf)
      assert.deepEqual(texts(pdf), ['Q1', 'Q2'])
      assert.deepEqual(pdfPages(pdf).pages.map((p) => p.rot), [180, 180])
      assert.ok(pdf.includes('/Highlight'), 'the annotation is written into the download')
      assert.deepEqual(await download(f, 'ed2'), before, 'the stored file is unchanged')
      assert.deepEqual(await annotationsOf(f, 'ed2'), [{ id: 'q1', page: 1 }])
    })

    test('importDocument and applyInstantJson from multipart parts; Instant JSON becomes Folio annotations', async (t) => {
      if (!needPdfTools(t)) return
      await upload(f, 'ed3', pdfText(['R0']))
      const ij = JSON.stringify({ format: 'https://pspdfkit.com/instant-json/v1', annotations: [{ ...highlightAt(1, 300), id: 'ij1' }] })
      const res = await post(f, '/api/documents/ed3/apply_operations', { operations: [{ type: 'importDocument', afterPageIndex: 0, document: 'other' }, { type: 'applyInstantJson', dataFilePath: 'ij' }] }, { other: pdfText(['I0', 'I1']), ij }, 'operations')
      assert.equal(res.status, 200, res.body.toString())
      assert.deepEqual(texts(await download(f, 'ed3')), ['R0', 'I0', 'I1'])
      assert.deepEqual(await annotationsOf(f, 'ed3'), [{ id: 'ij1', page: 1 }])
    })

    test('flattenAnnotations burns the annotations into the pages and removes them from the layer', async (t) => {
      if (!needPdfTools(t)) return
      await upload(f, 'ed4', pdfText(['S0']))
      await annotate(f, 'ed4', 's0', 0)
      const res = await ops(f, 'ed4', [{ type: 'flattenAnnotations' }])
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(await annotationsOf(f, 'ed4'), [])
      const pdf = await download(f, 'ed4')
      assert.ok(!pdf.includes('/Highlight'), 'no annotation object left')
    })

    const refusals: Array<[string, unknown, number, string, string]> = [
      ['a page index past the end', [{ type: 'removePages', pageIndexes: [7] }], 400, 'invalid_instructions', 'operations[0].pageIndexes[0]'],
      ['a rotation of 45°', [{ type: 'rotatePages', pageIndexes: [0], rotateBy: 45 }], 400, 'invalid_instructions', 'operations[0].rotateBy'],
      ['removing every page', [{ type: 'rotatePages', pageIndexes: [0], rotateBy: 90 }, { type: 'removePages', pageIndexes: 'all' }], 400, 'invalid_instructions', 'operations[1].pageIndexes'],
      ['an unknown operation', [{ type: 'explode' }], 400, 'invalid_instructions', 'operations[0].type'],
      ['a missing import part', [{ type: 'importDocument', document: 'nope' }], 400, 'invalid_instructions', 'operations[0].document'],
      ['OCR', [{ type: 'performOcr', pageIndexes: 'all' }], 422, 'unsupported_instruction', 'operations[0].type'],
    ]
    for (const [name, operations, status, code, field] of refusals) {
      test(`a refused edit (${name}) answers ${status} ${code} naming ${field} and changes nothing`, async () => {
        const id = `bad${refusals.findIndex((r) => r[0] === name)}`
        await upload(f, id, pdfText(['T0', 'T1']))
        await annotate(f, id, 'keep', 1)
        const before = await download(f, id)
        const res = await ops(f, id, operations)
        assertError(res, status, code)
        assert.equal(res.body.error.field, field)
        assert.deepEqual(await download(f, id), before)
        assert.deepEqual(await annotationsOf(f, id), [{ id: 'keep', page: 1 }])
        const versions = await request(`${f.url}/api/documents/${id}/versions`, { headers: authHeader() })
        assert.equal(versions.body.data.length, 1, 'no version was made')
      })
    }

    test('apply_instructions with #self, new pages and another stored document; annotations of the other document come along', async (t) => {
      if (!needPdfTools(t)) return
      await upload(f, 'ed5', pdfText(['U0', 'U1', 'U2']))
      await upload(f, 'ed5b', pdfText(['V0']))
      await annotate(f, 'ed5', 'u2', 2)
      await annotate(f, 'ed5', 'u0', 0)
      await annotate(f, 'ed5b', 'v0', 0)
      const res = await request(`${f.url}/api/documents/ed5/apply_instructions`, {
        method: 'POST', headers: authHeader(),
        json: { parts: [{ document: { id: '#self' }, pages: { start: -1 } }, { page: 'new' }, { document: { id: 'ed5b' } }, { document: { id: '#self' }, pages: { start: 0, end: 0 }, actions: [{ type: 'rotate', rotateBy: 270 }] }] },
      })
      assert.equal(res.status, 200, res.text)
      const pdf = await download(f, 'ed5')
      assert.deepEqual(texts(pdf), ['U2', '', 'V0', 'U0'])
      assert.deepEqual(pdfPages(pdf).pages.map((p) => p.rot), [0, 0, 0, 270])
      const list = await annotationsOf(f, 'ed5')
      assert.deepEqual(list.filter((a) => a.id === 'u2' || a.id === 'u0'), [{ id: 'u2', page: 0 }, { id: 'u0', page: 3 }])
      assert.equal(list.filter((a) => a.page === 2).length, 1, 'the other document\'s annotation was imported on its page')
      const layer = await request(`${f.url}/api/documents/ed5/layers/nobody/apply_instructions`, { method: 'POST', headers: authHeader(), json: { parts: [{ document: { id: '#self' } }], actions: [{ type: 'rotate', rotateBy: 90 }] } })
      assert.equal(layer.status, 200, layer.text)
      assert.deepEqual(pdfPages(await download(f, 'ed5')).pages.map((p) => p.rot), [90, 90, 90, 0])
    })

    test('versions: every edit keeps the previous file and annotations; restoring one brings both back', async (t) => {
      if (!needPdfTools(t)) return
      await upload(f, 'ed6', pdfText(['W0', 'W1', 'W2']))
      await annotate(f, 'ed6', 'w1', 1)
      await annotate(f, 'ed6', 'w2', 2, 'team')
      const original = await download(f, 'ed6')
      assert.equal((await ops(f, 'ed6', [{ type: 'removePages', pageIndexes: [1, 2] }])).status, 200)
      assert.deepEqual(await annotationsOf(f, 'ed6'), [])
      assert.equal((await ops(f, 'ed6', [{ type: 'rotatePages', pageIndexes: [0], rotateBy: 90 }])).status, 200)
      const list = await request(`${f.url}/api/documents/ed6/versions`, { headers: authHeader() })
      assert.equal(list.status, 200, list.text)
      assert.deepEqual(list.body.data.map((v: { version: number; current: boolean }) => `${v.version}${v.current ? '*' : ''}`), ['3*', '2', '1'])
      assert.equal(list.body.data[2].pageCount, 3)
      assert.equal(list.body.data[2].annotationCount, 2)
      const restored = await request(`${f.url}/api/documents/ed6/versions/1/restore`, { method: 'POST', headers: authHeader() })
      assert.equal(restored.status, 200, restored.text)
      assert.deepEqual(await download(f, 'ed6'), original, 'the original bytes are back')
      assert.deepEqual(await annotationsOf(f, 'ed6'), [{ id: 'w1', page: 1 }])
      assert.deepEqual(await annotationsOf(f, 'ed6', 'team'), [{ id: 'w2', page: 2 }])
      const after = await request(`${f.url}/api/documents/ed6/versions`, { headers: authHeader() })
      assert.deepEqual(after.body.data.map((v: { version: number }) => v.version), [4, 3, 2, 1])
      assertError(await request(`${f.url}/api/documents/ed6/versions/99/restore`, { method: 'POST', headers: authHeader() }), 404, 'version_not_found')
    })

    test('deleting an edited document removes its kept versions\' blobs too', async (t) => {
      if (!needPdfTools(t)) return
      await upload(f, 'ed7', pdfText(['X0', 'X1']))
      assert.equal((await ops(f, 'ed7', [{ type: 'removePages', pageIndexes: [0] }])).status, 200)
      const versions = await request(`${f.url}/api/documents/ed7/versions`, { headers: authHeader() })
      const keys: string[] = versions.body.data.map((v: { sha256: string }) => v.sha256)
      assert.equal((await request(`${f.url}/api/documents/ed7`, { method: 'DELETE', headers: authHeader() })).status, 200)
      const rows = await f.app.db.query<{ key: string }>('select key from blobs where key = any($1::text[]) and not deleting', [keys])
      assert.deepEqual(rows, [])
    })
  })
}

describe('version retention', () => {
  test('DOCUMENT_VERSIONS_KEPT bounds the kept versions, oldest removed first with their blobs', async (t) => {
    if (!needPdfTools(t)) return
    const f = await startFolio({ db: 'pglite', env: { DOCUMENT_VERSIONS_KEPT: '1' } })
    try {
      await upload(f, 'r1', pdfText(['Y0', 'Y1', 'Y2']))
      const first = (await request(`${f.url}/api/documents/r1/properties`, { headers: authHeader() })).body.data.sourcePdfSha256
      assert.equal((await ops(f, 'r1', [{ type: 'removePages', pageIndexes: [0] }])).status, 200)
      assert.equal((await ops(f, 'r1', [{ type: 'removePages', pageIndexes: [0] }])).status, 200)
      const list = await request(`${f.url}/api/documents/r1/versions`, { headers: authHeader() })
      assert.deepEqual(list.body.data.map((v: { version: number }) => v.version), [3, 2])
      const rows = await f.app.db.query('select key from blobs where key = $1 and not deleting', [first])
      assert.deepEqual(rows, [], 'the first file is gone')
    } finally {
      await f.destroy()
    }
  })
})

describe('build time limit', () => {
  test('an edit past BUILD_TIMEOUT_MS fails with 422 build_failed (timeout) and leaves the document as it was', async (t) => {
    if (!needPdfTools(t)) return
    const f = await startFolio({ db: 'pglite', env: { BUILD_TIMEOUT_MS: '1000' } })
    try {
      const pages = Array.from({ length: 3000 }, (_, i) => `Page ${i}`)
      await upload(f, 'slow', pdfText(pages))
      const before = await download(f, 'slow')
      const res = await ops(f, 'slow', Array.from({ length: 900 }, () => ({ type: 'duplicatePages', pageIndexes: [0] })).concat([{ type: 'rotatePages', pageIndexes: 'all', rotateBy: 90 }] as never[]))
      assertError(res, 422, 'build_failed')
      assert.equal(res.body.error.reason, 'timeout')
      assert.deepEqual(await download(f, 'slow'), before)
      const versions = await request(`${f.url}/api/documents/slow/versions`, { headers: authHeader() })
      assert.equal(versions.body.data.length, 1)
    } finally {
      await f.destroy()
    }
  })
})
