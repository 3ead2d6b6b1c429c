/**
 * Documents over the server API (spec §3), against a real Folio over HTTP, on the embedded
 * database and on the real PostgreSQL, with real files on disk.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { makePdf, PdfBuilder } from '../../helpers/pdf-fixtures.js'
import { assertError, request } from '../../helpers/http.js'
import { authHeader, dbKinds, startFolio, TEST_API_TOKEN, type TestFolio } from '../../helpers/start-folio.js'

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

function zeroPagePdf(): Buffer {
  return new PdfBuilder()
    .object(1, '<< /Type /Catalog /Pages 2 0 R >>')
    .object(2, '<< /Type /Pages /Kids [] /Count 0 >>')
    .xrefTable('/Root 1 0 R')
    .toBuffer()
}

function hasQpdf(): boolean {
  try {
    execFileSync('qpdf', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Runs qpdf on `input` with `args` and returns the output file's bytes. */
function qpdf(input: Buffer, args: string[]): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'qpdf-'))
  try {
    writeFileSync(join(dir, 'in.pdf'), input)
    execFileSync('qpdf', [join(dir, 'in.pdf'), ...args, join(dir, 'out.pdf')], { stdio: 'pipe' })
    return readFileSync(join(dir, 'out.pdf'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return out
  }
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await listFiles(p)))
    else if (!e.name.startsWith('.')) out.push(p)
  }
  return out
}

async function upload(f: TestFolio, pdf: Uint8Array, query = '', headers: Record<string, string> = {}) {
  return request(`${f.url}/api/documents${query}`, {
    method: 'POST',
    headers: { ...authHeader(), 'content-type': 'application/pdf', ...headers },
    body: pdf,
  })
}

for (const db of dbKinds()) {
  describe(`documents over the server API (${db})`, () => {
    let f: TestFolio
    const blobFiles = () => listFiles(join(f.storage.dataDir, 'blobs'))
    const stagingFiles = () => listFiles(join(f.storage.dataDir, 'tmp'))
    const docCount = async () => Number((await f.app.db.query<{ n: number }>('select count(*)::int as n from documents'))[0]!.n)

    before(async () => {
      f = await startFolio({ db, env: { MAX_UPLOAD_SIZE_BYTES: '200000' } })
    })
    after(async () => {
      await f.destroy()
    })

    test('a raw application/pdf upload is stored, described, and downloadable byte-identical', async () => {
      const pdf = makePdf({ pages: [{ width: 612, height: 792 }, { width: 595, height: 842, rotate: 90 }] })
      const res = await upload(f, pdf, '?title=Report')
      assert.equal(res.status, 200, res.text)
      const d = res.body.data
      assert.match(d.document_id, /^[A-Za-z0-9_-]{16,}$/)
      assert.equal(d.title, 'Report')
      assert.equal(d.sourcePdfSha256, sha256(pdf))
      assert.equal(d.byteSize, pdf.length)
      assert.equal(d.pageCount, 2)
      assert.equal(d.password_protected, false)
      assert.deepEqual(d.errors, [])
      assert.ok(!Number.isNaN(Date.parse(d.createdAt)))

      const info = await request(`${f.url}/api/documents/${d.document_id}/document_info`, { headers: authHeader() })
      assert.equal(info.status, 200)
      assert.deepEqual(info.body.data, {
        document_id: d.document_id,
        title: 'Report',
        pageCount: 2,
        pages: [
          { pageIndex: 0, width: 612, height: 792, rotation: 0 },
          { pageIndex: 1, width: 595, height: 842, rotation: 90 },
        ],
      })

      for (const q of ['?source=true', '']) {
        const dl = await fetch(`${f.url}/api/documents/${d.document_id}/pdf${q}`, { headers: authHeader() })
        assert.equal(dl.status, 200)
        assert.equal(dl.headers.get('content-type'), 'application/pdf')
        const bytes = new Uint8Array(await dl.arrayBuffer())
        assert.equal(sha256(bytes), d.sourcePdfSha256)
      }
      const range = await fetch(`${f.url}/api/documents/${d.document_id}/pdf?source=true`, { headers: { ...authHeader(), range: 'bytes=0-7' } })
      assert.equal(range.status, 206)
      assert.equal(Buffer.from(await range.arrayBuffer()).toString('latin1'), pdf.subarray(0, 8).toString('latin1'))

      const props = await request(`${f.url}/api/documents/${d.document_id}/properties`, { headers: authHeader() })
      assert.equal(props.status, 200)
      assert.equal(props.body.data.byteSize, pdf.length)
      assert.equal(props.body.data.passwordProtected, false)
      assert.deepEqual(props.body.data.storage, { type: 'filesystem' })
    })

    test('a multipart upload takes document_id and title; a second one with that id is 409 unless overwriting', async () => {
      const form = new FormData()
      form.append('document_id', 'mp-doc_1')
      form.append('title', 'Multipart')
      form.append('file', new Blob([makePdf()], { type: 'application/pdf' }), 'a.pdf')
      const res = await request(`${f.url}/api/documents`, { method: 'POST', headers: authHeader(), body: form })
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.document_id, 'mp-doc_1')
      assert.equal(res.body.data.title, 'Multipart')

      const blobsBefore = (await blobFiles()).length
      const again = await upload(f, makePdf({ pages: [{ width: 300, height: 300 }] }), '?document_id=mp-doc_1')
      assertError(again, 409, 'document_exists')
      assert.equal((await blobFiles()).length, blobsBefore, 'the refused upload left no blob')

      const newer = makePdf({ pages: [{ width: 300, height: 400 }, { width: 300, height: 400 }, { width: 300, height: 400 }] })
      const over = await upload(f, newer, '?document_id=mp-doc_1&overwrite_existing_document=true&title=New')
      assert.equal(over.status, 200, over.text)
      assert.equal(over.body.data.pageCount, 3)
      const dl = await fetch(`${f.url}/api/documents/mp-doc_1/pdf?source=true`, { headers: authHeader() })
      assert.equal(sha256(new Uint8Array(await dl.arrayBuffer())), sha256(newer))
    })

    test('identical uploads share one blob, which is deleted only with its last document', async () => {
      const pdf = makePdf({ pages: [{ width: 111, height: 222 }] })
      const key = sha256(pdf)
      const a = (await upload(f, pdf)).body.data.document_id
      const b = (await upload(f, pdf)).body.data.document_id
      const withKey = async () => (await blobFiles()).filter((p) => p.endsWith(key)).length
      assert.equal(await withKey(), 1)
      assert.equal((await request(`${f.url}/api/documents/${a}`, { method: 'DELETE', headers: authHeader() })).status, 200)
      assert.equal(await withKey(), 1, 'still used by the other document')
      const dl = await fetch(`${f.url}/api/documents/${b}/pdf`, { headers: authHeader() })
      assert.equal(dl.status, 200)
      await dl.arrayBuffer()
      const del = await request(`${f.url}/api/documents/${b}`, { method: 'DELETE', headers: authHeader() })
      assert.equal(del.status, 200)
      assert.deepEqual(del.body, { data: {} })
      assert.equal(await withKey(), 0, 'the last delete removed the blob')
      const rows = await f.app.db.query('select key from blobs where key = $1', [key])
      assert.equal(rows.length, 0)
      for (const path of [`/api/documents/${b}/document_info`, `/api/documents/${b}/properties`, `/api/documents/${b}/pdf`]) {
        assertError(await request(`${f.url}${path}`, { headers: authHeader() }), 404, 'document_not_found')
      }
      assertError(await request(`${f.url}/api/documents/${b}`, { method: 'DELETE', headers: authHeader() }), 404, 'document_not_found')
    })

    test('PATCH properties changes the title; bad bodies are 400/415 and change nothing', async () => {
      const id = (await upload(f, makePdf(), '?title=Before')).body.data.document_id
      const res = await request(`${f.url}/api/documents/${id}/properties`, { method: 'PATCH', headers: authHeader(), json: { title: 'After' } })
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.title, 'After')
      assert.ok(Date.parse(res.body.data.updatedAt) >= Date.parse(res.body.data.createdAt))

      const malformed = await request(`${f.url}/api/documents/${id}/properties`, {
        method: 'PATCH',
        headers: { ...authHeader(), 'content-type': 'application/json' },
        body: '{"title": ',
      })
      assertError(malformed, 400, 'invalid_json')
      assertError(await request(`${f.url}/api/documents/${id}/properties`, { method: 'PATCH', headers: authHeader(), json: { title: 5 } }), 400, 'bad_request')
      assertError(await request(`${f.url}/api/documents/${id}/properties`, { method: 'PATCH', headers: authHeader(), json: { title: 'x', extra: 1 } }), 400, 'bad_request')
      assertError(await request(`${f.url}/api/documents/${id}/properties`, {
        method: 'PATCH', headers: { ...authHeader(), 'content-type': 'text/plain' }, body: 'title=x',
      }), 415, 'unsupported_media_type')
      const props = await request(`${f.url}/api/documents/${id}/properties`, { headers: authHeader() })
      assert.equal(props.body.data.title, 'After')
    })

    describe('bad uploads are refused with a code and leave no row, no blob and no staged file', () => {
      const pdf = makePdf({ pages: [{ width: 200, height: 200, text: 'x'.repeat(200) }] })
      const cases: Array<{ name: string; body: Uint8Array | string; type?: string; query?: string; status: number; code: string }> = [
        { name: 'not a PDF', body: Buffer.from('hello, this is not a pdf at all'), type: 'application/pdf', status: 422, code: 'invalid_pdf' },
        { name: 'a truncated PDF', body: pdf.subarray(0, Math.floor(pdf.length * 0.6)), type: 'application/pdf', status: 422, code: 'invalid_pdf' },
        { name: 'a PDF with no pages', body: zeroPagePdf(), type: 'application/pdf', status: 422, code: 'invalid_pdf' },
        { name: 'an empty body', body: new Uint8Array(0), type: 'application/pdf', status: 400, code: 'empty_body' },
        { name: 'a wrong media type', body: pdf, type: 'text/plain', status: 415, code: 'unsupported_media_type' },
        { name: 'an image media type', body: pdf, type: 'image/png', status: 415, code: 'unsupported_media_type' },
        { name: 'an upload over MAX_UPLOAD_SIZE_BYTES', body: Buffer.concat([pdf, Buffer.alloc(250_000, 0x20)]), type: 'application/pdf', status: 413, code: 'payload_too_large' },
        { name: 'malformed JSON', body: '{"url": "http://x', type: 'application/json', status: 400, code: 'invalid_json' },
        { name: 'a path-traversal document_id', body: pdf, type: 'application/pdf', query: '?document_id=..%2F..%2Fetc', status: 400, code: 'invalid_document_id' },
        { name: 'a document_id that is too long', body: pdf, type: 'application/pdf', query: `?document_id=${'a'.repeat(129)}`, status: 400, code: 'invalid_document_id' },
      ]
      for (const c of cases) {
        test(`${c.name}: ${c.status} ${c.code}`, async () => {
          const before = await docCount()
          const res = await request(`${f.url}/api/documents${c.query ?? ''}`, {
            method: 'POST',
            headers: { ...authHeader(), ...(c.type ? { 'content-type': c.type } : {}) },
            body: c.body,
          })
          assertError(res, c.status, c.code)
          if (c.code === 'payload_too_large') assert.match(res.body.error.message, /200000/)
          assert.equal(await docCount(), before, 'no document row')
          const orphans = await f.app.db.query('select key from blobs b where not exists (select 1 from documents d where d.blob_key = b.key)')
          assert.deepEqual(orphans, [], 'no blob row without a document')
          assert.deepEqual(await stagingFiles(), [], 'no staged file left')
          const referenced = new Set((await f.app.db.query<{ blob_key: string }>('select blob_key from documents')).map((r) => r.blob_key))
          for (const p of await blobFiles()) assert.ok(referenced.has(p.slice(-64)), `blob ${p} is referenced`)
        })
      }
    })

    test('a PDF missing its last 30 bytes (startxref cut) is repaired like poppler and qpdf do: 200, xref_repaired in errors', async () => {
      const pdf = makePdf({ pages: [{ text: 'a' }, { text: 'b' }] })
      const res = await upload(f, pdf.subarray(0, pdf.length - 30))
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.pageCount, 2)
      assert.equal(res.body.data.errors[0].reason, 'xref_repaired')
    })

    test('password-protected PDFs are accepted and marked; pages are read when the page tree is readable', async (t) => {
      if (!hasQpdf()) return t.skip('qpdf not installed (CI installs it)')
      const plain = makePdf({ pages: [{ width: 500, height: 600 }] })
      const tableXref = qpdf(plain, ['--object-streams=disable', '--encrypt', 'user-pw', 'owner-pw', '256', '--'])
      const res = await upload(f, tableXref)
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.password_protected, true)
      assert.equal(res.body.data.pageCount, 1)
      const props = await request(`${f.url}/api/documents/${res.body.data.document_id}/properties`, { headers: authHeader() })
      assert.equal(props.body.data.passwordProtected, true)

      const objStreams = qpdf(plain, ['--object-streams=generate', '--encrypt', 'user-pw', 'owner-pw', '256', '--'])
      const res2 = await upload(f, objStreams)
      assert.equal(res2.status, 200, res2.text)
      assert.equal(res2.body.data.password_protected, true)
      assert.equal(res2.body.data.pageCount, null)
      const info = await request(`${f.url}/api/documents/${res2.body.data.document_id}/document_info`, { headers: authHeader() })
      assertError(info, 422, 'invalid_pdf')
      assert.equal(info.body.error.reason, 'encrypted_unreadable')
      const dl = await fetch(`${f.url}/api/documents/${res2.body.data.document_id}/pdf?source=true`, { headers: authHeader() })
      assert.equal(sha256(new Uint8Array(await dl.arrayBuffer())), sha256(objStreams))
    })

    test('JSON {"url"} is refused with 403 remote_documents_disabled by default', async () => {
      const res = await request(`${f.url}/api/documents`, { method: 'POST', headers: authHeader(), json: { url: 'http://example.com/a.pdf' } })
      assertError(res, 403, 'remote_documents_disabled')
    })

    test('unknown ids and path-traversal ids are 404 document_not_found', async () => {
      // (%2e%2e is not tried: the WHATWG URL parser in fetch turns it into a dot segment itself.)
      for (const id of ['no-such-doc', '..%2F..%2Fetc%2Fpasswd', '..%5C..%5Cwin', 'a'.repeat(200), 'x%00y', '%F0%9F%98%80']) {
        const res = await request(`${f.url}/api/documents/${id}/document_info`, { headers: authHeader() })
        assertError(res, 404, 'document_not_found')
      }
      assertError(await request(`${f.url}/api/documents/..%2F..%2Fpglite/pdf`, { headers: authHeader() }), 404, 'document_not_found')
    })

    test('the API token is required, compared exactly, and a JWT is not accepted on /api', async () => {
      const cases: Array<Record<string, string>> = [
        {},
        { authorization: 'Token token="wrong-token-0123456789abcdef0123456789"' },
        { authorization: `Token token="${TEST_API_TOKEN}x"` },
        { authorization: `Token token="${TEST_API_TOKEN.slice(0, -1)}"` },
        { authorization: `Bearer ${TEST_API_TOKEN}` },
        { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJkb2N1bWVudF9pZCI6IngifQ.c2ln' },
        { authorization: `Basic ${Buffer.from(`admin:${TEST_API_TOKEN}`).toString('base64')}` },
      ]
      for (const headers of cases) {
        for (const path of ['/api/documents', '/api/no-such-route']) {
          const res = await request(`${f.url}${path}`, { headers })
          assertError(res, 401, 'unauthorized')
          assert.ok(!res.text.includes(TEST_API_TOKEN), 'the token is not echoed')
        }
      }
      const unquoted = await request(`${f.url}/api/documents`, { headers: { authorization: `Token token=${TEST_API_TOKEN}` } })
      assert.equal(unquoted.status, 200)
      assert.ok(!f.logs.some((l) => l.includes(TEST_API_TOKEN)), 'the token never appears in a log line')
    })
  })

  describe(`listing documents (${db})`, () => {
    let f: TestFolio
    const ids: string[] = []
    before(async () => {
      f = await startFolio({ db })
      for (let i = 0; i < 23; i++) {
        const res = await upload(f, makePdf({ pages: [{ width: 100 + i, height: 100 }] }), `?title=${i % 2 === 0 ? 'Even' : 'Odd'}%20${String(i).padStart(2, '0')}`)
        assert.equal(res.status, 200, res.text)
        ids.push(res.body.data.document_id)
      }
    })
    after(async () => {
      await f.destroy()
    })

    test('pages of 10 walk forward and back over all documents, newest first, in Document Engine’s shape', async () => {
      const seen: string[] = []
      let cursor: string | null = null
      const pages: any[] = []
      do {
        const res = await request(`${f.url}/api/documents?page_size=10${cursor ? `&cursor=${cursor}` : ''}`, { headers: authHeader() })
        assert.equal(res.status, 200, res.text)
        assert.equal(res.body.document_count, 23)
        for (const d of res.body.data) {
          assert.deepEqual(Object.keys(d).sort(), ['byteSize', 'createdAt', 'id', 'passwordProtected', 'sourcePdfSha256', 'title'])
          seen.push(d.id)
        }
        pages.push(res.body)
        cursor = res.body.next_cursor
      } while (cursor)
      assert.equal(pages.length, 3)
      assert.equal(pages[0].prev_cursor, null)
      assert.equal(pages[2].next_cursor, null)
      assert.deepEqual(seen, [...ids].reverse(), 'newest first, each once')
      const back = await request(`${f.url}/api/documents?page_size=10&cursor=${pages[2].prev_cursor}`, { headers: authHeader() })
      assert.deepEqual(back.body.data.map((d: any) => d.id), pages[1].data.map((d: any) => d.id))
      const back2 = await request(`${f.url}/api/documents?page_size=10&cursor=${back.body.prev_cursor}`, { headers: authHeader() })
      assert.deepEqual(back2.body.data.map((d: any) => d.id), pages[0].data.map((d: any) => d.id))
      assert.equal(back2.body.prev_cursor, null)
    })

    test('title filter is a substring match; order_by=title asc sorts by title', async () => {
      const res = await request(`${f.url}/api/documents?title=odd&order_by=title&order_direction=asc&page_size=100`, { headers: authHeader() })
      assert.equal(res.status, 200)
      assert.equal(res.body.document_count, 11)
      const titles = res.body.data.map((d: any) => d.title)
      assert.deepEqual(titles, [...titles].sort())
      assert.ok(titles.every((t: string) => t.startsWith('Odd')))
      const wild = await request(`${f.url}/api/documents?title=%25`, { headers: authHeader() })
      assert.equal(wild.body.document_count, 0, 'a % in the filter is literal')
    })

    test('bad list parameters are 400, and a cursor from another ordering is refused', async () => {
      for (const q of ['page_size=0', 'page_size=1001', 'page_size=abc', 'order_by=size', 'order_direction=up', 'cursor=not-a-cursor']) {
        const res = await request(`${f.url}/api/documents?${q}`, { headers: authHeader() })
        assert.equal(res.status, 400, `${q}: ${res.text}`)
      }
      const first = await request(`${f.url}/api/documents?page_size=5`, { headers: authHeader() })
      assertError(await request(`${f.url}/api/documents?order_by=title&cursor=${first.body.next_cursor}`, { headers: authHeader() }), 400, 'invalid_cursor')
    })

    test('bulk delete needs a filter and deletes what matches', async () => {
      assertError(await request(`${f.url}/api/documents`, { method: 'DELETE', headers: authHeader() }), 400, 'missing_filter')
      const res = await request(`${f.url}/api/documents?title=Even`, { method: 'DELETE', headers: authHeader() })
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(res.body.data, { deleted_count: 12, skipped_count: 0, total_matched: 12 })
      const list = await request(`${f.url}/api/documents?page_size=100`, { headers: authHeader() })
      assert.equal(list.body.document_count, 11)
      const one = await request(`${f.url}/api/documents?document_id=${ids[1]}`, { method: 'DELETE', headers: authHeader() })
      assert.deepEqual(one.body.data, { deleted_count: 1, skipped_count: 0, total_matched: 1 })
      const future = await request(`${f.url}/api/documents?start_date=2999-01-01T00:00:00Z`, { method: 'DELETE', headers: authHeader() })
      assert.deepEqual(future.body.data, { deleted_count: 0, skipped_count: 0, total_matched: 0 })
      assertError(await request(`${f.url}/api/documents?start_date=yesterday`, { method: 'DELETE', headers: authHeader() }), 400, 'bad_request')
    })
  })

  test(`documents survive a restart (${db})`, async () => {
    let f = await startFolio({ db })
    try {
      const pdf = makePdf({ pages: [{ width: 123, height: 456 }] })
      const id = (await upload(f, pdf, '?document_id=survivor')).body.data.document_id
      f = await f.restart()
      const dl = await fetch(`${f.url}/api/documents/${id}/pdf?source=true`, { headers: authHeader() })
      assert.equal(dl.status, 200)
      assert.equal(sha256(new Uint8Array(await dl.arrayBuffer())), sha256(pdf))
      const info = await request(`${f.url}/api/documents/${id}/document_info`, { headers: authHeader() })
      assert.equal(info.body.data.pages[0].width, 123)
    } finally {
      await f.destroy()
    }
  })
}
