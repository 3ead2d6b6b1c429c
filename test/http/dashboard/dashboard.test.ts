/**
 * The dashboard surface over HTTP (spec §2, §9; issue #7): off unless configured, HTTP Basic,
 * rate-limited failures, the signed session cookie, CSRF, and the server API mounted under
 * /dashboard/api. A real Folio on both databases.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { makePdf } from '../../helpers/pdf-fixtures.js'
import { assertError, request } from '../../helpers/http.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'

const USER = 'operator'
const PASSWORD = 'correct horse battery'
const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` })
const DASHBOARD_ENV = { DASHBOARD_USERNAME: USER, DASHBOARD_PASSWORD: PASSWORD, DASHBOARD_RATE_LIMITING_MAX_REQUESTS: '3' }

/** Logs in with Basic and returns the session cookie (name=value) and the CSRF token. */
async function login(url: string, headers: Record<string, string> = {}) {
  const res = await request(`${url}/dashboard/session`, { headers: { ...basic(USER, PASSWORD), ...headers } })
  assert.equal(res.status, 200, res.text)
  const setCookie = res.headers.get('set-cookie') ?? ''
  return { cookie: setCookie.split(';')[0]!, csrf: res.body.data.csrfToken as string, setCookie }
}

for (const db of dbKinds()) {
  describe(`dashboard is off without credentials (${db})`, () => {
    let f: TestFolio
    before(async () => {
      f = await startFolio({ db, env: { DASHBOARD_USERNAME: USER } }) // a username alone is not enough
    })
    after(() => f.destroy())

    test('every /dashboard path answers 404 not_found exactly like an unknown path, even with credentials', async () => {
      const unknown = await request(`${f.url}/no-such-path`)
      for (const path of ['/dashboard', '/dashboard/', '/dashboard/session', '/dashboard/api/documents', '/dashboard/dashboard.css', '/dashboard/x/y']) {
        for (const headers of [{}, basic(USER, 'anything')]) {
          const res = await request(`${f.url}${path}`, { headers })
          assertError(res, 404, 'not_found')
          assert.equal(res.text, unknown.text, path)
          assert.equal(res.headers.get('www-authenticate'), null)
        }
      }
      const post = await request(`${f.url}/dashboard/api/documents`, { method: 'POST', headers: basic(USER, 'x') })
      assertError(post, 404, 'not_found')
    })

    test('the viewer page loads without any credential', async () => {
      const res = await fetch(`${f.url}/viewer`)
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/)
      assert.match(await res.text(), /viewer\.js/)
      assert.equal((await fetch(`${f.url}/viewer/viewer.js`)).status, 200)
      assertError(await request(`${f.url}/viewer/../../etc/passwd`), 404, 'not_found')
      assertError(await request(`${f.url}/viewer/nothing.js`), 404, 'not_found')
    })
  })

  describe(`dashboard login and session (${db})`, () => {
    let f: TestFolio
    before(async () => {
      f = await startFolio({ db, env: DASHBOARD_ENV })
    })
    after(() => f.destroy())

    test('without credentials every /dashboard path is 401 with a Basic challenge, unknown ones too', async () => {
      for (const path of ['/dashboard', '/dashboard/', '/dashboard/api/documents', '/dashboard/no-such-page']) {
        const res = await request(`${f.url}${path}`)
        assertError(res, 401, 'unauthorized')
        assert.equal(res.headers.get('www-authenticate'), 'Basic realm="Folio dashboard", charset="UTF-8"')
      }
    })

    test('the API token is not a dashboard credential, and the dashboard session is not an API credential', async () => {
      assertError(await request(`${f.url}/dashboard/api/documents`, { headers: authHeader() }), 401, 'unauthorized')
      const { cookie } = await login(f.url)
      assertError(await request(`${f.url}/api/documents`, { headers: { cookie } }), 401, 'unauthorized')
    })

    test('a right login sets an HttpOnly, SameSite=Strict session cookie for /dashboard, without Secure over plain HTTP', async () => {
      const res = await fetch(`${f.url}/dashboard/`, { headers: basic(USER, PASSWORD) })
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/)
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/)
      const c = res.headers.get('set-cookie') ?? ''
      assert.match(c, /^folio_dashboard=[A-Za-z0-9_-]+\.[A-Za-z0-9_.-]{43,};/) // value.mac (#4's signer adds the key id)
      for (const attr of ['Path=/dashboard', 'HttpOnly', 'SameSite=Strict']) assert.ok(c.includes(attr), `${attr} in ${c}`)
      assert.ok(!/Secure/i.test(c), 'not Secure on plain HTTP')
      assert.ok(!c.includes(PASSWORD) && !c.includes(Buffer.from(PASSWORD).toString('base64')))
    })

    test('the session cookie alone authenticates; a tampered or foreign one does not', async () => {
      const { cookie } = await login(f.url)
      const ok = await request(`${f.url}/dashboard/session`, { headers: { cookie } })
      assert.equal(ok.status, 200)
      assert.equal(ok.body.data.username, USER)
      const [name, value] = cookie.split('=') as [string, string]
      const [payload, mac] = value.split('.') as [string, string]
      const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), e: Date.now() + 1e9 })).toString('base64url')
      for (const bad of [`${name}=${forged}.${mac}`, `${name}=${payload}.${mac.slice(0, -2)}AA`, `${name}=garbage`]) {
        assertError(await request(`${f.url}/dashboard/session`, { headers: { cookie: bad } }), 401, 'unauthorized')
      }
    })

    test('state changes need the session CSRF token and a same-origin Origin; Basic alone cannot change anything', async () => {
      const { cookie, csrf } = await login(f.url)
      const del = (headers: Record<string, string>) => request(`${f.url}/dashboard/api/documents/some-id`, { method: 'DELETE', headers })
      assertError(await del({ cookie }), 403, 'invalid_csrf_token')
      assertError(await del({ cookie, 'x-csrf-token': 'wrong' }), 403, 'invalid_csrf_token')
      assertError(await del({ cookie, 'x-csrf-token': csrf, origin: 'https://evil.example' }), 403, 'invalid_csrf_token')
      assertError(await del({ cookie, 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' }), 403, 'invalid_csrf_token')
      assertError(await del({ ...basic(USER, PASSWORD) }), 403, 'invalid_csrf_token')
      // With all of it, the request reaches the route (which then finds no such document).
      assertError(await del({ cookie, 'x-csrf-token': csrf, origin: f.url }), 404, 'document_not_found')
    })

    test('the server API works under /dashboard/api: upload, list, info, delete', async () => {
      const { cookie, csrf } = await login(f.url)
      const h = { cookie, 'x-csrf-token': csrf, origin: f.url }
      const form = new FormData()
      form.append('title', 'Through the dashboard')
      form.append('file', new Blob([makePdf({ pages: [{}, {}] })], { type: 'application/pdf' }), 'd.pdf')
      const up = await request(`${f.url}/dashboard/api/documents`, { method: 'POST', headers: h, body: form })
      assert.equal(up.status, 200, up.text)
      const id = up.body.data.document_id
      const list = await request(`${f.url}/dashboard/api/documents?title=dashboard`, { headers: { cookie } })
      assert.deepEqual(list.body.data.map((d: { id: string }) => d.id), [id])
      const info = await request(`${f.url}/dashboard/api/documents/${id}/document_info`, { headers: { cookie } })
      assert.equal(info.body.data.pageCount, 2)
      // The same document through /api: one API, two credentials.
      assert.equal((await request(`${f.url}/api/documents/${id}/properties`, { headers: authHeader() })).body.data.title, 'Through the dashboard')
      assert.equal((await request(`${f.url}/dashboard/api/documents/${id}`, { method: 'DELETE', headers: h })).status, 200)
      assertError(await request(`${f.url}/api/documents/${id}/properties`, { headers: authHeader() }), 404, 'document_not_found')
    })

    test('the OpenAPI document lists /api routes once and no /dashboard route', async () => {
      const doc = await request(`${f.url}/api/openapi.json`)
      const paths = Object.keys(doc.body.paths)
      assert.ok(paths.includes('/api/documents'))
      assert.deepEqual(paths.filter((p) => p.startsWith('/dashboard')), [])
    })

    test('sign-out clears the session and makes the next Basic request challenge once', async () => {
      const { cookie, csrf } = await login(f.url)
      const out = await fetch(`${f.url}/dashboard/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } })
      assert.equal(out.status, 200)
      const cookies = out.headers.getSetCookie()
      assert.ok(cookies.some((c) => /^folio_dashboard=;.*Max-Age=0/.test(c)), cookies.join(' | '))
      const marker = cookies.find((c) => c.startsWith('folio_dashboard_signed_out='))!.split(';')[0]!
      const again = await request(`${f.url}/dashboard/`, { headers: { ...basic(USER, PASSWORD), cookie: marker } })
      assertError(again, 401, 'unauthorized')
      assert.equal((await fetch(`${f.url}/dashboard/`, { headers: basic(USER, PASSWORD) })).status, 200)
    })
  })

  describe(`dashboard login rate limit (${db})`, () => {
    let f: TestFolio
    before(async () => {
      f = await startFolio({ db, env: { ...DASHBOARD_ENV, TRUSTED_PROXIES: '127.0.0.1' } })
    })
    after(() => f.destroy())

    test('after DASHBOARD_RATE_LIMITING_MAX_REQUESTS failures an address gets 429, even with the right password; others do not', async () => {
      const from = (ip: string) => ({ 'x-forwarded-for': ip })
      for (let i = 0; i < 3; i++) {
        assertError(await request(`${f.url}/dashboard/`, { headers: { ...basic(USER, `wrong-${i}`), ...from('203.0.113.9') } }), 401, 'unauthorized')
      }
      const blocked = await request(`${f.url}/dashboard/`, { headers: { ...basic(USER, PASSWORD), ...from('203.0.113.9') } })
      assertError(blocked, 429, 'too_many_requests')
      assert.ok(Number(blocked.headers.get('retry-after')) > 0)
      // Requests without credentials are not attempts, and other addresses are not affected.
      assertError(await request(`${f.url}/dashboard/`, { headers: from('203.0.113.10') }), 401, 'unauthorized')
      assert.equal((await fetch(`${f.url}/dashboard/`, { headers: { ...basic(USER, PASSWORD), ...from('203.0.113.10') } })).status, 200)
    })

    test('behind a trusted HTTPS proxy the session cookie is Secure', async () => {
      const { setCookie } = await login(f.url, { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.4' })
      assert.match(setCookie, /; Secure/)
    })

    test('no response or log line contains the dashboard password', async () => {
      await login(f.url, { 'x-forwarded-for': '198.51.100.5' })
      const encoded = Buffer.from(`${USER}:${PASSWORD}`).toString('base64')
      for (const line of f.logs) {
        assert.ok(!line.includes(PASSWORD) && !line.includes(encoded), line)
      }
    })
  })
}
