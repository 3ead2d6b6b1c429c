/**
 * Annotations drawn on rendered pages (issues #5 and #6): the layer's annotations appear where
 * they are placed, `?annotations=false` leaves them out, a change re-renders (new ETag), and a
 * client token sees its own layer only.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import sharp from 'sharp'
import { highlightAt } from '../../helpers/annotation-samples.js'
import { request } from '../../helpers/http.js'
import { claimsFor, keyPair, signToken } from '../../helpers/jwt.js'
import { makePdf } from '../../helpers/pdf-fixtures.js'
import { authHeader, startFolio, type TestFolio } from '../../helpers/start-folio.js'

/** RGB of the pixel at page point (x, y) of a 612×792 page rendered 612 px wide. */
async function pixelAt(png: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  const i = (Math.round(y) * info.width + Math.round(x)) * 3
  return [data[i]!, data[i + 1]!, data[i + 2]!]
}

const reddish = ([r, g, b]: [number, number, number]) => r > 200 && g < 190 && b < 190
const white = ([r, g, b]: [number, number, number]) => r > 245 && g > 245 && b > 245

describe('annotations on page images', () => {
  let f: TestFolio
  const pair = keyPair('ES256')
  const image = async (path: string, headers: Record<string, string> = authHeader()) => {
    const res = await fetch(`${f.url}${path}`, { headers })
    assert.equal(res.status, 200)
    return { png: Buffer.from(await res.arrayBuffer()), etag: res.headers.get('etag') }
  }

  before(async () => {
    f = await startFolio({ db: 'pglite', env: { JWT_PUBLIC_KEY: pair.publicPem, JWT_ALGORITHM: 'ES256' } })
    const res = await request(`${f.url}/api/documents?document_id=pa`, {
      method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: makePdf({ pages: [{ width: 612, height: 792, text: ' ' }] }),
    })
    assert.equal(res.status, 200, res.text)
  })
  after(async () => {
    await f.destroy()
  })

  test('a highlight is drawn where it is placed, not with ?annotations=false, and a change gives a new ETag', async () => {
    const blank = await image('/api/documents/pa/pages/0/image?width=612')
    assert.ok(white(await pixelAt(blank.png, 200, 509)), 'white before')
    const created = await request(`${f.url}/api/documents/pa/annotations`, { method: 'POST', headers: authHeader(), json: { id: 'h1', content: highlightAt(0, 500) } })
    assert.equal(created.status, 200, created.text)
    const drawn = await image('/api/documents/pa/pages/0/image?width=612')
    assert.notEqual(drawn.etag, blank.etag)
    assert.ok(reddish(await pixelAt(drawn.png, 200, 509)), `the highlight is red: ${await pixelAt(drawn.png, 200, 509)}`)
    assert.ok(white(await pixelAt(drawn.png, 200, 600)), 'nothing drawn elsewhere')
    const plain = await image('/api/documents/pa/pages/0/image?width=612&annotations=false')
    assert.ok(white(await pixelAt(plain.png, 200, 509)), 'annotations=false leaves it out')
  })

  test("a client token sees its own layer's annotations on page images, not the default layer's", async () => {
    await request(`${f.url}/api/documents/pa/layers/alice/annotations`, { method: 'POST', headers: authHeader(), json: { id: 'a1', content: highlightAt(0, 100, '#0000ff') } })
    const alice = { authorization: `Bearer ${await signToken(claimsFor('pa', ['read-document'], { layer: 'alice' }), pair)}` }
    const viewer = { authorization: `Bearer ${await signToken(claimsFor('pa', ['read-document']), pair)}` }
    const asAlice = await image('/i/d/pa/pages/0/image?width=612', alice)
    const [r, g, b] = await pixelAt(asAlice.png, 200, 109)
    assert.ok(b > 200 && r < 190, `alice's blue highlight is drawn: ${[r, g, b]}`)
    assert.ok(white(await pixelAt(asAlice.png, 200, 509)), "the default layer's red highlight is not")
    const asViewer = await image('/documents/pa/pages/0/image?width=612', viewer)
    assert.ok(reddish(await pixelAt(asViewer.png, 200, 509)))
    assert.ok(white(await pixelAt(asViewer.png, 200, 109)), "alice's layer is not drawn for a default-layer token")
  })
})
