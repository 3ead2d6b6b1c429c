/**
 * The outline (get-document-outline) checked against qpdf --json's reading of the same file,
 * and bookmarks (pspdfkit/bookmark records) per layer over /api, the client surfaces,
 * document.json and apply_instant_json, on both databases.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { assertError, request } from '../../helpers/http.js'
import { claimsFor, keyPair, signToken } from '../../helpers/jwt.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'
import { textPdf, type OutlineSpec } from '../../helpers/text-pdfs.js'

const OUTLINE: OutlineSpec[] = [
  { title: 'Chapter 1', page: 0, children: [{ title: 'Section 1.1', page: 1 }, { title: 'Ünïcode ✓ (x)', page: 2 }] },
  { title: 'Closed', page: 2, open: false, children: [{ title: 'Hidden', page: 0 }] },
  { title: 'Web', uri: 'https://example.com/x?y=1' },
]

interface QpdfOutline { title: string; destpageposfrom1: number | null; open: boolean; kids: QpdfOutline[] }

function qpdfOutlines(pdf: Buffer): QpdfOutline[] {
  const dir = mkdtempSync(join(tmpdir(), 'folio-outline-'))
  try {
    writeFileSync(join(dir, 'f.pdf'), pdf)
    const r = spawnSync('qpdf', ['--json', '--json-key=outlines', join(dir, 'f.pdf')])
    assert.equal(r.status, 0, String(r.stderr))
    return JSON.parse(r.stdout.toString()).outlines
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

type Element = { title: string; isExpanded: boolean; action?: { type: string; pageIndex?: number; uri?: string }; children: Element[] }

/** The common ground of both readings: title, target page, open state of nodes with children. */
const fromQpdf = (o: QpdfOutline[]): unknown[] => o.map((n) => ({ title: n.title, page: n.destpageposfrom1 === null ? null : n.destpageposfrom1 - 1, open: n.kids.length ? n.open : null, kids: fromQpdf(n.kids) }))
const fromFolio = (o: Element[]): unknown[] => o.map((n) => ({ title: n.title, page: n.action?.type === 'goTo' ? n.action.pageIndex : null, open: n.children.length ? n.isExpanded : null, kids: fromFolio(n.children) }))

for (const db of dbKinds()) {
  describe(`outline and bookmarks (${db})`, () => {
    let f: TestFolio
    const doc = 'outline-doc'
    const pdf = textPdf({ pages: [['one'], ['two'], ['three']], outline: OUTLINE })
    const pair = keyPair('ES256')
    const call = (method: string, path: string, json?: unknown, headers: Record<string, string> = authHeader()) =>
      request(`${f.url}${path}`, { method, headers, ...(json === undefined ? {} : { json }) })
    const mark = (pageIndex: number, name = `p${pageIndex}`) => ({ type: 'pspdfkit/bookmark', v: 1, name, action: { type: 'goTo', pageIndex } })

    before(async () => {
      f = await startFolio({ db, env: { JWT_PUBLIC_KEY: pair.publicPem, JWT_ALGORITHM: 'ES256', RENDER_WORKERS: '1' } })
      for (const [id, body] of [[doc, pdf], ['plain-doc', textPdf({ pages: [['no outline']] })]] as const) {
        assert.equal((await request(`${f.url}/api/documents?document_id=${id}`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body })).status, 200)
      }
    })
    after(async () => {
      await f.destroy()
    })

    test('outline.json is the nested outline with its targets, as qpdf reads it', async () => {
      const res = await call('GET', `/api/documents/${doc}/outline.json`)
      assert.equal(res.status, 200, res.text)
      const outline: Element[] = res.body.data.outline
      assert.deepEqual(fromFolio(outline), fromQpdf(qpdfOutlines(pdf)))
      assert.equal(outline[0]!.children[1]!.title, 'Ünïcode ✓ (x)')
      assert.deepEqual(outline[2]!.action, { type: 'uri', uri: 'https://example.com/x?y=1' })
      assert.equal((outline[0] as unknown as { type: string }).type, 'pspdfkit/outline-element')
      assert.equal(res.body.data.truncated, false)
      assert.deepEqual((await call('GET', '/api/documents/plain-doc/outline.json')).body.data.outline, [])
      const token = await signToken(claimsFor(doc, ['read-document']), pair)
      const viewer = await call('GET', `/documents/${doc}/outline.json`, undefined, { authorization: `Bearer ${token}` })
      assert.deepEqual(viewer.body, res.body)
    })

    test('an outline whose /Next points back (a cycle) is read once and answered, not looped on', async () => {
      // Same byte length, so the cross-reference offsets stay right: B's /Prev A becomes /Next A.
      const cyclic = Buffer.from(textPdf({ pages: [['x']], outline: [{ title: 'A', page: 0 }, { title: 'B', page: 0 }] }).toString('latin1').replace('/Prev', '/Next'), 'latin1')
      const up = await request(`${f.url}/api/documents?document_id=cyclic`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: cyclic })
      assert.equal(up.status, 200, up.text)
      const res = await call('GET', '/api/documents/cyclic/outline.json')
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(res.body.data.outline.map((o: { title: string }) => o.title), ['A', 'B'])
    })

    test('bookmarks are created (given or new id), listed, replaced and deleted per layer', async () => {
      const created = await call('POST', `/api/documents/${doc}/bookmarks`, { content: mark(1) })
      assert.equal(created.status, 200, created.text)
      const id = created.body.data.id
      assert.match(id, /^[0-9A-Z]{26}$/)
      assert.equal((await call('POST', `/api/documents/${doc}/bookmarks`, { id: 'mine', content: mark(2), createdBy: 'ann' })).status, 200)
      assertError(await call('POST', `/api/documents/${doc}/bookmarks`, { id: 'mine', content: mark(0) }), 409, 'bookmark_exists')
      let list = (await call('GET', `/api/documents/${doc}/bookmarks`)).body.data.bookmarks
      assert.deepEqual(list.map((b: { id: string }) => b.id).sort(), [id, 'mine'].sort())
      assert.deepEqual(list.find((b: { id: string }) => b.id === 'mine'), { id: 'mine', content: mark(2), createdBy: 'ann', updatedBy: 'ann' })

      const put = await call('PUT', `/api/documents/${doc}/bookmarks/mine`, { content: mark(0, 'renamed'), updatedBy: 'bob' })
      assert.equal(put.status, 200, put.text)
      assert.deepEqual([put.body.data.content.name, put.body.data.createdBy, put.body.data.updatedBy], ['renamed', 'ann', 'bob'])

      assert.equal((await call('POST', `/api/documents/${doc}/layers/review/bookmarks`, { id: 'r1', content: mark(2) })).status, 200)
      assert.deepEqual((await call('GET', `/api/documents/${doc}/layers/review/bookmarks`)).body.data.bookmarks.map((b: { id: string }) => b.id), ['r1'])

      assert.equal((await call('DELETE', `/api/documents/${doc}/bookmarks/mine`)).status, 200)
      assertError(await call('DELETE', `/api/documents/${doc}/bookmarks/mine`), 404, 'bookmark_not_found')
      assertError(await call('PUT', `/api/documents/${doc}/bookmarks/nope`, { content: mark(0) }), 404, 'bookmark_not_found')
      list = (await call('GET', `/api/documents/${doc}/bookmarks`)).body.data.bookmarks
      assert.deepEqual(list.map((b: { id: string }) => b.id), [id])
    })

    test('an invalid bookmark is 400 invalid_bookmark and nothing is written', async () => {
      for (const content of [{ ...mark(0), type: 'pspdfkit/note' }, { ...mark(0), v: 2 }, mark(3), { ...mark(0), action: { type: 'explode' } }, { ...mark(0), name: 'x'.repeat(20_000) }]) {
        assertError(await call('POST', `/api/documents/${doc}/layers/bad/bookmarks`, { content }), 400, 'invalid_bookmark')
      }
      assert.deepEqual((await call('GET', `/api/documents/${doc}/layers/bad/bookmarks`)).body.data.bookmarks, [])
      assertError(await call('GET', '/api/documents/nope/bookmarks'), 404, 'document_not_found')
    })

    test('document.json carries the layer\'s bookmarks and apply_instant_json writes them, all or nothing', async () => {
      const exported = (await call('GET', `/api/documents/${doc}/layers/review/document.json`)).body
      assert.deepEqual(exported.bookmarks, [{ ...mark(2), id: 'r1' }])
      const applied = await call('POST', `/api/documents/${doc}/layers/copy/apply_instant_json`, { format: 'https://pspdfkit.com/instant-json/v1', annotations: [], bookmarks: [...exported.bookmarks, mark(1, 'new')] })
      assert.equal(applied.status, 200, applied.text)
      const copied = (await call('GET', `/api/documents/${doc}/layers/copy/bookmarks`)).body.data.bookmarks
      assert.deepEqual(copied.map((b: { content: { name: string } }) => b.content.name).sort(), ['new', 'p2'])
      const bad = await call('POST', `/api/documents/${doc}/layers/copy2/apply_instant_json`, { format: 'https://pspdfkit.com/instant-json/v1', annotations: [], bookmarks: [mark(0), mark(9)] })
      assertError(bad, 400, 'invalid_bookmark')
      assert.deepEqual((await call('GET', `/api/documents/${doc}/layers/copy2/bookmarks`)).body.data.bookmarks, [])
    })

    test('viewers list with read-document and change with write, in their token\'s layer and name', async () => {
      const reader = await signToken(claimsFor(doc, ['read-document'], { layer: 'review' }), pair)
      const writer = await signToken(claimsFor(doc, ['read-document', 'write'], { layer: 'review', user_id: 'viewer-1' }), pair)
      const bearer = (t: string) => ({ authorization: `Bearer ${t}` })
      assert.deepEqual((await call('GET', `/i/d/${doc}/bookmarks`, undefined, bearer(reader))).body.data.bookmarks.map((b: { id: string }) => b.id), ['r1'])
      assertError(await call('POST', `/documents/${doc}/bookmarks`, { content: mark(0) }, bearer(reader)), 403, 'forbidden')
      const made = await call('POST', `/documents/${doc}/bookmarks`, { content: mark(0), createdBy: 'someone-else' }, bearer(writer))
      assert.equal(made.status, 200, made.text)
      const mine = (await call('GET', `/api/documents/${doc}/layers/review/bookmarks`)).body.data.bookmarks.find((b: { id: string }) => b.id === made.body.data.id)
      assert.equal(mine.createdBy, 'viewer-1')
      assert.equal((await call('DELETE', `/i/d/${doc}/bookmarks/${made.body.data.id}`, undefined, bearer(writer))).status, 200)
    })
  })
}
