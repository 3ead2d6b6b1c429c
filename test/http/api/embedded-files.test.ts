/**
 * Embedded files (get-document-embedded-files) and their download by fileAttachmentId
 * (get-document-attachment), checked against qpdf's reading of the same file; active content
 * (HTML) is never served as such.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { assertError, request } from '../../helpers/http.js'
import { claimsFor, keyPair, signToken } from '../../helpers/jwt.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'
import { textPdf } from '../../helpers/text-pdfs.js'

const FILES = [
  { name: 'notes.txt', data: Buffer.from('embedded notes\n'), mime: 'text/plain' },
  { name: 'évil page.html', data: Buffer.from('<script>alert(1)</script>'), mime: 'text/html' },
]

function qpdfAttachment(pdf: Buffer, key: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'folio-ef-'))
  try {
    writeFileSync(join(dir, 'f.pdf'), pdf)
    const r = spawnSync('qpdf', [`--show-attachment=${key}`, join(dir, 'f.pdf')])
    assert.equal(r.status, 0, String(r.stderr))
    return r.stdout
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

for (const db of dbKinds()) {
  describe(`embedded files (${db})`, () => {
    let f: TestFolio
    const pdf = textPdf({ pages: [['with attachments']], embedded: FILES })
    const pair = keyPair('ES256')

    before(async () => {
      f = await startFolio({ db, env: { JWT_PUBLIC_KEY: pair.publicPem, JWT_ALGORITHM: 'ES256', RENDER_WORKERS: '1' } })
      assert.equal((await request(`${f.url}/api/documents?document_id=ef`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: pdf })).status, 200)
    })
    after(async () => {
      await f.destroy()
    })

    test('the list names each file with its size, type and sha256, the bytes qpdf extracts', async () => {
      const res = await request(`${f.url}/api/documents/ef/embedded-files`, { headers: authHeader() })
      assert.equal(res.status, 200, res.text)
      const list = res.body.data.embeddedFiles
      assert.deepEqual(list.map((e: { content: { fileName: string; fileSize: number; contentType: string } }) => [e.content.fileName, e.content.fileSize, e.content.contentType]),
        FILES.map((x) => [x.name, x.data.length, x.mime]))
      for (const [i, e] of list.entries()) {
        const bytes = qpdfAttachment(pdf, FILES[i]!.name)
        assert.equal(e.content.fileAttachmentId, createHash('sha256').update(bytes).digest('hex'))
        assert.equal(e.content.type, 'pspdfkit/embedded-file')
      }
      const layered = await request(`${f.url}/api/documents/ef/layers/any/embedded-files`, { headers: authHeader() })
      assert.deepEqual(layered.body, res.body)
    })

    test('a file downloads by its fileAttachmentId as an attachment; HTML is not served as HTML', async () => {
      const list = (await request(`${f.url}/api/documents/ef/embedded-files`, { headers: authHeader() })).body.data.embeddedFiles
      const txt = await fetch(`${f.url}/api/documents/ef/attachments/${list[0].content.fileAttachmentId}`, { headers: authHeader() })
      assert.equal(txt.status, 200)
      assert.deepEqual(Buffer.from(await txt.arrayBuffer()), FILES[0]!.data)
      assert.equal(txt.headers.get('content-type'), 'text/plain')
      assert.match(txt.headers.get('content-disposition')!, /^attachment; filename\*=UTF-8''notes\.txt$/)
      const html = await fetch(`${f.url}/api/documents/ef/attachments/${list[1].content.fileAttachmentId}`, { headers: authHeader() })
      assert.equal(html.headers.get('content-type'), 'application/octet-stream')
      assert.equal(html.headers.get('x-content-type-options'), 'nosniff')
      assert.match(html.headers.get('content-security-policy')!, /sandbox/)
      assert.deepEqual(Buffer.from(await html.arrayBuffer()), FILES[1]!.data)

      const token = await signToken(claimsFor('ef', ['read-document']), pair)
      const viewer = await fetch(`${f.url}/documents/ef/attachments/${list[0].content.fileAttachmentId}`, { headers: { authorization: `Bearer ${token}` } })
      assert.equal(viewer.status, 200)
    })

    test('an unknown or malformed attachment id is 404 attachment_not_found', async () => {
      assertError(await request(`${f.url}/api/documents/ef/attachments/${'0'.repeat(64)}`, { headers: authHeader() }), 404, 'attachment_not_found')
      assertError(await request(`${f.url}/api/documents/ef/attachments/..%2F..%2Fetc`, { headers: authHeader() }), 404, 'attachment_not_found')
    })
  })
}
