/**
 * The Build API (POST /api/build): parts (multipart files, stored documents, new pages), page
 * ranges with Document Engine's semantics, actions, PDF and image outputs, and every refusal
 * naming its field. Results are checked with independent tools (pdfinfo, pdftotext, qpdf,
 * pdftoppm), never with Folio's own reader.
 */
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { unzipSync } from 'fflate'
import sharp from 'sharp'
import { highlightAt, SAMPLES } from '../../helpers/annotation-samples.js'
import { assertError, request } from '../../helpers/http.js'
import { needPdfTools, qpdfCheck, qpdfJson, render } from '../../helpers/pdf-tools.js'
import { authHeader, startFolio, type TestFolio } from '../../helpers/start-folio.js'
import { pdfPages, pdfText, pdftotext, post, upload, withTmp } from '../../helpers/build.js'

describe('POST /api/build', () => {
  let f: TestFolio
  before(async () => {
    f = await startFolio({ db: 'pglite' })
    await upload(f, 'stored', pdfText(['Stored one', 'Stored two', 'Stored three']))
  })
  after(async () => {
    await f.destroy()
  })

  test('the OpenAPI document lists the editing routes at Document Engine\'s paths with its operation ids', async () => {
    const res = await request(`${f.url}/api/openapi.json`)
    const ops = new Map<string, string>()
    for (const [path, item] of Object.entries<Record<string, { operationId: string }>>(res.body.paths)) {
      for (const [method, op] of Object.entries(item)) ops.set(op.operationId, `${method.toUpperCase()} ${path}`)
    }
    assert.equal(ops.get('build-document'), 'POST /api/build')
    assert.equal(ops.get('document-apply-instructions'), 'POST /api/documents/{documentId}/apply_instructions')
    assert.equal(ops.get('document-layer-apply-instructions'), 'POST /api/documents/{documentId}/layers/{layerName}/apply_instructions')
    assert.equal(ops.get('edit-and-persist-document-pdf'), 'POST /api/documents/{documentId}/apply_operations')
    assert.equal(ops.get('edit-and-download-document-pdf'), 'POST /api/documents/{documentId}/pdf_with_operations')
    assert.equal(ops.get('list-document-versions'), 'GET /api/documents/{documentId}/versions')
  })

  test('file parts are merged in order, with pages ranges counted from the end when negative', async (t) => {
    if (!needPdfTools(t)) return
    const a = pdfText(['A1', 'A2', 'A3', 'A4'])
    const b = pdfText(['B1', 'B2'])
    const res = await post(f, '/api/build', { parts: [{ file: 'a', pages: { start: 1, end: -2 } }, { file: 'b' }, { file: 'a', pages: { start: -1 } }] }, { a, b })
    assert.equal(res.status, 200, res.body.toString())
    assert.equal(res.headers.get('content-type'), 'application/pdf')
    qpdfCheck(res.body)
    assert.equal(pdfPages(res.body).count, 5)
    const text = pdftotext(res.body).split('\f').map((s) => s.trim())
    assert.deepEqual(text.slice(0, 5), ['A2', 'A3', 'B1', 'B2', 'A4'])
  })

  test('JSON instructions (no multipart) build from stored documents and new pages', async (t) => {
    if (!needPdfTools(t)) return
    const res = await fetch(`${f.url}/api/build`, {
      method: 'POST', headers: { ...authHeader(), 'content-type': 'application/json' },
      body: JSON.stringify({ parts: [{ page: 'new', layout: { size: { width: 100, height: 50 } } }, { document: { id: 'stored' }, pages: { start: -2 } }] }),
    })
    assert.equal(res.status, 200)
    const pdf = Buffer.from(await res.arrayBuffer())
    const info = pdfPages(pdf)
    assert.equal(info.count, 3)
    assert.match(info.pages[0]!.size, /^283\.46\d* x 141\.73\d*$/)
    assert.deepEqual(pdftotext(pdf).split('\f').map((s) => s.trim()).slice(0, 3), ['', 'Stored two', 'Stored three'])
  })

  test('a stored document part with its annotations and new pages (A4 landscape) give the right pages', async (t) => {
    if (!needPdfTools(t)) return
    const created = await request(`${f.url}/api/documents/stored/annotations`, { method: 'POST', headers: authHeader(), json: { id: 'h1', content: highlightAt(2, 100) } })
    assert.equal(created.status, 200, created.text)
    const res = await post(f, '/api/build', { parts: [{ document: { id: 'stored' }, pages: { start: 2, end: 2 } }, { page: 'new', pageCount: 2, layout: { size: 'A4', orientation: 'landscape' } }] })
    assert.equal(res.status, 200, res.body.toString())
    qpdfCheck(res.body)
    const info = pdfPages(res.body)
    assert.equal(info.count, 3)
    assert.equal(info.pages[0]!.size, '612 x 792')
    assert.match(info.pages[1]!.size, /^841\.8\d* x 595\.2\d*$/)
    assert.equal(pdftotext(res.body, 1).trim(), 'Stored three')
    const doc = qpdfJson(res.body)
    assert.deepEqual(doc.annotations(0).map((a) => a['/Subtype']), ['/Highlight'], 'the annotation of the stored page is in the built file')
    assert.equal(doc.annotations(1).length, 0)
  })

  test('rotate, flatten and a text watermark; output metadata; user_password encrypts for real', async (t) => {
    if (!needPdfTools(t)) return
    const res = await post(f, '/api/build', {
      parts: [{ file: 'a', actions: [{ type: 'rotate', rotateBy: 90 }] }, { file: 'b' }],
      actions: [{ type: 'watermark', text: 'CONFIDENTIAL', width: { value: 50, unit: '%' }, height: { value: 100, unit: 'pt' }, opacity: 0.5, fontColor: '#ff0000' }],
      output: { type: 'pdf', metadata: { title: 'Built title', author: 'Folio tests' }, user_password: 'open-me', owner_password: 'own-it', user_permissions: ['printing'] },
    }, { a: pdfText(['Alpha']), b: pdfText(['Beta']) })
    assert.equal(res.status, 200, res.body.toString())
    const out = withTmp(res.body, (p) => {
      const noPassword = spawnSync('qpdf', ['--check', p])
      assert.notEqual(noPassword.status, 0, 'without the password the file does not open')
      const check = spawnSync('qpdf', ['--password=open-me', '--check', p], { encoding: 'utf8' })
      assert.equal(check.status, 0, check.stderr)
      const enc = execFileSync('qpdf', ['--password=open-me', '--show-encryption', p], { encoding: 'utf8' })
      assert.match(enc, /R = 6/)
      assert.match(enc, /print low resolution: allowed/)
      assert.match(enc, /modify document assembly: not allowed/)
      return execFileSync('pdfinfo', ['-upw', 'open-me', '-f', '1', '-l', '2', p], { encoding: 'utf8' })
    })
    assert.match(out, /Title:\s+Built title/)
    assert.match(out, /Author:\s+Folio tests/)
    assert.match(out, /Page\s+1 rot:\s+90/)
    assert.match(out, /Page\s+2 rot:\s+0/)
    const text = withTmp(res.body, (p) => execFileSync('pdftotext', ['-upw', 'open-me', p, '-'], { encoding: 'utf8' }))
    assert.equal(text.match(/CONFIDENTIAL/g)?.length, 2, text)
    // The watermark is red and half transparent in the middle of page 2 (pixels of poppler).
    const plain = withTmp(res.body, (p) => {
      const dec = `${p}.dec.pdf`
      execFileSync('qpdf', ['--password=open-me', '--decrypt', p, dec])
      return execFileSync('cat', [dec])
    })
    const page = render(plain, 1, 36)
    let reddish = 0
    for (let y = 0; y < page.height; y++) for (let x = 0; x < page.width; x++) {
      const [r, g, b] = page.pixel(x, y)
      if (r > 200 && g > 60 && g < 200 && b > 60 && b < 200) reddish++
    }
    assert.ok(reddish > 20, `half-transparent red watermark pixels: ${reddish}`)
  })

  test('a watermark in Cyrillic, Greek and CJK embeds a font subset that pdftotext reads back exactly', async (t) => {
    if (!needPdfTools(t)) return
    const text = 'Привет Καλημέρα 你好世界'
    const res = await post(f, '/api/build', { parts: [{ file: 'a' }], actions: [{ type: 'watermark', text, width: { value: 80, unit: '%' }, height: { value: 60, unit: 'pt' }, fontColor: '#0000ff' }] }, { a: pdfText(['']) })
    assert.equal(res.status, 200, res.body.toString())
    qpdfCheck(res.body)
    assert.equal(pdftotext(res.body).trim(), text)
    const fonts = withTmp(res.body, (p) => execFileSync('pdffonts', [p], { encoding: 'utf8' }))
    assert.match(fonts, /FOLIOA\+Unicode\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes/)
    assert.match(fonts, /FOLIOB\+Unicode\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes/)
    assert.ok(res.body.length < 200_000, `subset, not the whole CJK font: ${res.body.length} bytes`)
    const page = render(res.body, 0, 36)
    let blue = 0
    for (let y = 0; y < page.height; y++) for (let x = 0; x < page.width; x++) {
      const [r, g, b] = page.pixel(x, y)
      if (b > 150 && r < 100 && g < 100) blue++
    }
    assert.ok(blue > 50, `the glyphs are drawn: ${blue} blue pixels`)
  })

  test('a text annotation in Cyrillic, Greek and CJK is written with an embedded font that pdftotext reads back exactly', async (t) => {
    if (!needPdfTools(t)) return
    await upload(f, 'uni', pdfText(['']))
    const value = 'Привет Καλημέρα 你好世界'
    const content = { ...SAMPLES.text, pageIndex: 0, bbox: [72, 72, 400, 40], text: { format: 'plain', value }, backgroundColor: '#ffffff' }
    assert.equal((await request(`${f.url}/api/documents/uni/annotations`, { method: 'POST', headers: authHeader(), json: { id: 't1', content } })).status, 200)
    const res = await fetch(`${f.url}/api/documents/uni/pdf?flatten=true`, { headers: authHeader() })
    const pdf = Buffer.from(await res.arrayBuffer())
    qpdfCheck(pdf)
    assert.equal(pdftotext(pdf).trim(), value)
    const plain = Buffer.from(await (await fetch(`${f.url}/api/documents/uni/pdf`, { headers: authHeader() })).arrayBuffer())
    const fonts = withTmp(plain, (p) => execFileSync('pdffonts', [p], { encoding: 'utf8' }))
    assert.match(fonts, /FOLIOB\+Unicode\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes/)
  })

  test('optimize writes object streams and linearizes', async (t) => {
    if (!needPdfTools(t)) return
    const res = await post(f, '/api/build', { parts: [{ file: 'a' }], output: { type: 'pdf', optimize: { linearize: true } } }, { a: pdfText(['One', 'Two']) })
    assert.equal(res.status, 200, res.body.toString())
    const check = withTmp(res.body, (p) => execFileSync('qpdf', ['--check-linearization', p], { encoding: 'utf8' }))
    assert.match(check, /no linearization errors/)
    assert.ok(Object.values(qpdfJson(res.body).objects).some((o) => JSON.stringify(o).includes('/ObjStm')), 'object streams')
  })

  test('labels in the output are page labels qpdf reads back', async (t) => {
    if (!needPdfTools(t)) return
    const res = await post(f, '/api/build', { parts: [{ file: 'a' }], output: { type: 'pdf', labels: [{ pages: { start: 0, end: 1 }, label: 'Cover' }] } }, { a: pdfText(['One', 'Two', 'Three']) })
    assert.equal(res.status, 200, res.body.toString())
    const json = withTmp(res.body, (p) => JSON.parse(execFileSync('qpdf', ['--json', '--json-key=pagelabels', p], { encoding: 'utf8' })))
    assert.equal(json.pagelabels[0].index, 0)
    assert.equal(json.pagelabels[0].label['/P'], 'u:Cover')
  })

  test('applyInstantJson writes the annotations into the built file', async (t) => {
    if (!needPdfTools(t)) return
    const ij = JSON.stringify({ format: 'https://pspdfkit.com/instant-json/v1', annotations: [{ ...highlightAt(1, 200), id: 'x1' }] })
    const res = await post(f, '/api/build', { parts: [{ file: 'a' }], actions: [{ type: 'applyInstantJson', file: 'ij' }] }, { a: pdfText(['One', 'Two']), ij })
    assert.equal(res.status, 200, res.body.toString())
    qpdfCheck(res.body)
    const doc = qpdfJson(res.body)
    assert.equal(doc.annotations(0).length, 0)
    assert.deepEqual(doc.annotations(1).map((a) => a['/Subtype']), ['/Highlight'])
  })

  test('an image watermark from a multipart part is drawn', async (t) => {
    if (!needPdfTools(t)) return
    const png = await sharp({ create: { width: 20, height: 20, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 1 } } }).png().toBuffer()
    const res = await post(f, '/api/build', {
      parts: [{ file: 'a' }],
      actions: [{ type: 'watermark', image: 'logo', width: { value: 100, unit: 'pt' }, height: { value: 100, unit: 'pt' }, left: { value: 0, unit: 'pt' }, top: { value: 0, unit: 'pt' } }],
    }, { a: pdfText(['']), logo: png })
    assert.equal(res.status, 200, res.body.toString())
    const page = render(res.body, 0, 72)
    const [r, g, b] = page.pixel(50, 50)
    assert.ok(b > 200 && r < 60 && g < 60, `blue at the top left: ${[r, g, b]}`)
    const [r2, , b2] = page.pixel(300, 400)
    assert.ok(r2 > 240 && b2 > 240, 'white elsewhere')
  })

  test('image output: one page as PNG, several as a zip of JPEGs, with width or dpi', async (t) => {
    if (!needPdfTools(t)) return
    const one = await post(f, '/api/build', { parts: [{ file: 'a' }], output: { type: 'image', format: 'png', pages: { start: 1, end: 1 }, width: 306 } }, { a: pdfText(['One', 'Two']) })
    assert.equal(one.status, 200, one.body.toString())
    assert.equal(one.headers.get('content-type'), 'image/png')
    const meta = await sharp(one.body).metadata()
    assert.equal(meta.width, 306)
    assert.equal(meta.height, 396)
    const many = await post(f, '/api/build', { parts: [{ file: 'a' }], output: { type: 'image', format: 'jpg', dpi: 36 } }, { a: pdfText(['One', 'Two']) })
    assert.equal(many.status, 200, many.body.toString())
    assert.equal(many.headers.get('content-type'), 'application/zip')
    const files = unzipSync(new Uint8Array(many.body))
    assert.deepEqual(Object.keys(files).sort(), ['page-0.jpg', 'page-1.jpg'])
    const m = await sharp(Buffer.from(files['page-1.jpg']!)).metadata()
    assert.equal(m.format, 'jpeg')
    assert.equal(m.width, 306)
  })

  test('json-content output gives each page its plain text, lines and words with boxes, and key-value pairs', async () => {
    const res = await post(f, '/api/build', { parts: [{ file: 'a' }], output: { type: 'json-content', plainText: true, structuredText: true, keyValuePairs: true } }, { a: pdfText(['Mail bob@example.com on 2024-05-01']) })
    assert.equal(res.status, 200, res.body.toString())
    const body = res.json()
    assert.equal(body.pages.length, 1)
    assert.match(body.pages[0].plainText, /Mail bob@example\.com on 2024-05-01/)
    assert.equal(body.pages[0].structuredText.words[0].value, 'Mail')
    assert.ok(body.pages[0].structuredText.words[0].bbox.width > 0)
    const kv = body.pages[0].keyValuePairs.map((p: { type: string; value: string }) => `${p.type}=${p.value}`)
    assert.ok(kv.includes('email=bob@example.com'), kv.join())
    assert.ok(kv.includes('date=2024-05-01'), kv.join())
  })

  test('pdf_with_instant_json returns the PDF with the stored and the uploaded annotations; the document is unchanged', async (t) => {
    if (!needPdfTools(t)) return
    await upload(f, 'pij', pdfText(['One', 'Two']))
    assert.equal((await request(`${f.url}/api/documents/pij/annotations`, { method: 'POST', headers: authHeader(), json: { id: 'stored1', content: highlightAt(0, 100) } })).status, 200)
    const ij = JSON.stringify({ format: 'https://pspdfkit.com/instant-json/v1', annotations: [{ ...highlightAt(1, 200), id: 'up1' }] })
    const res = await post(f, '/api/documents/pij/pdf_with_instant_json', undefined, { 'instant.json': ij })
    assert.equal(res.status, 200, res.body.toString())
    const doc = qpdfJson(res.body)
    assert.equal(doc.annotations(0).length, 1)
    assert.equal(doc.annotations(1).length, 1)
    const list = await request(`${f.url}/api/documents/pij/annotations`, { headers: authHeader() })
    assert.deepEqual(list.body.data.annotations.map((a: { id: string }) => a.id), ['stored1'])
  })

  test('copy_with_instant_json makes a new document with the annotations imported; a bad Instant JSON leaves no copy', async () => {
    await upload(f, 'cij', pdfText(['One', 'Two']))
    const ij = JSON.stringify({ format: 'https://pspdfkit.com/instant-json/v1', annotations: [{ ...highlightAt(1, 200), id: 'c1' }] })
    const res = await post(f, '/api/documents/cij/copy_with_instant_json', undefined, { 'instant.json': ij })
    assert.equal(res.status, 200, res.body.toString())
    const id = res.json().data.documentId
    assert.notEqual(id, 'cij')
    const list = await request(`${f.url}/api/documents/${id}/annotations`, { headers: authHeader() })
    assert.deepEqual(list.body.data.annotations.map((a: { id: string }) => a.id), ['c1'])
    const before = (await request(`${f.url}/api/documents?page_size=1000`, { headers: authHeader() })).body.document_count
    const bad = await post(f, '/api/documents/cij/copy_with_instant_json', undefined, { 'instant.json': JSON.stringify({ format: 'https://pspdfkit.com/instant-json/v1', annotations: [{ ...highlightAt(9, 200) }] }) })
    assert.equal(bad.status, 422, bad.body.toString())
    assert.equal((await request(`${f.url}/api/documents?page_size=1000`, { headers: authHeader() })).body.document_count, before)
  })

  const refusals: Array<[string, unknown, Record<string, string>, number, string, string]> = [
    ['no parts', { parts: [] }, {}, 400, 'invalid_instructions', 'parts'],
    ['a rotation that is not a right angle', { parts: [{ file: 'a' }], actions: [{ type: 'rotate', rotateBy: 45 }] }, { a: 'x' }, 400, 'invalid_instructions', 'actions[0].rotateBy'],
    ['a page range past the end', { parts: [{ file: 'a' }, { file: 'a' }, { file: 'a', pages: { start: 0, end: 5 } }] }, {}, 400, 'invalid_instructions', 'parts[2].pages.end'],
    ['a missing multipart part', { parts: [{ file: 'nope' }] }, {}, 400, 'invalid_instructions', 'parts[0].file'],
    ['#self outside apply_instructions', { parts: [{ document: { id: '#self' } }] }, {}, 400, 'invalid_instructions', 'parts[0].document.id'],
    ['an HTML part', { parts: [{ html: 'index' }] }, {}, 422, 'unsupported_instruction', 'parts[0].html'],
    ['a PDF/A output', { parts: [{ page: 'new' }], output: { type: 'pdfa' } }, {}, 422, 'unsupported_instruction', 'output.type'],
    ['a file that is not a PDF', { parts: [{ file: 'a' }, { file: 'junk' }] }, { junk: 'not a pdf at all' }, 422, 'build_failed', 'parts[1]'],
    ['an unknown document', { parts: [{ document: { id: 'missing' } }] }, {}, 404, 'document_not_found', 'parts[0].document.id'],
  ]
  for (const [name, ins, extra, status, code, field] of refusals) {
    test(`refused with ${status} ${code} naming ${field}: ${name}`, async () => {
      const res = await post(f, '/api/build', ins, { a: pdfText(['One']), ...extra })
      assertError({ status: res.status, headers: res.headers, body: res.json(), text: res.body.toString() }, status, code)
      assert.equal(res.json().error.field, field)
    })
  }

  test('more parts than BUILD_MAX_PARTS are refused with 413 before anything runs', async () => {
    const g = await startFolio({ db: 'pglite', env: { BUILD_MAX_PARTS: '2', BUILD_MAX_PAGES: '3' } })
    try {
      const res = await post(g, '/api/build', { parts: [{ page: 'new' }, { page: 'new' }, { page: 'new' }] })
      assert.equal(res.status, 413)
      assert.equal(res.json().error.code, 'build_limit_exceeded')
      assert.equal(res.json().error.field, 'parts')
      const pages = await post(g, '/api/build', { parts: [{ page: 'new', pageCount: 2 }, { page: 'new', pageCount: 2 }] })
      assert.equal(pages.status, 413, pages.body.toString())
      assert.equal(pages.json().error.code, 'build_limit_exceeded')
      assert.deepEqual(readdirSync(join(g.storage.dataDir, 'tmp')).filter((n) => n.startsWith('build-')), [], 'no work folder left behind')
    } finally {
      await g.destroy()
    }
  })
})

describe('file parts by URL', () => {
  test('a file part by URL is fetched through the SSRF guard; a private address is refused before connecting; off by default', async (t) => {
    if (!needPdfTools(t)) return
    const { startRemoteWorld } = await import('../../helpers/remote-world.js')
    const w = await startRemoteWorld()
    w.names.set('files.test', ['127.0.0.1'])
    const pdf = pdfText(['Remote page'])
    w.route('/doc.pdf', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/pdf' })
      res.end(pdf)
    })
    const f = await startFolio({ db: 'pglite', env: { ALLOW_REMOTE_DOCUMENTS: 'true', REMOTE_URL_FETCH_ALLOWED_HOSTS: 'files.test' }, app: { remoteNet: { resolve: w.resolve, connect: w.connect } } })
    const off = await startFolio({ db: 'pglite', app: { remoteNet: { resolve: w.resolve, connect: w.connect } } })
    try {
      const url = `http://files.test:${w.port}/doc.pdf`
      const res = await post(f, '/api/build', { parts: [{ file: { url } }, { page: 'new' }] })
      assert.equal(res.status, 200, res.body.toString())
      assert.equal(pdftotext(res.body, 1).trim(), 'Remote page')
      const wrongHash = await post(f, '/api/build', { parts: [{ file: { url, sha256: '0'.repeat(64) } }] })
      assert.equal(wrongHash.json().error.code, 'hash_mismatch')
      const refused = await post(f, '/api/build', { parts: [{ file: { url: `http://10.0.0.1:${w.port}/doc.pdf` } }] })
      assert.equal(refused.json().error.code, 'remote_fetch_refused')
      const disabled = await post(off, '/api/build', { parts: [{ file: { url } }] })
      assert.equal(disabled.status, 403)
      assert.equal(disabled.json().error.code, 'remote_documents_disabled')
      assert.deepEqual(w.caughtByNet, [])
    } finally {
      await f.destroy()
      await off.destroy()
      await w.close()
    }
  })
})
