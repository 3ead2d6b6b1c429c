/**
 * The viewer's search box in a real browser (chromium via playwright-core): a query asks the
 * server's search, every match is drawn as a box over its page where the text is, Enter moves to
 * the next match and scrolls its page into view, Esc clears. The side panel shows the outline
 * (a click jumps to its page) and the layer's bookmarks, added and removed with `write`.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Browser } from 'playwright-core'
import { launchBrowser, watchErrors } from '../helpers/browser.js'
import { request } from '../helpers/http.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../helpers/start-folio.js'
import { rsaKeys, signJwt } from '../helpers/sign-jwt.js'
import { textPdf } from '../helpers/text-pdfs.js'

const T = { timeout: 90_000 }

describe('viewer search in a browser', () => {
  let browser: Browser
  let f: TestFolio
  const keys = rsaKeys()
  const pages = Array.from({ length: 8 }, (_, i) => [`Page ${i + 1} of the manual`, i === 2 || i === 6 ? 'the hidden treasure is here' : 'nothing special'])

  before(async () => {
    browser = await launchBrowser()
    f = await startFolio({ db: dbKinds()[0]!, env: { JWT_PUBLIC_KEY: keys.publicPem, RENDER_WORKERS: '1' } })
    const outline = [{ title: 'Introduction', page: 0, children: [{ title: 'The treasure', page: 6 }] }, { title: 'Appendix', page: 7 }]
    const up = await request(`${f.url}/api/documents?document_id=vs`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: textPdf({ pages, outline }) })
    assert.equal(up.status, 200, up.text)
  })
  after(async () => {
    await browser?.close()
    await f?.destroy()
  })

  test('a search highlights each match on its page, Enter jumps to the next, Esc clears', T, async () => {
    const ctx = await browser.newContext({ viewport: { width: 1000, height: 800 } })
    const page = await ctx.newPage()
    const errors = watchErrors(page)
    const jwt = signJwt(keys, { document_id: 'vs', permissions: ['read-document'] })
    await page.goto(`${f.url}/viewer#document=vs&jwt=${encodeURIComponent(jwt)}`)
    await page.locator('[data-page-index]').first().waitFor()
    const box = page.locator('#search-input')
    assert.equal(await box.isVisible(), true, 'the search box is shown to a read-only viewer too')
    await box.fill('hidden treasure')
    await box.press('Enter')
    await page.locator('#search-count').filter({ hasText: '1 of 2' }).waitFor()
    const hitPages = await page.locator('.search-hit').evaluateAll((els) => els.map((e) => Number(e.closest('[data-page-index]')!.getAttribute('data-page-index'))))
    assert.deepEqual(hitPages, [2, 6])
    // The box sits on the second line, after "the " (about 20 pt from x = 72); its baseline is at 792 − 700 = 92 pt.
    const [x, y, w] = await page.locator('[data-page-index="2"] .search-hit').evaluate((r) => ['x', 'y', 'width'].map((a) => Number(r.getAttribute(a))))
    assert.ok(x! > 85 && x! < 100 && y! > 75 && y! < 92 && w! > 60, `box at ${x},${y} width ${w}`)
    await box.press('Enter')
    await page.locator('#search-count').filter({ hasText: '2 of 2' }).waitFor()
    assert.equal(await page.locator('[data-page-index="6"] .search-hit.current').count(), 1)
    const visible = await page.locator('[data-page-index="6"]').evaluate((el) => {
      const r = el.getBoundingClientRect()
      return r.top < (globalThis as unknown as { innerHeight: number }).innerHeight && r.bottom > 0
    })
    assert.ok(visible, 'the page of the current match is scrolled into view')
    await box.press('Escape')
    assert.equal(await page.locator('.search-hit').count(), 0)
    await box.fill('zz')
    await box.press('Enter')
    await page.locator('#search-count').filter({ hasText: '3 letters' }).waitFor()
    assert.deepEqual(errors, [])
    await ctx.close()
  })

  test('the side panel shows the outline, jumps to its pages, and adds and removes bookmarks', T, async () => {
    const ctx = await browser.newContext({ viewport: { width: 1000, height: 800 } })
    const page = await ctx.newPage()
    const errors = watchErrors(page)
    const jwt = signJwt(keys, { document_id: 'vs', permissions: ['read-document', 'write'], layer: 'reader' })
    await page.goto(`${f.url}/viewer#document=vs&jwt=${encodeURIComponent(jwt)}`)
    await page.locator('[data-page-index]').first().waitFor()
    await page.locator('#panel-toggle').click()
    await page.locator('#outline-list .panel-link', { hasText: 'The treasure' }).waitFor()
    assert.deepEqual(await page.locator('#outline-list .panel-link').allTextContents(), ['Introduction', 'The treasure', 'Appendix'])
    await page.locator('#outline-list .panel-link', { hasText: 'The treasure' }).click()
    const inView = (i: number) => page.locator(`[data-page-index="${i}"]`).evaluate((el) => {
      const r = el.getBoundingClientRect()
      return r.top < (globalThis as unknown as { innerHeight: number }).innerHeight && r.bottom > 0
    })
    assert.equal(await inView(6), true, 'the outline entry scrolled to page 7')

    await page.locator('#bookmark-add').click()
    await page.locator('#bookmark-list .panel-link', { hasText: 'Page 7' }).waitFor()
    const stored = await request(`${f.url}/api/documents/vs/layers/reader/bookmarks`, { headers: authHeader() })
    assert.deepEqual(stored.body.data.bookmarks.map((b: { content: { action: { pageIndex: number } } }) => b.content.action.pageIndex), [6])
    await page.locator('#outline-list .panel-link', { hasText: 'Introduction' }).click()
    await page.locator('#bookmark-list .panel-link', { hasText: 'Page 7' }).click()
    assert.equal(await inView(6), true, 'the bookmark jumps back to its page')
    await page.locator('.bookmark-delete').click()
    await page.locator('#bookmark-list', { hasText: 'No bookmarks yet' }).waitFor()
    assert.deepEqual((await request(`${f.url}/api/documents/vs/layers/reader/bookmarks`, { headers: authHeader() })).body.data.bookmarks, [])
    assert.deepEqual(errors, [])
    await ctx.close()
  })
})
