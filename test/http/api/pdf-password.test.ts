/**
 * Password-protected PDFs (copies encrypted by `qpdf --encrypt`, AES-256 and RC4-128): the
 * `pspdfkit-pdf-password` header on /api and the JWT `password` claim on client routes open
 * them for page images, page text, all-pages text, search and the outline; without the right
 * password a 403 with a code; a cached result is never served to a request without it; the
 * password appears in no log line and no response.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { assertError, request } from '../../helpers/http.js'
import { claimsFor, keyPair, signToken } from '../../helpers/jwt.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'
import { encryptedCopy, pdftotextPages, textPdf } from '../../helpers/text-pdfs.js'

const PASSWORD = 'S3cret pässword!'
const PAGES = [['Confidential first page', 'with a secret word'], ['Second confidential page']]

for (const db of dbKinds()) {
  describe(`password-protected documents (${db})`, () => {
    let f: TestFolio
    const plain = textPdf({ pages: PAGES, outline: [{ title: 'Start', page: 1 }] })
    const aes = encryptedCopy(plain, PASSWORD)
    const rc4 = encryptedCopy(plain, 'rc4-pass', 'rc4-owner', '128')
    const pair = keyPair('ES256')
    const pw = (p: string) => ({ ...authHeader(), 'pspdfkit-pdf-password': p })
    const get = (path: string, headers: Record<string, string>) => request(`${f.url}${path}`, { headers })

    before(async () => {
      f = await startFolio({ db, env: { JWT_PUBLIC_KEY: pair.publicPem, JWT_ALGORITHM: 'ES256', RENDER_WORKERS: '1', LOG_LEVEL: 'debug' } })
      for (const [id, body] of [['aes', aes], ['rc4', rc4]] as const) {
        const res = await request(`${f.url}/api/documents?document_id=${id}`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body })
        assert.equal(res.status, 200, res.text)
      }
    })
    after(async () => {
      await f.destroy()
    })

    test('the copy is really encrypted: pdftotext needs the password too', () => {
      assert.throws(() => pdftotextPages(aes))
      assert.match(pdftotextPages(aes, PASSWORD)[0]!, /Confidential first page/)
    })

    test('without a password: 403 pdf_password_required; with a wrong one: 403 pdf_password_incorrect', async () => {
      for (const path of ['/api/documents/aes/pages/0/image?width=100', '/api/documents/aes/pages/0/text', '/api/documents/aes/search?q=secret', '/api/documents/aes/pages/text', '/api/documents/aes/outline.json']) {
        assertError(await get(path, authHeader()), 403, 'pdf_password_required')
        assertError(await get(path, pw('wrong')), 403, 'pdf_password_incorrect')
      }
    })

    test('the right password opens it for images, text, search and outline, plain or base64:', async () => {
      const image = await fetch(`${f.url}/api/documents/aes/pages/0/image?width=200`, { headers: pw(PASSWORD) })
      assert.equal(image.status, 200)
      assert.equal(image.headers.get('content-type'), 'image/png')
      const b64 = { ...authHeader(), 'pspdfkit-pdf-password': `base64:${Buffer.from(PASSWORD).toString('base64')}` }
      const text = await get('/api/documents/aes/pages/0/text', b64)
      assert.equal(text.status, 200, text.text)
      assert.deepEqual(text.body.data.textLines.map((l: { contents: string }) => l.contents), PAGES[0])
      const all = await get('/api/documents/aes/pages/text', pw(PASSWORD))
      const words = (s: string) => s.split(/\s+/).filter(Boolean)
      const poppler = pdftotextPages(aes, PASSWORD)
      all.body.forEach((p: { textLines: Array<{ contents: string }> }, i: number) => assert.deepEqual(words(p.textLines.map((l) => l.contents).join(' ')), words(poppler[i]!)))
      const found = await get('/api/documents/aes/search?q=confidential', pw(PASSWORD))
      assert.deepEqual(found.body.data.map((r: { pageIndex: number }) => r.pageIndex), [0, 1])
      const outline = await get('/api/documents/aes/outline.json', pw(PASSWORD))
      assert.deepEqual(outline.body.data.outline.map((o: { title: string; action: unknown }) => [o.title, o.action]), [['Start', { type: 'goTo', pageIndex: 1 }]])
      const rc4Text = await get('/api/documents/rc4/pages/1/text', pw('rc4-pass'))
      assert.deepEqual(rc4Text.body.data.textLines.map((l: { contents: string }) => l.contents), PAGES[1])
      assert.equal((await get('/api/documents/rc4/pages/1/text', pw('rc4-owner'))).status, 200, 'the owner password opens it too')
    })

    test('what was opened with the password is never served from cache to a request without it', async () => {
      assert.equal((await get('/api/documents/aes/pages/1/text', pw(PASSWORD))).status, 200)
      assert.equal((await get('/api/documents/aes/search?q=second', pw(PASSWORD))).status, 200)
      assertError(await get('/api/documents/aes/pages/1/text', authHeader()), 403, 'pdf_password_required')
      assertError(await get('/api/documents/aes/search?q=second', pw('wrong')), 403, 'pdf_password_incorrect')
      const image = await fetch(`${f.url}/api/documents/aes/pages/0/image?width=200`, { headers: authHeader() })
      assert.equal(image.status, 403)
    })

    test('on client routes the JWT password claim opens it; a token without one is refused', async () => {
      const withPw = await signToken(claimsFor('aes', ['read-document'], { password: PASSWORD }), pair)
      const without = await signToken(claimsFor('aes', ['read-document']), pair)
      const text = await get('/documents/aes/pages/0/text', { authorization: `Bearer ${withPw}` })
      assert.equal(text.status, 200, text.text)
      assert.equal((await get('/i/d/aes/search?q=secret', { authorization: `Bearer ${withPw}` })).body.data.length, 1)
      assert.equal((await fetch(`${f.url}/i/d/aes/pages/0/image?width=100`, { headers: { authorization: `Bearer ${withPw}` } })).status, 200)
      assertError(await get('/documents/aes/pages/0/text', { authorization: `Bearer ${without}` }), 403, 'pdf_password_required')
      const badClaim = await signToken(claimsFor('aes', ['read-document'], { password: 42 }), pair)
      assertError(await get('/documents/aes/pages/0/text', { authorization: `Bearer ${badClaim}` }), 401, 'invalid_token')
    })

    test('a malformed header is 400, and the password is in no log line', async () => {
      assertError(await get('/api/documents/aes/pages/0/text', pw('base64:***')), 400, 'bad_request')
      const logs = f.logs.join('\n')
      assert.ok(logs.length > 0)
      assert.ok(!logs.includes(PASSWORD), 'the password is not logged')
      assert.ok(!logs.includes(Buffer.from(PASSWORD).toString('base64')), 'nor its base64 form')
      assert.ok(!logs.includes('rc4-pass'))
    })
  })
}
