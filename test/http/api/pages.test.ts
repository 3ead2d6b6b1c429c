/**
 * Page images and page text over the server API (spec §3, issue #6), against a real Folio over
 * HTTP on both databases: sizes, rotation, formats, limits, caching headers, annotations, text
 * positions, and hostile PDFs that pass upload but attack the renderer.
 */
import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import sharp from 'sharp'
import { annotatedPdf, hostileCorpus } from '../../helpers/hostile-pdfs.js'
import { assertError, request } from '../../helpers/http.js'
import { makePdf } from '../../helpers/pdf-fixtures.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'

const RENDER_ENV = { RENDER_WORKERS: '2', RENDER_TIMEOUT_MS: '1500', RENDER_WORKER_MEMORY_MB: '128', RENDER_MAX_PIXELS: '4000000' }

async function upload(f: TestFolio, pdf: Uint8Array): Promise<{ status: number; id?: string }> {
  const res = await request(`${f.url}/api/documents`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: pdf })
  return { status: res.status, id: res.body?.data?.document_id }
}

async function getBytes(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers: { ...authHeader(), ...headers }, signal: AbortSignal.timeout(30_000) })
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) }
}

/** Decoded size and the share of dark pixels in each vertical/horizontal half. */
async function inspect(image: Buffer) {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  let dark = 0, right = 0, bottom = 0
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const i = (y * info.width + x) * info.channels
      if (data[i]! + data[i + 1]! + data[i + 2]! < 384) {
        dark++
        if (x >= info.width / 2) right++
        if (y >= info.height / 2) bottom++
      }
    }
  }
  return { width: info.width, height: info.height, format: (await sharp(image).metadata()).format, dark, right, bottom }
}

const SIGNATURES: Record<string, (b: Buffer) => boolean> = {
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/webp': (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
}

for (const db of dbKinds()) {
  describe(`page images and text over the server API (${db})`, () => {
    let f: TestFolio
    let doc: string
    let annotated: string
    const image = (id: string, page: number | string, query: string) => `${f.url}/api/documents/${id}/pages/${page}/image${query}`

    before(async () => {
      f = await startFolio({ db, env: RENDER_ENV })
      doc = (await upload(f, makePdf({ pages: [{ text: 'Hello Folio' }, { width: 612, height: 792, rotate: 90, text: 'Turned page' }] }))).id!
      annotated = (await upload(f, annotatedPdf())).id!
    })
    after(async () => {
      await f.destroy()
    })

    test('a page renders as PNG at the asked width or height, aspect kept, with ink where the text is', async () => {
      const byWidth = await getBytes(image(doc, 0, '?width=306'))
      assert.equal(byWidth.status, 200)
      assert.equal(byWidth.headers.get('content-type'), 'image/png')
      const w = await inspect(byWidth.bytes)
      assert.deepEqual([w.width, w.height, w.format], [306, 396, 'png'])
      assert.ok(w.dark > 50, 'not blank')
      assert.equal(w.bottom, 0, 'the text is at the top of the page')
      const h = await inspect((await getBytes(image(doc, 0, '?height=200'))).bytes)
      assert.deepEqual([h.width, h.height], [155, 200])
    })

    test('page rotation is honoured: a /Rotate 90 page comes out landscape, its text on the right', async () => {
      const r = await inspect((await getBytes(image(doc, 1, '?width=396'))).bytes)
      assert.deepEqual([r.width, r.height], [396, 306])
      assert.ok(r.dark > 50)
      assert.equal(r.right, r.dark, 'all ink in the right half')
    })

    test('PNG, JPEG and WebP come with their signatures, by ?format= or by Accept', async () => {
      const cases: Array<[string, Record<string, string>, string]> = [
        ['?width=100&format=png', {}, 'image/png'],
        ['?width=100&format=jpeg', {}, 'image/jpeg'],
        ['?width=100&format=webp', {}, 'image/webp'],
        ['?width=100', { accept: 'image/webp' }, 'image/webp'],
        ['?width=100', { accept: 'image/jpeg;q=0.9, image/png;q=0.5' }, 'image/jpeg'],
        ['?width=100', { accept: 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8' }, 'image/png'],
        ['?width=100&format=png', { accept: 'image/webp' }, 'image/png'],
      ]
      for (const [query, headers, type] of cases) {
        const res = await getBytes(image(doc, 0, query), headers)
        assert.equal(res.status, 200, query)
        assert.equal(res.headers.get('content-type'), type, `${query} ${JSON.stringify(headers)}`)
        assert.ok(SIGNATURES[type]!(res.bytes), `${type} signature`)
        assert.equal((await inspect(res.bytes)).width, 100)
      }
    })

    test('a page past the last one is 404 page_not_found; an unknown document 404 document_not_found', async () => {
      assertError(await request(image(doc, 2, '?width=100'), { headers: authHeader() }), 404, 'page_not_found')
      assertError(await request(`${f.url}/api/documents/${doc}/pages/99999999/text`, { headers: authHeader() }), 404, 'page_not_found')
      assertError(await request(image('no-such-doc', 0, '?width=100'), { headers: authHeader() }), 404, 'document_not_found')
    })

    test('absurd or ambiguous sizes are refused with 400', async () => {
      for (const q of ['?width=0', '?width=5001', '?height=-3', '?width=abc', '?width=100&height=100', '', '?width=100&format=gif']) {
        assertError(await request(image(doc, 0, q), { headers: authHeader() }), 400, 'bad_request')
      }
      assertError(await request(image(doc, -1, '?width=100'), { headers: authHeader() }), 400, 'bad_request')
      // 5000 × 6471 pixels exceed RENDER_MAX_PIXELS (4,000,000 here).
      const big = await request(image(doc, 0, '?width=5000'), { headers: authHeader() })
      assertError(big, 400, 'image_too_large')
      assert.equal(big.body.error.maxPixels, 4_000_000)
    })

    test('an image carries a strong ETag and Cache-Control; If-None-Match revalidates with 304', async () => {
      const first = await getBytes(image(doc, 0, '?width=120'))
      const etag = first.headers.get('etag')!
      assert.match(etag, /^"[0-9a-f]{40}"$/)
      assert.equal(first.headers.get('cache-control'), 'private, no-cache')
      assert.equal(first.headers.get('vary'), 'Accept')
      const again = await getBytes(image(doc, 0, '?width=120'), { 'if-none-match': etag })
      assert.equal(again.status, 304)
      assert.equal(again.bytes.length, 0)
      assert.equal(again.headers.get('etag'), etag)
      const cached = await getBytes(image(doc, 0, '?width=120'))
      assert.ok(cached.bytes.equals(first.bytes), 'the cached image is the same bytes')
      assert.notEqual((await getBytes(image(doc, 0, '?width=121'))).headers.get('etag'), etag)
      const shards = await readdir(join(f.storage.dataDir, 'render-cache'))
      assert.ok(shards.length > 0, 'rendered pages are cached on disk')
    })

    test("annotations are drawn unless ?annotations=false", async () => {
      const withAnn = await inspect((await getBytes(image(annotated, 0, '?width=612'))).bytes)
      const without = await inspect((await getBytes(image(annotated, 0, '?width=612&annotations=false'))).bytes)
      // The PDF's square annotation (200 × 200 points in the lower half) was imported into Folio
      // at upload (issue #5) and is drawn from Folio's copy, a 1-point outline (~800 px), not from
      // the file's own appearance stream.
      assert.ok(withAnn.bottom > 500, `annotation drawn: ${withAnn.bottom}`)
      assert.equal(without.bottom, 0)
      assert.ok(without.dark > 50, 'the page content is still drawn')
    })

    test('page text comes in lines with positions in points from the top left', async () => {
      const res = await request(`${f.url}/api/documents/${doc}/pages/0/text`, { headers: authHeader() })
      assert.equal(res.status, 200, res.text)
      assert.ok(res.headers.get('etag'))
      const { data } = res.body
      assert.equal(data.pageIndex, 0)
      assert.deepEqual([data.width, data.height, data.truncated], [612, 792, false])
      assert.equal(data.textLines.length, 1)
      const line = data.textLines[0]
      assert.equal(line.contents, 'Hello Folio')
      assert.ok(Math.abs(line.left - 72) < 2 && line.top > 60 && line.top < 92)
      assert.equal(line.charBoxes.length, line.contents.length)
      const turned = await request(`${f.url}/api/documents/${doc}/pages/1/text`, { headers: authHeader() })
      assert.deepEqual([turned.body.data.width, turned.body.data.height], [792, 612])
      assert.equal(turned.body.data.textLines[0].contents, 'Turned page')
    })

    test('after an overwrite the page shows the new file, and after a delete it is 404 at once', async () => {
      const id = `doc-${db}-overwritten`
      const put = (pdf: Buffer) => request(`${f.url}/api/documents?document_id=${id}&overwrite_existing_document=true`, {
        method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: pdf,
      })
      assert.equal((await put(makePdf({ pages: [{ width: 612, height: 792 }] }))).status, 200)
      const before = await getBytes(image(id, 0, '?width=100'))
      assert.equal((await inspect(before.bytes)).height, 129)
      assert.equal((await put(makePdf({ pages: [{ width: 792, height: 612 }] }))).status, 200)
      const after = await getBytes(image(id, 0, '?width=100'))
      assert.equal((await inspect(after.bytes)).height, 77, 'the new, landscape page')
      assert.notEqual(after.headers.get('etag'), before.headers.get('etag'))
      assert.equal((await request(`${f.url}/api/documents/${id}`, { method: 'DELETE', headers: authHeader() })).status, 200)
      assertError(await request(image(id, 0, '?width=100'), { headers: authHeader() }), 404, 'document_not_found')
      assertError(await request(`${f.url}/api/documents/${id}/pages/0/text`, { headers: authHeader() }), 404, 'document_not_found')
    })

    test('the server keeps answering other requests while a page renders', async () => {
      const bomb = hostileCorpus().find((c) => c.name === 'flate-bomb')!
      const id = (await upload(f, bomb.pdf)).id!
      let settled = false
      const slow = getBytes(image(id, 0, '?width=300')).finally(() => (settled = true))
      const health = await request(`${f.url}/healthcheck`)
      assert.equal(health.status, 200)
      assert.equal(settled, false, 'the health check was answered while the render was still running')
      const res = await slow
      assert.equal(res.status, 422)
      // 18 MB of strokes: past RENDER_TIMEOUT_MS or past RENDER_WORKER_MEMORY_MB, whichever comes first.
      assert.ok(['timeout', 'memory_limit'].includes(JSON.parse(res.bytes.toString()).error.reason))
    })

    test('hostile PDFs that pass upload each get pixels or a coded 422, and the server keeps serving', async () => {
      for (const c of hostileCorpus()) {
        const up = await upload(f, c.pdf)
        if (up.status !== 200) {
          assert.equal(up.status, 422, `${c.name}: refused at upload with 422`)
          continue
        }
        for (const path of ['image?width=300', 'text']) {
          const res = await getBytes(`${f.url}/api/documents/${up.id}/pages/0/${path}`)
          assert.ok(res.status === 200 || res.status === 422, `${c.name} ${path}: ${res.status}`)
          const text = res.bytes.toString('latin1')
          assert.ok(!/\bat .+:\d+:\d+/.test(text), 'no stack trace')
          if (res.status === 422) {
            const body = JSON.parse(text)
            assert.equal(body.error.code, 'render_failed')
            assert.ok(['timeout', 'memory_limit', 'engine_error', 'unreadable'].includes(body.error.reason), `${c.name}: ${body.error.reason}`)
          }
        }
      }
      assert.equal((await request(`${f.url}/healthcheck`)).status, 200)
      assert.equal((await getBytes(image(doc, 0, '?width=77'))).status, 200)
    })
  })
}

describe('render queue limit over HTTP', () => {
  test('renders beyond RENDER_QUEUE_MAX get 429 render_queue_full with Retry-After', async () => {
    const f = await startFolio({ env: { ...RENDER_ENV, RENDER_WORKERS: '1', RENDER_QUEUE_MAX: '1', RENDER_TIMEOUT_MS: '1000' } })
    try {
      const bomb = hostileCorpus().find((c) => c.name === 'flate-bomb')!
      const id = (await upload(f, bomb.pdf)).id!
      const all = await Promise.all([301, 302, 303, 304].map((w) => getBytes(`${f.url}/api/documents/${id}/pages/0/image?width=${w}`)))
      const busy = all.filter((r) => r.status === 429)
      assert.ok(busy.length >= 1, `some renders refused: ${all.map((r) => r.status).join(' ')}`)
      for (const r of busy) {
        assert.equal(JSON.parse(r.bytes.toString()).error.code, 'render_queue_full')
        assert.equal(r.headers.get('retry-after'), '1')
      }
      assert.ok(all.every((r) => r.status === 429 || r.status === 422))
    } finally {
      await f.destroy()
    }
  })
})
