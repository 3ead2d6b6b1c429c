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
import { FolioError } from '../../../src/errors.js'
import { importXfdf } from '../../../src/xfdf/import.js'

/** Written by hand from the XFDF 3.0 specification (§6.4 annotation elements), as another tool would. */
const HAND_XFDF = `<?xml version="1.0" encoding="UTF-8"?>
<xfdf xmlns="http://ns.adobe.com/xfdf/" xml:space="preserve">
  <annots>
    <highlight page="0" rect="72,674,372,692" color="#FFFF00" name="hl-1" title="Ann" opacity="0.5"
      coords="72,692,372,692,72,674,372,674"><contents>see &amp; check &lt;this&gt;</contents></highlight>
    <square page="1" rect="50,662,150,742" color="#00FF00" interior-color="#FFFF00" width="2" name="sq-1"/>
    <circle page="0" rect="200,100,300,200" color="#0000FF" name="ci-1"/>
    <line page="0" rect="40,400,260,470" start="50,460" end="250,410" color="#000000" width="2" name="ln-1"/>
    <ink page="0" rect="40,440,160,560" color="#0000FF" width="3" name="ink-1"><inklist><gesture>50,550;100,500;150,450</gesture></inklist></ink>
    <text page="1" rect="400,360,432,392" color="#FFCC00" icon="Comment" name="tx-1"><contents>A note</contents></text>
    <freetext page="0" rect="300,232,500,292" name="ft-1"><contents>Free text</contents></freetext>
    <fileattachment page="0" rect="1,1,2,2" name="fa-1"/>
  </annots>
</xfdf>`

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

    test('XFDF written by hand from the specification imports as valid Instant JSON and exports back to the same elements', async () => {
      const pages = [{ width: 612, height: 792 }, { width: 612, height: 792 }]
      const imported = importXfdf(HAND_XFDF, pages)
      assert.equal(imported.skipped, 1, 'the file attachment has no mapping')
      const applied = await request(`${f.url}/api/documents/x1/layers/xfdf/apply_instant_json`, {
        method: 'POST', headers: authHeader(), json: { format: 'https://pspdfkit.com/instant-json/v1', annotations: imported.annotations },
      })
      assert.equal(applied.status, 200, applied.text)
      assert.equal(applied.body.data.created, 7)
      const back = parseXfdf(await (await fetch(`${f.url}/api/documents/x1/layers/xfdf/document.xfdf`, { headers: authHeader() })).text())
      const original = parseXfdf(HAND_XFDF)
      const key = (a: Element) => a.attrib.name!
      const want = new Map(original.annots.filter((a) => a.tag !== 'fileattachment').map((a) => [key(a), a]))
      assert.equal(back.annots.length, want.size)
      for (const a of back.annots) {
        const o = want.get(key(a))!
        assert.equal(a.tag, o.tag)
        assert.equal(a.attrib.page, o.attrib.page)
        assert.deepEqual(a.attrib.rect!.split(',').map(Number), o.attrib.rect!.split(',').map(Number), `${o.tag} rect`)
        for (const attr of ['coords', 'start', 'end', 'interior-color', 'width']) {
          if (o.attrib[attr] !== undefined) assert.equal(a.attrib[attr]?.toLowerCase(), o.attrib[attr]!.toLowerCase(), `${o.tag} ${attr}`)
        }
        assert.equal(a.contents ?? null, o.contents ?? null)
        assert.deepEqual(a.gestures, o.gestures)
      }
    })

    test('hostile XFDF is refused with invalid_xfdf: entity declarations, deep nesting, not XML', () => {
      const laughs = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><xfdf><annots><text page="0" rect="1,1,2,2"><contents>&b;</contents></text></annots></xfdf>`
      const deep = `<xfdf><annots>${'<a>'.repeat(100)}${'</a>'.repeat(100)}</annots></xfdf>`
      for (const xml of [laughs, deep, '<xfdf><annots><text page="0"', 'not xml at all']) {
        assert.throws(() => importXfdf(xml, [{ width: 612, height: 792 }]), (e: unknown) => e instanceof FolioError && e.code === 'invalid_xfdf', xml.slice(0, 40))
      }
    })
  })
}
