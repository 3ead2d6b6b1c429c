/**
 * The viewer in a real browser (spec §9, issue #7): the fragment carries document and token,
 * pages are elements with data-page-index, images load lazily at width × devicePixelRatio,
 * annotations are drawn and edited, and changes show up live in a second window.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { launchBrowser, screenshot, watchErrors } from '../helpers/browser.js'
import { makePdf } from '../helpers/pdf-fixtures.js'
import { request } from '../helpers/http.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../helpers/start-folio.js'
import { rsaKeys, signJwt } from '../helpers/sign-jwt.js'

const USER = 'operator'
const PASSWORD = 'correct horse battery'
const T = { timeout: 90_000 }
const RW = ['read-document', 'write']

/** Drags from one point to another, in fractions of the page element's box. */
async function dragOnPage(page: Page, pageIndex: number, from: [number, number], to: [number, number]) {
  const overlay = page.locator(`[data-page-index="${pageIndex}"] svg.overlay`)
  await overlay.scrollIntoViewIfNeeded()
  const box = (await overlay.boundingBox())!
  await page.mouse.move(box.x + box.width * from[0], box.y + box.height * from[1])
  await page.mouse.down()
  const steps = 8
  for (let i = 1; i <= steps; i++) {
    await page.mouse.move(box.x + box.width * (from[0] + ((to[0] - from[0]) * i) / steps), box.y + box.height * (from[1] + ((to[1] - from[1]) * i) / steps))
  }
  await page.mouse.up()
}

/** Draws a freehand wave across a page (fractions of the page box), as a pen would. */
async function waveOnPage(page: Page, pageIndex: number, x0: number, x1: number, y: number, amplitude: number) {
  const overlay = page.locator(`[data-page-index="${pageIndex}"] svg.overlay`)
  await overlay.scrollIntoViewIfNeeded()
  const box = (await overlay.boundingBox())!
  const at = (t: number) => [box.x + box.width * (x0 + (x1 - x0) * t), box.y + box.height * (y + amplitude * Math.sin(t * Math.PI * 3))] as const
  await page.mouse.move(...at(0))
  await page.mouse.down()
  for (let i = 1; i <= 40; i++) await page.mouse.move(...at(i / 40))
  await page.mouse.up()
}

describe('viewer in a browser', () => {
  let browser: Browser
  let f: TestFolio
  let docId: string
  let ctx: BrowserContext
  const keys = rsaKeys()
  const viewerUrl = (jwt: string, id = docId) => `${f.url}/viewer#document=${encodeURIComponent(id)}&jwt=${encodeURIComponent(jwt)}`

  before(async () => {
    browser = await launchBrowser()
    f = await startFolio({ db: dbKinds()[0]!, env: { DASHBOARD_USERNAME: USER, DASHBOARD_PASSWORD: PASSWORD, JWT_PUBLIC_KEY: keys.publicPem } })
    const pdf = makePdf({ pages: Array.from({ length: 12 }, (_, i) => ({ text: i === 0 ? 'Folio viewer: annotate me' : `Page ${i + 1}` })) })
    const up = await request(`${f.url}/api/documents?title=Viewer%20test`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: pdf })
    assert.equal(up.status, 200, up.text)
    docId = up.body.data.document_id
    ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } })
  })
  after(async () => {
    await browser?.close()
    await f?.destroy()
  })

  test('without a document or a token in the fragment the viewer says so and shows no page', T, async () => {
    const page = await ctx.newPage()
    const errors = watchErrors(page)
    for (const hash of ['', `#document=${docId}`]) {
      await page.goto(`${f.url}/viewer${hash}`)
      await page.locator('#message:not([hidden])').waitFor()
      assert.equal(await page.locator('[data-page-index]').count(), 0)
    }
    assert.match((await page.locator('#message').textContent())!, /token/i)
    assert.deepEqual(errors, [])
    await page.close()
  })

  test('a bad, expired or foreign token shows a clear message and no page', T, async () => {
    const page = await ctx.newPage()
    const now = Math.floor(Date.now() / 1000)
    const cases: Array<[string, RegExp]> = [
      ['not-a-jwt', /refused/i],
      [signJwt(keys, { document_id: docId, permissions: RW, iat: now - 7200, exp: now - 3600 }), /expired/i],
      [signJwt(rsaKeys(), { document_id: docId, permissions: RW }), /refused/i],
      [signJwt(keys, { document_id: 'another-document', permissions: RW }), /no access/i],
    ]
    for (const [jwt, text] of cases) {
      await page.goto('about:blank')
      await page.goto(viewerUrl(jwt))
      await page.locator('#message:not([hidden])').waitFor()
      assert.match((await page.locator('#message').textContent())!, text)
      assert.equal(await page.locator('[data-page-index]').count(), 0)
    }
    await page.close()
  })

  test('with a valid token every page is an element with data-page-index; the token stays out of every request URL', T, async () => {
    const page = await ctx.newPage()
    const urls: string[] = []
    page.on('request', (r) => urls.push(r.url()))
    const jwt = signJwt(keys, { document_id: docId, permissions: ['read-document'] })
    await page.goto(viewerUrl(jwt))
    await page.locator('[data-page-index]').first().waitFor()
    assert.equal(await page.locator('[data-page-index]').count(), 12)
    assert.deepEqual(await page.locator('[data-page-index]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-page-index')))), [...Array(12).keys()])
    assert.equal(await page.locator('#tools').isVisible(), false, 'read-only: no tools')
    assert.ok(urls.every((u) => !u.includes(jwt.split('.')[2]!)), 'the token is never in a URL sent to the server')
    await page.close()
  })

  test('page images load lazily at the displayed width × devicePixelRatio', T, async () => {
    const hiDpi = await browser.newContext({ viewport: { width: 900, height: 800 }, deviceScaleFactor: 2, httpCredentials: { username: USER, password: PASSWORD } })
    const page = await hiDpi.newPage()
    const images: string[] = []
    page.on('request', (r) => { if (r.url().includes('/image?')) images.push(r.url()) })
    await page.goto(`${f.url}/dashboard/`) // sign in: the viewer then uses the dashboard session
    await page.goto(`${f.url}/viewer#document=${docId}&session=dashboard`)
    const first = page.locator('[data-page-index="0"]')
    await page.locator('[data-page-index="0"][data-image-width]').waitFor()
    const cssWidth = await first.evaluate((e) => (e as unknown as { clientWidth: number }).clientWidth)
    const loaded = Number(await first.getAttribute('data-image-width'))
    assert.ok(loaded >= cssWidth * 2 && loaded < cssWidth * 2 + 50, `loaded ${loaded} for ${cssWidth} css px at dpr 2`)
    assert.equal(await page.locator('[data-page-index="11"]').getAttribute('data-image-width'), null, 'the last page is not loaded before it is near')
    await page.locator('[data-page-index="11"]').scrollIntoViewIfNeeded()
    await page.locator('[data-page-index="11"][data-image-width]').waitFor()
    // Pages come without annotations burnt in: the viewer draws them, so they never show twice.
    assert.ok(images.length >= 2 && images.every((u) => new URL(u).searchParams.get('annotations') === 'false'), images.join(' '))
    await hiDpi.close()
  })

  test('with write, a highlight drawn in one viewer appears live in a second one; rectangle, ink and note too, then edited and deleted', T, async () => {
    const jwt = signJwt(keys, { document_id: docId, permissions: RW, user_id: 'ann' })
    const a = await ctx.newPage()
    const b = await (await browser.newContext({ viewport: { width: 900, height: 900 } })).newPage()
    const errors = watchErrors(a)
    for (const p of [a, b]) {
      await p.goto(viewerUrl(jwt))
      await p.locator('[data-page-index="0"]').waitFor()
      await p.locator('body[data-annotations=loaded]').waitFor()
    }
    await a.click('button[data-tool=highlight]')
    await dragOnPage(a, 0, [0.1, 0.08], [0.6, 0.12])
    const highlight = '[data-page-index="0"] [data-annotation-type="pspdfkit/markup/highlight"]'
    await a.locator(highlight).waitFor()
    await b.locator(highlight).waitFor({ timeout: 10_000 }) // live, from the other window

    await a.click('button[data-tool=rectangle]')
    await a.click('#colors [data-color="#60a5fa"]')
    await dragOnPage(a, 0, [0.15, 0.3], [0.55, 0.45])
    await a.click('button[data-tool=ink]')
    await a.click('#colors [data-color="#ef4444"]')
    await waveOnPage(a, 0, 0.2, 0.7, 0.58, 0.03)
    await a.click('button[data-tool=note]')
    await a.click('#colors [data-color="#ffd400"]')
    await dragOnPage(a, 0, [0.75, 0.3], [0.75, 0.3])
    await a.locator('#note-dialog[open]').waitFor()
    await a.fill('#note-text', 'Check these figures')
    await a.click('#note-save')
    for (const type of ['pspdfkit/shape/rectangle', 'pspdfkit/ink', 'pspdfkit/note']) {
      await b.locator(`[data-page-index="0"] [data-annotation-type="${type}"]`).waitFor({ timeout: 10_000 })
    }
    const stored = await request(`${f.url}/api/documents/${docId}/annotations`, { headers: authHeader() })
    assert.deepEqual(stored.body.data.annotations.map((x: { content: { type: string } }) => x.content.type).sort(),
      ['pspdfkit/ink', 'pspdfkit/markup/highlight', 'pspdfkit/note', 'pspdfkit/shape/rectangle'])
    await a.click('button[data-tool=select]')
    await a.locator('#viewer').evaluate((e) => e.scrollTo(0, 0))
    await screenshot(a, 'viewer-annotations')

    // Edit: recolour the rectangle, change the note's text; delete the ink stroke.
    await a.click('button[data-tool=select]')
    await a.locator('[data-annotation-type="pspdfkit/shape/rectangle"] .hit').click()
    await a.locator('#selection-colors [data-color="#4ade80"]').click()
    await b.locator('[data-annotation-type="pspdfkit/shape/rectangle"] rect[stroke="#4ade80"]').waitFor({ timeout: 10_000 })
    await a.locator('[data-annotation-type="pspdfkit/note"] .hit').click()
    await a.click('#edit-note')
    await a.fill('#note-text', 'Figures checked')
    await a.click('#note-save')
    await b.locator('[data-annotation-type="pspdfkit/note"] title', { hasText: 'Figures checked' }).waitFor({ state: 'attached', timeout: 10_000 })
    await a.locator('[data-annotation-type="pspdfkit/ink"] .hit').click()
    await a.click('#delete-annotation')
    await b.locator('[data-annotation-type="pspdfkit/ink"]').waitFor({ state: 'detached', timeout: 10_000 })
    assert.deepEqual(errors, [])
    await b.context().close()
  })

  test('the dashboard opens a document in the viewer with its session and can annotate it', T, async () => {
    const dash = await browser.newContext({ viewport: { width: 1100, height: 900 }, httpCredentials: { username: USER, password: PASSWORD } })
    const page = await dash.newPage()
    await page.goto(`${f.url}/dashboard/`)
    await page.goto(`${f.url}/viewer#document=${docId}&session=dashboard`)
    await page.locator('body[data-annotations=loaded]').waitFor()
    const before = await page.locator('[data-annotation-id]').count()
    await page.click('button[data-tool=rectangle]')
    await dragOnPage(page, 1, [0.2, 0.2], [0.5, 0.4])
    await page.locator('[data-page-index="1"] [data-annotation-type="pspdfkit/shape/rectangle"]').waitFor()
    const stored = await request(`${f.url}/api/documents/${docId}/annotations`, { headers: authHeader() })
    assert.equal(stored.body.data.annotations.length, before + 1)
    await dash.close()
  })
})
