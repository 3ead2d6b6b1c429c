/**
 * Annotations in the PDF (issue #5 §6): the export writes real annotation objects with
 * appearance streams (checked with qpdf's parser and poppler), `flatten` burns them into the
 * page, and annotations already in an uploaded PDF are imported, so a round trip keeps them.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { SAMPLES, SUBTYPES, highlightAt } from '../../helpers/annotation-samples.js'
import { assertError, request } from '../../helpers/http.js'
import { HELVETICA_FONT, makePdf, PdfBuilder, type MakePdfOptions } from '../../helpers/pdf-fixtures.js'
import { needPdfTools, pdfinfo, qpdfCheck, qpdfJson, render, type QValue } from '../../helpers/pdf-tools.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const near = (a: number[], b: number[], eps = 0.01) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) <= eps)

/**
 * A one-page PDF holding native annotations: a highlight with its popup, a form widget, a file
 * attachment, a URI link, and a link to a position on the page (which Instant JSON cannot say).
 */
function pdfWithAnnotations(): Buffer {
  const b = new PdfBuilder('1.7')
  b.object(1, '<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R] >> >>')
  b.object(2, '<< /Type /Pages /Kids [4 0 R] /Count 1 >>')
  b.object(3, HELVETICA_FONT)
  b.object(4, '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [6 0 R 7 0 R 8 0 R 9 0 R 10 0 R 11 0 R] >>')
  b.stream(5, '', 'BT /F1 24 Tf 72 700 Td (Native annotations) Tj ET\n')
  b.object(6, '<< /Type /Annot /Subtype /Highlight /Rect [72 690 300 720] /QuadPoints [72 720 300 720 72 690 300 690] /C [0 1 0] /NM (native-hl) /T (Ann Author) /Contents (Native note) /Popup 9 0 R /P 4 0 R /F 4 >>')
  b.object(7, '<< /Type /Annot /Subtype /Widget /FT /Tx /T (field1) /Rect [72 600 300 620] /P 4 0 R /F 4 >>')
  b.object(8, '<< /Type /Annot /Subtype /FileAttachment /Rect [400 600 420 620] /FS << /Type /Filespec /F (a.txt) >> /P 4 0 R >>')
  b.object(9, '<< /Type /Annot /Subtype /Popup /Rect [320 690 500 760] /Parent 6 0 R /P 4 0 R >>')
  b.object(10, '<< /Type /Annot /Subtype /Link /Rect [72 500 200 520] /NM (native-uri) /A << /S /URI /URI (https://example.org/) >> /Border [0 0 0] >>')
  b.object(11, '<< /Type /Annot /Subtype /Link /Rect [72 450 200 470] /Dest [4 0 R /XYZ 72 300 2] /Border [0 0 0] >>')
  b.xrefTable('/Root 1 0 R')
  return b.toBuffer()
}

for (const db of dbKinds()) {
  describe(`annotations in the exported PDF (${db})`, () => {
    let f: TestFolio
    let n = 0
    const call = (method: string, path: string, json?: unknown, headers: Record<string, string> = {}) =>
      request(`${f.url}/api${path}`, { method, headers: { ...authHeader(), ...headers }, json })
    async function upload(pdf: Uint8Array, id = `pdf-${++n}`) {
      const res = await request(`${f.url}/api/documents?document_id=${id}`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: pdf })
      assert.equal(res.status, 200, res.text)
      return { id, body: res.body.data }
    }
    async function newDoc(opts: MakePdfOptions = { pages: [{}, {}] }) {
      return (await upload(makePdf(opts))).id
    }
    async function download(path: string, headers: Record<string, string> = {}) {
      const res = await fetch(`${f.url}/api${path}`, { headers: { ...authHeader(), ...headers } })
      return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) }
    }

    before(async () => {
      f = await startFolio({ db })
    })
    after(async () => {
      await f.destroy()
    })

    test('every type becomes a PDF annotation with its subtype, rectangle, colour and an appearance stream', async (t) => {
      if (!needPdfTools(t)) return
      const doc = await newDoc()
      const names = Object.keys(SAMPLES)
      const created = await call('POST', `/documents/${doc}/annotations`, { annotations: names.map((name) => ({ id: name, content: SAMPLES[name] })) })
      assert.equal(created.status, 200, created.text)
      const pdf = await download(`/documents/${doc}/pdf`)
      assert.equal(pdf.status, 200)
      assert.match(pdfinfo(pdf.bytes), /Pages:\s+2\n/)
      qpdfCheck(pdf.bytes)
      for (const page of [0, 1]) render(pdf.bytes, page, 36) // poppler renders every page without error

      const q = qpdfJson(pdf.bytes)
      const all = [...q.annotations(0), ...q.annotations(1)]
      for (const name of names) {
        const s = SAMPLES[name] as { bbox: number[]; pageIndex: number; color?: string; strokeColor?: string }
        const annot = all.find((a) => a['/NM'] === `u:${name}`)
        assert.ok(annot, `annotation ${name} is in the PDF`)
        assert.equal(annot['/Subtype'], SUBTYPES[name], name)
        const [l, top, w, h] = s.bbox as [number, number, number, number]
        assert.ok(near(annot['/Rect'] as number[], [l, 792 - top - h, l + w, 792 - top]), `${name} /Rect ${JSON.stringify(annot['/Rect'])}`)
        const hex = s.color ?? s.strokeColor
        if (hex && name !== 'stamp') {
          const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
          assert.ok(near(annot['/C'] as number[], rgb, 0.001), `${name} /C ${JSON.stringify(annot['/C'])}`)
        }
        if (name !== 'link') {
          const ap = q.resolve((annot['/AP'] as Record<string, QValue>)['/N']) as Record<string, QValue>
          assert.equal(ap['/Subtype'], '/Form', `${name} has a form XObject appearance`)
        }
        const pageRef = q.pages[s.pageIndex]!.object
        assert.equal(annot['/P'], pageRef)
      }
      const hl = all.find((a) => a['/NM'] === 'u:highlight')!
      assert.deepEqual(hl['/QuadPoints'], [100, 692, 300, 692, 100, 672, 300, 672])
      assert.equal(all.find((a) => a['/NM'] === 'u:note')!['/Contents'], `u:${(SAMPLES.note!.text as { value: string }).value}`)
      const link = all.find((a) => a['/NM'] === 'u:link')!
      assert.equal((link['/A'] as Record<string, QValue>)['/URI'], 'u:https://example.com/?a=(1)')
    })

    test('a flattened export shows the highlight colour where it was placed and has no annotation objects', async (t) => {
      if (!needPdfTools(t)) return
      const doc = await newDoc({ pages: [{ text: '' }] })
      await call('POST', `/documents/${doc}/annotations`, { content: { ...highlightAt(0, 300, '#ff0000'), bbox: [100, 300, 200, 40], rects: [[100, 300, 200, 40]] } })
      await call('POST', `/documents/${doc}/annotations`, { content: { ...SAMPLES.rectangle, pageIndex: 0, bbox: [100, 500, 100, 100], fillColor: '#0000ff', strokeColor: '#0000ff' } })
      const pdf = await download(`/documents/${doc}/pdf?flatten=true`)
      assert.equal(pdf.status, 200)
      qpdfCheck(pdf.bytes)
      assert.deepEqual(qpdfJson(pdf.bytes).annotations(0), [])
      const page = render(pdf.bytes, 0, 72)
      assert.equal(page.width, 612)
      const [r, g, b] = page.pixel(200, 320) // middle of the highlight (top-left origin, 72 dpi = points)
      assert.ok(r > 240 && g < 20 && b < 20, `red at the highlight, got ${[r, g, b]}`)
      const [r2, g2, b2] = page.pixel(150, 550)
      assert.ok(r2 < 20 && g2 < 20 && b2 > 240, `blue inside the rectangle, got ${[r2, g2, b2]}`)
      assert.deepEqual(page.pixel(400, 100), [255, 255, 255], 'white elsewhere')
      // Not flattened: the same highlight is an annotation, and the page renders it too.
      const plain = await download(`/documents/${doc}/pdf`)
      const [pr, pg, pb] = render(plain.bytes, 0, 72).pixel(200, 320)
      assert.ok(pr > 240 && pg < 20 && pb < 20)
    })

    test('flattening keeps the page content and works on pages with inherited resources and a cross-reference stream', async (t) => {
      if (!needPdfTools(t)) return
      const doc = await newDoc({ pages: [{ text: 'Keep me' }, {}], inheritFromPages: true, xref: 'stream', incrementalUpdate: true })
      await call('POST', `/documents/${doc}/annotations`, { content: highlightAt(1, 400, '#00ff00') })
      for (const q of ['', '?flatten=true']) {
        const pdf = await download(`/documents/${doc}/pdf${q}`)
        qpdfCheck(pdf.bytes)
        assert.match(pdfinfo(pdf.bytes), /Pages:\s+2\n/)
        const page = render(pdf.bytes, 1, 72)
        const [r, g, b] = page.pixel(200, 409)
        assert.ok(r < 20 && g > 240 && b < 20, `${q}: green highlight, got ${[r, g, b]}`)
        const text = render(pdf.bytes, 0, 72)
        let dark = 0
        for (let x = 0; x < text.width; x += 2) for (let y = 0; y < text.height; y += 2) if (text.pixel(x, y)[0] < 128) dark++
        assert.ok(dark > 50, `${q}: the original text of page 1 is still drawn (${dark} dark pixels)`)
      }
    })

    test('coordinates follow the visible box of a page with a CropBox', async (t) => {
      if (!needPdfTools(t)) return
      const doc = await newDoc({ pages: [{ cropBox: [100, 50, 500, 700] }] })
      await call('POST', `/documents/${doc}/annotations`, { id: 'c', content: { ...highlightAt(0, 10), bbox: [10, 20, 100, 30], rects: [[10, 20, 100, 30]] } })
      const annot = qpdfJson((await download(`/documents/${doc}/pdf`)).bytes).annotations(0)[0]!
      assert.ok(near(annot['/Rect'] as number[], [110, 650, 210, 680]), JSON.stringify(annot['/Rect']))
    })

    test('upload → export → upload keeps the annotations (type, id, geometry, colour, text)', async () => {
      const doc = await newDoc()
      const names = Object.keys(SAMPLES)
      await call('POST', `/documents/${doc}/annotations`, { annotations: names.map((name) => ({ id: name, content: SAMPLES[name] })) })
      const exported = await download(`/documents/${doc}/pdf`)
      const again = await upload(exported.bytes)
      assert.deepEqual(again.body.errors, [])
      const list = (await call('GET', `/documents/${again.id}/annotations`)).body.data.annotations as Array<{ id: string; content: Record<string, unknown> }>
      assert.deepEqual(list.map((a) => a.id).sort(), [...names].sort())
      for (const a of list) {
        const s = SAMPLES[a.id]!
        assert.equal(a.content.type, s.type, a.id)
        assert.equal(a.content.pageIndex, s.pageIndex, a.id)
        assert.ok(near(a.content.bbox as number[], s.bbox as number[]), `${a.id} bbox ${JSON.stringify(a.content.bbox)}`)
        for (const key of ['color', 'strokeColor', 'fillColor', 'text', 'rects', 'lines', 'startPoint', 'endPoint', 'stampType', 'icon', 'action', 'note']) {
          if (s[key] !== undefined && !(a.id === 'stamp' && key === 'color')) {
            const got = key === 'lines' ? { points: (a.content.lines as { points: unknown }).points } : a.content[key]
            const want = key === 'lines' ? { points: (s.lines as { points: unknown }).points } : s[key]
            assert.deepEqual(got, want, `${a.id}.${key}`)
          }
        }
      }
      // And a second export of the re-uploaded document holds each annotation once.
      const second = qpdfJson((await download(`/documents/${again.id}/pdf`)).bytes)
      const nms = [...second.annotations(0), ...second.annotations(1)].map((x) => x['/NM'])
      assert.equal(nms.length, names.length)
    })

    test('annotations in an uploaded PDF are imported; the export drops deleted ones and keeps widgets and other objects', async (t) => {
      if (!needPdfTools(t)) return
      const { id } = await upload(pdfWithAnnotations())
      const all = (await call('GET', `/documents/${id}/annotations`)).body.data.annotations
      assert.deepEqual(all.map((a: { id: string }) => a.id).sort(), ['native-hl', 'native-uri'])
      assert.deepEqual(all.find((a: { id: string }) => a.id === 'native-uri').content.action, { type: 'uri', uri: 'https://example.org/' })
      const list = all.filter((a: { id: string }) => a.id === 'native-hl')
      assert.deepEqual(list[0].content.rects, [[72, 72, 228, 30]])
      assert.equal(list[0].content.color, '#00ff00')
      assert.equal(list[0].content.creatorName, 'Ann Author')
      assert.equal(list[0].content.note, 'Native note')

      const unchanged = qpdfJson((await download(`/documents/${id}/pdf`)).bytes).annotations(0)
      assert.deepEqual(unchanged.map((a) => a['/Subtype']).sort(), ['/FileAttachment', '/Highlight', '/Link', '/Link', '/Widget'], 'the popup of a rewritten highlight goes with it')
      const positioned = unchanged.find((a) => Array.isArray(a['/Dest']))!
      assert.deepEqual(positioned['/Dest'], ['4 0 R', '/XYZ', 72, 300, 2], 'a link to a position is kept as it was')

      await call('DELETE', `/documents/${id}/annotations/native-hl`)
      const pdf = await download(`/documents/${id}/pdf`)
      qpdfCheck(pdf.bytes)
      const kept = qpdfJson(pdf.bytes).annotations(0).map((a) => a['/Subtype']).sort()
      assert.deepEqual(kept, ['/FileAttachment', '/Link', '/Link', '/Widget'])

      // A new layer without a source starts from the PDF's own annotations (the base layer).
      await call('POST', `/documents/${id}/layers`, { name: 'fresh' })
      const fresh = (await call('GET', `/documents/${id}/layers/fresh/annotations`)).body.data.annotations
      assert.deepEqual(fresh.map((a: { id: string }) => a.id).sort(), ['native-hl', 'native-uri'])
      const layerPdf = qpdfJson((await download(`/documents/${id}/layers/fresh/pdf`)).bytes).annotations(0)
      assert.deepEqual(layerPdf.map((a) => a['/Subtype']).sort(), ['/FileAttachment', '/Highlight', '/Link', '/Link', '/Widget'])
    })

    test('without annotations the download is the source; ETags change with the annotations; ranges work', async () => {
      const source = makePdf({ pages: [{}, {}] })
      const { id } = await upload(source)
      const plain = await download(`/documents/${id}/pdf`)
      assert.equal(sha256(plain.bytes), sha256(source))
      assert.equal(plain.headers.get('etag'), `"${sha256(source)}"`)

      await call('POST', `/documents/${id}/annotations`, { id: 'e1', content: highlightAt(0, 10) })
      const first = await download(`/documents/${id}/pdf`)
      const etag = first.headers.get('etag')!
      assert.notEqual(etag, plain.headers.get('etag'))
      assert.equal(first.bytes.subarray(0, source.length).compare(source), 0, 'an incremental update: the source bytes come first, unchanged')
      assert.equal((await download(`/documents/${id}/pdf`, { 'if-none-match': etag })).status, 304)
      const part = await download(`/documents/${id}/pdf`, { range: `bytes=${source.length - 10}-${source.length + 20}` })
      assert.equal(part.status, 206)
      assert.equal(part.bytes.compare(first.bytes.subarray(source.length - 10, source.length + 21)), 0)

      await call('PUT', `/documents/${id}/annotations/e1`, { content: highlightAt(0, 20) })
      const second = await download(`/documents/${id}/pdf`)
      assert.notEqual(second.headers.get('etag'), etag)
      assert.equal(sha256((await download(`/documents/${id}/pdf?source=true`)).bytes), sha256(source))
      assertError(await call('GET', `/documents/${id}/pdf?source=true&flatten=true`), 400, 'bad_request')
      assertError(await call('GET', `/documents/nope/layers/x/pdf`), 404, 'document_not_found')
    })

    test('an encrypted PDF with annotations cannot be exported with them (422 pdf_encrypted); its source can', async () => {
      const doc = await newDoc({ pages: [{}], encryptMarker: true })
      await call('POST', `/documents/${doc}/annotations`, { content: highlightAt(0, 10) })
      assertError(await call('GET', `/documents/${doc}/pdf`), 422, 'pdf_encrypted')
      assert.equal((await download(`/documents/${doc}/pdf?source=true`)).status, 200)
    })
  })
}
