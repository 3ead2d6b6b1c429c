/**
 * XFDF export (get-document-xfdf, get-document-layer-xfdf) read back by an independent XML
 * parser (Python's xml.etree): one element per annotation, PDF user-space rects (y flipped),
 * quad points, contents escaped, the layer's annotations only.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import { assertError, request } from '../../helpers/http.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'
import { textPdf } from '../../helpers/text-pdfs.js'

interface Element { tag: string; attrib: Record<string, string>; contents: string | null; gestures: string[] }

/** Python's own XML parser (expat), not Folio's code, reads the document. */
function parseXfdf(xml: string): { root: string; annots: Element[] } {
  const script = `
import sys, json, xml.etree.ElementTree as ET
ns = '{http://ns.adobe.com/xfdf/}'
root = ET.fromstring(sys.stdin.buffer.read())
annots = root.find(ns + 'annots')
out = []
for el in list(annots):
    c = el.find(ns + 'contents')
    out.append({'tag': el.tag.replace(ns, ''), 'attrib': el.attrib, 'contents': None if c is None else c.text, 'gestures': [g.text for g in el.iter(ns + 'gesture')]})
print(json.dumps({'root': root.tag, 'annots': out}))
`
  const r = spawnSync('python3', ['-c', script], { input: xml })
  assert.equal(r.status, 0, String(r.stderr))
  return JSON.parse(r.stdout.toString())
}

for (const db of dbKinds()) {
  describe(`XFDF export (${db})`, () => {
    let f: TestFolio
    const post = (path: string, content: unknown) => request(`${f.url}${path}`, { method: 'POST', headers: authHeader(), json: { content } })
    before(async () => {
      f = await startFolio({ db })
      assert.equal((await request(`${f.url}/api/documents?document_id=x1`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: textPdf({ pages: [['one'], ['two']] }) })).status, 200)
    })
    after(async () => {
      await f.destroy()
    })

    test('each annotation becomes its XFDF element with PDF user-space coordinates and escaped contents', async () => {
      const hl = await post('/api/documents/x1/annotations', { v: 2, type: 'pspdfkit/markup/highlight', pageIndex: 0, bbox: [72, 100, 300, 18], rects: [[72, 100, 300, 18]], color: '#ff0000', opacity: 0.5, note: 'a <b> & "c"' })
      await post('/api/documents/x1/annotations', { v: 2, type: 'pspdfkit/shape/rectangle', pageIndex: 1, bbox: [50, 50, 100, 80], strokeColor: '#00ff00', strokeWidth: 2, fillColor: '#ffff00' })
      await post('/api/documents/x1/annotations', { v: 2, type: 'pspdfkit/ink', pageIndex: 0, bbox: [50, 250, 100, 100], lines: { points: [[[50, 250], [100, 300]]], intensities: [[1, 1]] }, lineWidth: 3, strokeColor: '#0000ff', isDrawnNaturally: false })
      await post('/api/documents/x1/annotations', { v: 2, type: 'pspdfkit/link', pageIndex: 0, bbox: [50, 600, 100, 20], action: { type: 'uri', uri: 'https://example.com/' } })
      await post('/api/documents/x1/layers/other/annotations', { v: 2, type: 'pspdfkit/note', pageIndex: 1, bbox: [400, 400, 32, 32], text: { format: 'plain', value: 'layer note ✓' }, icon: 'comment', color: '#ffcc00' })

      const res = await fetch(`${f.url}/api/documents/x1/document.xfdf`, { headers: authHeader() })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'application/vnd.adobe.xfdf')
      const doc = parseXfdf(await res.text())
      assert.equal(doc.root, '{http://ns.adobe.com/xfdf/}xfdf')
      assert.deepEqual(doc.annots.map((a) => a.tag), ['highlight', 'square', 'ink'], 'the link has no XFDF mapping here and is left out')
      const [h, sq, ink] = doc.annots as [Element, Element, Element]
      assert.deepEqual([h.attrib.page, h.attrib.rect, h.attrib.name, h.attrib.color, h.attrib.opacity], ['0', '72,674,372,692', hl.body.data.id, '#ff0000', '0.5'])
      assert.equal(h.attrib.coords, '72,692,372,692,72,674,372,674')
      assert.equal(h.contents, 'a <b> & "c"')
      assert.deepEqual([sq.attrib.page, sq.attrib.rect, sq.attrib['interior-color'], sq.attrib.width], ['1', '50,662,150,742', '#ffff00', '2'])
      assert.deepEqual(ink.gestures, ['50,542;100,492'])

      const layered = parseXfdf(await (await fetch(`${f.url}/api/documents/x1/layers/other/document.xfdf`, { headers: authHeader() })).text())
      assert.deepEqual(layered.annots.map((a) => [a.tag, a.attrib.icon, a.contents]), [['text', 'Comment', 'layer note ✓']])
      assertError(await request(`${f.url}/api/documents/none/document.xfdf`, { headers: authHeader() }), 404, 'document_not_found')
    })
  })
}
