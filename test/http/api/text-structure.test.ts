/**
 * Text of all pages and highlighted text over the server API (and their layer variants),
 * against a real Folio on both databases; page text checked against poppler's pdftotext.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { assertError, request } from '../../helpers/http.js'
import { claimsFor, keyPair, signToken } from '../../helpers/jwt.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'
import { LINE_X, lineBaseline, pdftotextPages, textPdf } from '../../helpers/text-pdfs.js'

const PAGES = [
  ['The quick brown fox jumps', 'over the lazy dog', 'Third line here'],
  ['Second page text', 'with two lines'],
  ['Rotated page line'],
]

/** A markup annotation over line `i` of a page (annotation coordinates: top-left origin). */
function markupOver(type: string, pageIndex: number, line: number, width = 400) {
  const top = 792 - lineBaseline(line) - 11
  const rect = [LINE_X - 2, top, width, 15]
  return { v: 2, type: `pspdfkit/markup/${type}`, pageIndex, bbox: rect, rects: [rect], color: '#ffff00', opacity: 1 }
}

for (const db of dbKinds()) {
  describe(`all-pages text and highlighted text (${db})`, () => {
    let f: TestFolio
    const doc = 'text-doc'
    const pdf = textPdf({ pages: PAGES, rotate: [0, 0, 90] })
    const pair = keyPair('ES256')
    const get = (path: string, headers: Record<string, string> = authHeader()) => request(`${f.url}${path}`, { headers })
    const post = (path: string, json: unknown) => request(`${f.url}${path}`, { method: 'POST', headers: authHeader(), json })

    before(async () => {
      f = await startFolio({ db, env: { JWT_PUBLIC_KEY: pair.publicPem, JWT_ALGORITHM: 'ES256', RENDER_WORKERS: '1' } })
      assert.equal((await request(`${f.url}/api/documents?document_id=${doc}`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: pdf })).status, 200)
      assert.equal((await post(`/api/documents/${doc}/layers`, { name: 'review' })).status, 200)
    })
    after(async () => {
      await f.destroy()
    })

    test('pages/text is a bare array of every page with its lines, the same words pdftotext reads', async () => {
      const res = await get(`/api/documents/${doc}/pages/text`)
      assert.equal(res.status, 200, res.text)
      assert.ok(Array.isArray(res.body), 'no data envelope (as in the reference)')
      assert.deepEqual(res.body.map((p: { pageIndex: number }) => p.pageIndex), [0, 1, 2])
      const words = (s: string) => s.split(/\s+/).filter(Boolean)
      const poppler = pdftotextPages(pdf)
      res.body.forEach((p: { textLines: Array<{ contents: string }> }, i: number) => {
        assert.deepEqual(words(p.textLines.map((l) => l.contents).join(' ')), words(poppler[i]!))
      })
      const first = res.body[0].textLines[0]
      assert.ok(Math.abs(first.left - LINE_X) < 3 && first.width > 100 && first.height > 5, JSON.stringify(first))
      const layered = await get(`/api/documents/${doc}/layers/review/pages/text`)
      assert.deepEqual(layered.body, res.body)
      const onePage = await get(`/api/documents/${doc}/layers/review/pages/1/text`)
      assert.equal(onePage.status, 200)
      assert.deepEqual(onePage.body.data.textLines.map((l: { contents: string }) => l.contents), PAGES[1])
    })

    test('highlighted returns the text under each markup annotation of the page, with the annotation', async () => {
      const hl = await post(`/api/documents/${doc}/annotations`, { content: markupOver('highlight', 0, 0) })
      const ul = await post(`/api/documents/${doc}/annotations`, { content: markupOver('underline', 0, 1, 28) })
      await post(`/api/documents/${doc}/annotations`, { content: { v: 2, type: 'pspdfkit/shape/rectangle', pageIndex: 0, bbox: [0, 0, 600, 700], strokeColor: '#000000', strokeWidth: 1 } })
      const res = await get(`/api/documents/${doc}/pages/0/highlighted`)
      assert.equal(res.status, 200, res.text)
      const byId = new Map(res.body.data.map((h: { annotation: { id: string }; text: string }) => [h.annotation.id, h.text]))
      assert.equal(res.body.data.length, 2, 'only markup annotations')
      assert.equal(byId.get(hl.body.data.id), 'The quick brown fox jumps')
      assert.equal(byId.get(ul.body.data.id), 'over', 'only the characters inside the rect')
      assert.equal(res.body.data[0].annotation.content.type.startsWith('pspdfkit/markup/'), true)
    })

    test('on a rotated page the highlight in annotation coordinates covers the same text', async () => {
      await post(`/api/documents/${doc}/annotations`, { content: markupOver('strikeout', 2, 0) })
      const res = await get(`/api/documents/${doc}/pages/2/highlighted`)
      assert.deepEqual(res.body.data.map((h: { text: string }) => h.text), ['Rotated page line'])
    })

    test("the layer variant reads that layer's markup only; a viewer reads its token's layer", async () => {
      await post(`/api/documents/${doc}/layers/review/annotations`, { content: markupOver('squiggly', 1, 1) })
      const layered = await get(`/api/documents/${doc}/layers/review/pages/1/highlighted`)
      assert.deepEqual(layered.body.data.map((h: { text: string }) => h.text), ['with two lines'])
      assert.deepEqual((await get(`/api/documents/${doc}/pages/1/highlighted`)).body.data, [])
      const token = await signToken(claimsFor(doc, ['read-document'], { layer: 'review' }), pair)
      const viewer = await get(`/documents/${doc}/pages/1/highlighted`, { authorization: `Bearer ${token}` })
      assert.deepEqual(viewer.body.data.map((h: { text: string }) => h.text), ['with two lines'])
      const all = await get(`/i/d/${doc}/pages/text`, { authorization: `Bearer ${token}` })
      assert.equal(all.body.length, 3)
    })

    test('a page past the last is 404 page_not_found; an unknown document 404', async () => {
      assertError(await get(`/api/documents/${doc}/pages/3/highlighted`), 404, 'page_not_found')
      assertError(await get('/api/documents/nope/pages/text'), 404, 'document_not_found')
    })
  })
}

for (const db of dbKinds()) {
  describe(`annotations of one page (${db})`, () => {
    let f: TestFolio
    const pair = keyPair('ES256')
    before(async () => {
      f = await startFolio({ db, env: { JWT_PUBLIC_KEY: pair.publicPem, JWT_ALGORITHM: 'ES256', RENDER_WORKERS: '1' } })
      assert.equal((await request(`${f.url}/api/documents?document_id=pa`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: textPdf({ pages: PAGES }) })).status, 200)
    })
    after(async () => {
      await f.destroy()
    })

    test('pages/:i/annotations lists the layer\'s annotations of that page only, with truncated; past the last page 404', async () => {
      const post = (path: string, content: unknown) => request(`${f.url}${path}`, { method: 'POST', headers: authHeader(), json: { content } })
      const a = await post('/api/documents/pa/annotations', markupOver('highlight', 0, 0))
      await post('/api/documents/pa/annotations', markupOver('highlight', 1, 0))
      const r = await post('/api/documents/pa/layers/l2/annotations', markupOver('underline', 0, 1))
      const page0 = await request(`${f.url}/api/documents/pa/pages/0/annotations`, { headers: authHeader() })
      assert.equal(page0.status, 200, page0.text)
      assert.deepEqual([page0.body.data.annotations.map((x: { id: string }) => x.id), page0.body.data.truncated], [[a.body.data.id], false])
      const layered = await request(`${f.url}/api/documents/pa/layers/l2/pages/0/annotations`, { headers: authHeader() })
      assert.deepEqual(layered.body.data.annotations.map((x: { id: string }) => x.id), [r.body.data.id])
      const token = await signToken(claimsFor('pa', ['read-document'], { layer: 'l2' }), pair)
      const viewer = await request(`${f.url}/documents/pa/pages/0/annotations`, { headers: { authorization: `Bearer ${token}` } })
      assert.deepEqual(viewer.body.data.annotations.map((x: { id: string }) => x.id), [r.body.data.id])
      assertError(await request(`${f.url}/api/documents/pa/pages/3/annotations`, { headers: authHeader() }), 404, 'page_not_found')
    })
  })
}

for (const db of dbKinds().slice(0, 1)) {
  describe(`layer read variants (${db})`, () => {
    let f: TestFolio
    before(async () => {
      f = await startFolio({ db, env: { RENDER_WORKERS: '1' } })
      assert.equal((await request(`${f.url}/api/documents?document_id=lv`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: textPdf({ pages: PAGES }) })).status, 200)
    })
    after(async () => {
      await f.destroy()
    })

    test("document_info per layer equals the document's; a page image per layer draws that layer's annotations", async () => {
      const info = await request(`${f.url}/api/documents/lv/document_info`, { headers: authHeader() })
      assert.deepEqual((await request(`${f.url}/api/documents/lv/layers/x/document_info`, { headers: authHeader() })).body, info.body)
      const box = { v: 2, type: 'pspdfkit/shape/rectangle', pageIndex: 0, bbox: [300, 400, 200, 200], strokeColor: '#000000', fillColor: '#000000', strokeWidth: 2 }
      assert.equal((await request(`${f.url}/api/documents/lv/layers/x/annotations`, { method: 'POST', headers: authHeader(), json: { content: box } })).status, 200)
      const bytes = async (path: string) => Buffer.from(await (await fetch(`${f.url}${path}`, { headers: authHeader() })).arrayBuffer())
      const plain = await bytes('/api/documents/lv/pages/0/image?width=200')
      const layered = await bytes('/api/documents/lv/layers/x/pages/0/image?width=200')
      assert.ok(layered.subarray(0, 4).toString('latin1').includes('PNG'))
      assert.notDeepEqual(layered, plain, 'the layer image shows its rectangle')
      assert.deepEqual(await bytes('/api/documents/lv/layers/other/pages/0/image?width=200'), plain)
    })
  })
}
