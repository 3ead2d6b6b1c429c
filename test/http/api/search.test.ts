/**
 * Search over the server API and the client surfaces, against a real Folio on both databases,
 * with PDFs whose text poppler's pdftotext reads independently: text (case rules, phrases
 * across whitespace), regular expressions, every preset of the reference, page ranges,
 * positions in annotation coordinates (also on a rotated page), annotations and layers, the
 * JWT variant, and a catastrophically backtracking pattern that answers within a second.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { assertError, request } from '../../helpers/http.js'
import { claimsFor, keyPair, signToken } from '../../helpers/jwt.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'
import { FONT_SIZE, LINE_X, lineBaseline, pdftotextPages, textPdf } from '../../helpers/text-pdfs.js'

const PAGES = [
  ['The quick brown fox jumps', 'Contact alice@example.com today', 'Call +44 20 7946 0958 or (555) 123-4567'],
  ['Another Brown fox here', 'Date 12/25/2024 at 10:30 PM', 'Server 192.168.1.1/24 and fe80::1', 'MAC 00:1A:2B:3C:4D:5E',
    'SSN 123-45-6789 zip 12345-6789', 'Card 4111 1111 1111 1111', 'Visit https://www.example.com/path', 'VIN 1HGCM82633A004352'],
  ['Turned page with a fox'],
  [`${'a'.repeat(40)}!`],
]

/** What each preset must find in PAGES (the reference's SearchPreset list, all of it). */
const PRESET_FINDS: Record<string, string> = {
  'credit-card-number': '4111 1111 1111 1111',
  date: '12/25/2024',
  'email-address': 'alice@example.com',
  'international-phone-number': '+44 20 7946 0958',
  ipv4: '192.168.1.1/24',
  ipv6: 'fe80::1',
  'mac-address': '00:1A:2B:3C:4D:5E',
  'north-american-phone-number': '(555) 123-4567',
  'social-security-number': '123-45-6789',
  time: '10:30 PM',
  url: 'https://www.example.com/path',
  'us-zip-code': '12345-6789',
  vin: '1HGCM82633A004352',
}

for (const db of dbKinds()) {
  describe(`search (${db})`, () => {
    let f: TestFolio
    const pdf = textPdf({ pages: PAGES, rotate: [0, 0, 90, 0] })
    const doc = 'search-doc'
    const pair = keyPair('ES256')
    const search = (query: string, path = `/api/documents/${doc}`, headers: Record<string, string> = authHeader()) =>
      request(`${f.url}${path}/search?${query}`, { headers })

    before(async () => {
      f = await startFolio({ db, env: { JWT_PUBLIC_KEY: pair.publicPem, JWT_ALGORITHM: 'ES256', RENDER_WORKERS: '1' } })
      const res = await request(`${f.url}/api/documents?document_id=${doc}`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: pdf })
      assert.equal(res.status, 200, res.text)
    })
    after(async () => {
      await f.destroy()
    })

    test('a text search is case-insensitive by default and finds what pdftotext finds, page by page', async () => {
      const res = await search('q=fox')
      assert.equal(res.status, 200, res.text)
      const poppler = pdftotextPages(pdf).map((t) => (t.match(/fox/gi) ?? []).length)
      const ours = PAGES.map((_, i) => res.body.data.filter((r: { pageIndex: number }) => r.pageIndex === i).length)
      assert.deepEqual(ours, poppler)
      for (const r of res.body.data) {
        const [at, len] = r.rangeInPreview
        assert.equal(r.previewText.slice(at, at + len).toLowerCase(), 'fox')
        assert.equal(r.isAnnotation, false)
      }
      const exact = await search('q=Brown&case_sensitive=true')
      assert.deepEqual(exact.body.data.map((r: { pageIndex: number }) => r.pageIndex), [1])
    })

    test('a phrase matches across any whitespace, and the match box sits where the text was drawn', async () => {
      const res = await search(`q=${encodeURIComponent('quick   brown')}`)
      assert.equal(res.body.data.length, 1)
      const [rect] = res.body.data[0].rectsOnPage
      const [left, top, width, height] = rect
      // Annotation coordinates: top-left origin, so the first line's baseline is at 792 − 720 = 72.
      const baseline = 792 - lineBaseline(0)
      assert.ok(top < baseline && top + height > baseline - 2, `box ${rect} spans the baseline ${baseline}`)
      assert.ok(height < FONT_SIZE * 1.6)
      assert.ok(left > LINE_X + 10 && left < LINE_X + 40, `"quick" starts after "The ": ${left}`)
      assert.ok(width > 40 && width < 90, `"quick brown" is about 65 pt wide at 12 pt: ${width}`)
    })

    test('on a page with /Rotate 90 the boxes are in the unrotated page, as annotations are', async () => {
      const res = await search('q=Turned')
      const [left, top, , height] = res.body.data[0].rectsOnPage[0]
      const baseline = 792 - lineBaseline(0)
      assert.ok(Math.abs(left - LINE_X) < 3, `left ${left}`)
      assert.ok(top < baseline && top + height > baseline - 2, `top ${top}`)
    })

    test('a text query shorter than three characters, an invalid regex and an unknown preset are 400 invalid_search_query', async () => {
      assertError(await search('q=fo'), 400, 'invalid_search_query')
      assertError(await search('q=(&type=regex'), 400, 'invalid_search_query')
      assertError(await search('q=zodiac&type=preset'), 400, 'invalid_search_query')
      assertError(await search('q=fox&type=fuzzy'), 400, 'bad_request')
      assertError(await search(`q=${'x'.repeat(1001)}`), 400, 'bad_request')
    })

    test('regular expressions are case-sensitive by default; case_sensitive=false turns that off', async () => {
      assert.equal((await search(`q=${encodeURIComponent('[Bb]rown fox')}&type=regex`)).body.data.length, 2)
      assert.equal((await search('q=brown&type=regex')).body.data.length, 1)
      assert.equal((await search('q=brown&type=regex&case_sensitive=false')).body.data.length, 2)
    })

    for (const [preset, expected] of Object.entries(PRESET_FINDS)) {
      test(`the ${preset} preset finds "${expected}"`, async () => {
        const res = await search(`q=${preset}&type=preset`)
        assert.equal(res.status, 200, res.text)
        const found = res.body.data.map((r: { previewText: string; rangeInPreview: [number, number] }) => r.previewText.substr(r.rangeInPreview[0], r.rangeInPreview[1]))
        assert.ok(found.includes(expected), `${preset}: ${JSON.stringify(found)}`)
      })
    }

    test('start and limit bound the pages searched (limit is the last page included)', async () => {
      const pages = async (q: string) => (await search(q)).body.data.map((r: { pageIndex: number }) => r.pageIndex)
      assert.deepEqual(await pages('q=fox&start=1&limit=1'), [1])
      assert.deepEqual(await pages('q=fox&start=1'), [1, 2])
      assert.deepEqual(await pages('q=fox&limit=0'), [0])
      assert.deepEqual(await pages('q=fox&start=9'), [])
    })

    test('a catastrophically backtracking regex answers within a second with 422 search_timeout, and search still works after', async () => {
      await search('q=fox') // the text is extracted and cached: the second is the match alone
      const started = Date.now()
      const res = await search(`q=${encodeURIComponent('^(a+)+$')}&type=regex`)
      const elapsed = Date.now() - started
      assertError(res, 422, 'search_timeout')
      assert.ok(elapsed < 1000, `answered in ${elapsed} ms`)
      assert.equal((await search('q=fox&type=regex')).status, 200)
      assert.equal((await request(`${f.url}/healthcheck`)).status, 200)
    })

    test("include_annotations also searches the layer's annotation texts; each layer sees its own", async () => {
      const note = { v: 2, type: 'pspdfkit/note', pageIndex: 1, bbox: [400, 400, 32, 32], text: { format: 'plain', value: 'a fox in a note' }, icon: 'comment', color: '#ffcc00' }
      const made = await request(`${f.url}/api/documents/${doc}/annotations`, { method: 'POST', headers: authHeader(), json: { content: note } })
      assert.equal(made.status, 200, made.text)
      const hits = (await search('q=fox&include_annotations=true')).body.data
      const inNote = hits.filter((r: { isAnnotation: boolean }) => r.isAnnotation)
      assert.equal(inNote.length, 1)
      assert.deepEqual([inNote[0].pageIndex, inNote[0].annotationId, inNote[0].rectsOnPage], [1, made.body.data.id, [note.bbox]])
      assert.equal((await search('q=fox')).body.data.filter((r: { isAnnotation: boolean }) => r.isAnnotation).length, 0, 'not without include_annotations')

      assert.equal((await request(`${f.url}/api/documents/${doc}/layers`, { method: 'POST', headers: authHeader(), json: { name: 'review' } })).status, 200)
      const other = { ...note, text: { format: 'plain', value: 'review fox only' } }
      assert.equal((await request(`${f.url}/api/documents/${doc}/layers/review/annotations`, { method: 'POST', headers: authHeader(), json: { content: other } })).status, 200)
      const layered = (await search('q=review fox&include_annotations=true', `/api/documents/${doc}/layers/review`)).body.data
      assert.equal(layered.length, 1)
      assert.equal((await search('q=review fox&include_annotations=true')).body.data.length, 0, 'the default layer does not see it')
    })

    test('viewers search with a read-document JWT on both client mounts, in their own layer; other tokens are refused', async () => {
      const token = await signToken(claimsFor(doc, ['read-document'], { layer: 'review' }), pair)
      for (const path of [`/documents/${doc}`, `/i/d/${doc}`]) {
        const res = await search('q=review fox&include_annotations=true', path, { authorization: `Bearer ${token}` })
        assert.equal(res.status, 200, res.text)
        assert.equal(res.body.data.length, 1)
      }
      const noRead = await signToken(claimsFor(doc, ['download']), pair)
      assertError(await search('q=fox', `/documents/${doc}`, { authorization: `Bearer ${noRead}` }), 403, 'forbidden')
      assertError(await search('q=fox', `/documents/${doc}`, authHeader()), 401, 'invalid_token')
    })

    test('the document does not exist: 404', async () => {
      assertError(await search('q=fox', '/api/documents/nope'), 404, 'document_not_found')
    })
  })
}
