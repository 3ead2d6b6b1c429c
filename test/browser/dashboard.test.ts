/**
 * The dashboard in a real browser (issue #7): Debian's chromium driven by playwright-core, a
 * real Folio on a real database. One database kind suffices here: the HTTP tests
 * (test/http/dashboard) cover both; these cover what only a browser shows.
 * Each context sends its own X-Forwarded-For (Folio trusts 127.0.0.1 as a proxy here), so the
 * rate-limit test's failures do not block the other tests' logins.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { Browser, BrowserContext, Page, Response } from 'playwright-core'
import { launchBrowser, screenshot, watchErrors } from '../helpers/browser.js'
import { makePdf } from '../helpers/pdf-fixtures.js'
import { dbKinds, startFolio, type TestFolio } from '../helpers/start-folio.js'
import { rsaKeys, signJwt } from '../helpers/sign-jwt.js'

const USER = 'operator'
const PASSWORD = 'correct horse battery'
const T = { timeout: 90_000 }
let ipCounter = 1

/**
 * Navigates and returns the status of the last response to the document request. With wrong
 * Basic credentials Chromium ends the navigation with ERR_INVALID_AUTH_CREDENTIALS after the
 * server's 401, so the status is read from the response event rather than from goto's result.
 */
async function visit(page: Page, url: string): Promise<number> {
  let status = 0
  const onResponse = (r: Response) => {
    if (r.request().isNavigationRequest()) status = r.status()
  }
  page.on('response', onResponse)
  try {
    await page.goto(url)
  } catch (e) {
    if (!/ERR_INVALID_AUTH_CREDENTIALS/.test((e as Error).message)) throw e
  } finally {
    page.off('response', onResponse)
  }
  return status
}

describe('dashboard in a browser', () => {
  let browser: Browser
  let f: TestFolio
  let off: TestFolio
  const keys = rsaKeys()
  const context = (opts: { username?: string; password?: string; ip?: string } = {}): Promise<BrowserContext> =>
    browser.newContext({
      httpCredentials: opts.username === undefined ? undefined : { username: opts.username, password: opts.password ?? '' },
      extraHTTPHeaders: { 'x-forwarded-for': opts.ip ?? `198.51.100.${ipCounter++}` },
      viewport: { width: 1280, height: 860 },
    })

  before(async () => {
    const db = dbKinds()[0]!
    browser = await launchBrowser()
    f = await startFolio({
      db,
      env: {
        DASHBOARD_USERNAME: USER,
        DASHBOARD_PASSWORD: PASSWORD,
        DASHBOARD_RATE_LIMITING_MAX_REQUESTS: '3',
        TRUSTED_PROXIES: '127.0.0.1',
        JWT_PUBLIC_KEY: keys.publicPem,
      },
    })
    off = await startFolio({ db })
  })
  after(async () => {
    await browser?.close()
    await f?.destroy()
    await off?.destroy()
  })

  test('without dashboard credentials configured, /dashboard is 404 in the browser', T, async () => {
    const ctx = await context({ username: USER, password: PASSWORD })
    const page = await ctx.newPage()
    for (const path of ['/dashboard', '/dashboard/', '/dashboard/js/app.js']) {
      const res = await page.goto(`${off.url}${path}`)
      assert.equal(res?.status(), 404, path)
      assert.match(await page.content(), /not_found/)
    }
    await ctx.close()
  })

  test('wrong credentials get 401 and no dashboard', T, async () => {
    for (const creds of [{}, { username: USER, password: 'wrong password' }, { username: 'root', password: PASSWORD }]) {
      const ctx = await context(creds)
      const page = await ctx.newPage()
      assert.equal(await visit(page, `${f.url}/dashboard/`), 401)
      assert.equal(await page.locator('nav').count(), 0)
      await ctx.close()
    }
  })

  test('repeated failed logins from one address are refused with 429', T, async () => {
    const blockedIp = '203.0.113.77'
    const ctx = await context({ username: USER, password: 'guess', ip: blockedIp })
    const page = await ctx.newPage()
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push(await visit(page, `${f.url}/dashboard/`))
    assert.equal(statuses[0], 401)
    assert.equal(statuses.at(-1), 429, `statuses: ${statuses.join(',')}`)
    assert.match(await page.content(), /too_many_requests/)
    // The right password from that address is refused too, until the window ends.
    const right = await context({ username: USER, password: PASSWORD, ip: blockedIp })
    assert.equal(await visit(await right.newPage(), `${f.url}/dashboard/`), 429)
    await right.close()
    await ctx.close()
  })

  test('an operator logs in, uploads a PDF through the form, finds it, opens it in the viewer and sees its pages; then deletes it', T, async () => {
    const ctx = await context({ username: USER, password: PASSWORD })
    const page = await ctx.newPage()
    const errors = watchErrors(page)
    const res = await page.goto(`${f.url}/dashboard/`)
    assert.equal(res?.status(), 200)
    await page.locator('#document-list').waitFor()
    assert.equal(await page.locator('#account-user').textContent(), USER)

    const file = join(f.storage.dataDir, 'annual-report.pdf')
    writeFileSync(file, makePdf({ pages: [{ text: 'Annual report 2026' }, { text: 'Results' }, { width: 842, height: 595, text: 'Outlook' }] }))
    await page.setInputFiles('#upload-file', file)
    await page.fill('#upload-title', 'Annual report')
    await page.click('#upload-submit')
    await page.locator('#upload-status', { hasText: 'Uploaded' }).waitFor()
    assert.equal(await page.locator('#upload-progress').getAttribute('value'), '100')
    const row = page.locator('tr[data-document-id]', { hasText: 'Annual report' })
    await row.waitFor()
    const id = await row.getAttribute('data-document-id')
    assert.ok(id)

    // A second document, so that search has something to leave out.
    await page.setInputFiles('#upload-file', file)
    await page.fill('#upload-title', 'Board minutes')
    await page.click('#upload-submit')
    await page.locator('tr[data-document-id]', { hasText: 'Board minutes' }).waitFor()
    await page.fill('#document-search', 'annual')
    await page.locator('#document-count', { hasText: 'matching' }).waitFor()
    assert.deepEqual(await page.locator('tr[data-document-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-document-id'))), [id])
    await page.fill('#document-search', '')
    await page.locator('tr[data-document-id]', { hasText: 'Board minutes' }).waitFor()
    await page.locator('.toast').evaluateAll((els) => els.forEach((e) => e.remove()))
    await screenshot(page, 'dashboard-documents')

    const [viewer] = await Promise.all([ctx.waitForEvent('page'), row.locator('a[data-action=open]').click()])
    const viewerErrors = watchErrors(viewer)
    await viewer.locator('[data-page-index]').first().waitFor()
    assert.equal(await viewer.locator('[data-page-index]').count(), 3)
    assert.equal(await viewer.locator('#doc-title').textContent(), 'Annual report')
    assert.ok(!viewer.url().includes('?'), 'nothing travels in the query string')
    await viewer.locator('body[data-annotations]').waitFor()
    // The first page's image, or the word that this server cannot render pages (before #6).
    await viewer.locator('[data-page-index="0"][data-image-width], [data-page-index="0"] .placeholder:has-text("not available")').first().waitFor()
    await screenshot(viewer, 'viewer')
    await viewer.close()

    await row.locator('button[data-action=delete]').click()
    await page.locator('#confirm[open]').waitFor()
    await page.click('#confirm-ok')
    await row.waitFor({ state: 'detached' })
    assert.equal(await page.locator('tr[data-document-id]', { hasText: 'Annual report' }).count(), 0)
    assert.deepEqual(errors.filter((e) => !e.includes('404')), [])
    assert.deepEqual(viewerErrors.filter((e) => !e.includes('404')), [])
    await ctx.close()
  })

  test('every page renders, and pages whose API this server lacks say "not available"', T, async () => {
    const ctx = await context({ username: USER, password: PASSWORD })
    const page = await ctx.newPage()
    const errors = watchErrors(page)
    await page.goto(`${f.url}/dashboard/`)
    for (const name of ['secrets', 'revocations', 'jwt', 'audit', 'nodes', 'documents']) {
      await page.click(`a[data-route=${name}]`)
      await page.locator(`main[aria-busy="false"] .page[data-page=${name}]`).waitFor()
      assert.equal(await page.locator('a[aria-current=page]').getAttribute('data-route'), name)
    }
    assert.deepEqual(errors.filter((e) => !e.includes('404')), [])
    await ctx.close()
  })

  test('a secret is rotated through the secrets page, and the page never shows a secret', T, async () => {
    const ctx = await context({ username: USER, password: PASSWORD })
    const page = await ctx.newPage()
    await page.goto(`${f.url}/dashboard/#/secrets?type=api_auth_token`)
    await page.locator('#secret-list').waitFor()
    const before = await page.locator('#secret-list tbody tr').count()
    const newToken = 'rotated-token-' + 'x'.repeat(40)
    await page.fill('#rotate-secret', newToken)
    await page.selectOption('#rotate-previous', 'default')
    await page.click('#rotate-submit')
    await page.locator('#secret-list tbody tr').nth(before).waitFor()
    assert.equal(await page.locator('#secret-list tbody tr').count(), before + 1)
    assert.ok(!(await page.content()).includes(newToken), 'the secret is not on the page')
    // The new token works on /api at once.
    const res = await fetch(`${f.url}/api/documents`, { headers: { authorization: `Token token="${newToken}"` } })
    assert.equal(res.status, 200)
    // The audit log names the operator who did it, through the dashboard.
    const audit: any = await (await fetch(`${f.url}/api/audit?action=secret.rotate`, { headers: { authorization: `Token token="${newToken}"` } })).json()
    assert.deepEqual(audit.data[0].actor, { type: 'dashboard', id: USER, fingerprint: null })
    await screenshot(page, 'dashboard-secrets')
    await ctx.close()
  })

  test('the JWT validator accepts a good token and names the failed check of a bad one', T, async () => {
    const ctx = await context({ username: USER, password: PASSWORD })
    const page = await ctx.newPage()
    await page.goto(`${f.url}/dashboard/#/jwt`)
    await page.locator('#jwt-form').waitFor()
    await page.fill('#jwt-token', signJwt(keys, { document_id: 'doc-1', permissions: ['read-document'] }))
    await page.click('#jwt-submit')
    await page.locator('#jwt-result [data-valid=true]').waitFor()
    const now = Math.floor(Date.now() / 1000)
    await page.fill('#jwt-token', signJwt(keys, { document_id: 'doc-1', permissions: ['read-document'], iat: now - 7200, exp: now - 3600 }))
    await page.click('#jwt-submit')
    await page.locator('#jwt-result [data-valid=false][data-reason=expired]').waitFor()
    await screenshot(page, 'dashboard-jwt-validator')
    await ctx.close()
  })
})
