/**
 * Dashboard logins under load and sign-out in a cluster: attempts are counted before the
 * password is checked, one check per client address and DASHBOARD_LOGIN_CONCURRENCY in all run
 * at once (the rest are 429), /healthcheck stays responsive during a login flood, and signing out
 * on one node ends the session on every node (two nodes on PostgreSQL).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { assertError, request } from '../../helpers/http.js'
import { createStorage, dbKinds, startFolio, type Storage, type TestFolio } from '../../helpers/start-folio.js'

const USER = 'operator'
const PASSWORD = 'correct horse battery'
const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` })
const DASHBOARD_ENV = { DASHBOARD_USERNAME: USER, DASHBOARD_PASSWORD: PASSWORD, DASHBOARD_RATE_LIMITING_MAX_REQUESTS: '5', TRUSTED_PROXIES: '127.0.0.1' }

async function login(url: string, headers: Record<string, string> = {}) {
  const res = await request(`${url}/dashboard/session`, { headers: { ...basic(USER, PASSWORD), ...headers } })
  assert.equal(res.status, 200, res.text)
  return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: res.body.data.csrfToken as string }
}

describe('dashboard login limits', () => {
  let f: TestFolio
  before(async () => {
    f = await startFolio({ env: { ...DASHBOARD_ENV, DASHBOARD_LOGIN_CONCURRENCY: '2' } })
  })
  after(() => f.destroy())

  test('100 parallel wrong logins from one address: at most DASHBOARD_RATE_LIMITING_MAX_REQUESTS are checked, the rest get 429', async () => {
    const from = { 'x-forwarded-for': '203.0.113.50' }
    const all = await Promise.all(Array.from({ length: 100 }, (_, i) =>
      request(`${f.url}/dashboard/session`, { headers: { ...basic(USER, `wrong-${i}`), ...from } })))
    const checked = all.filter((r) => r.status === 401).length
    const refused = all.filter((r) => r.status === 429)
    assert.ok(checked >= 1 && checked <= 5, `${checked} passwords were checked`)
    assert.equal(checked + refused.length, 100, all.map((r) => r.status).join(','))
    for (const r of refused) assertError(r, 429, 'too_many_requests')
    // Then one at a time: the checks in total stay within the limit, and then even the right password is 429.
    let later = 0
    for (let i = 0; i < 10; i++) {
      if ((await request(`${f.url}/dashboard/session`, { headers: { ...basic(USER, `again-${i}`), ...from } })).status === 401) later++
    }
    assert.ok(checked + later <= 5, `${checked} + ${later} passwords were checked`)
    assertError(await request(`${f.url}/dashboard/session`, { headers: { ...basic(USER, PASSWORD), ...from } }), 429, 'too_many_requests')
  })

  test('a flood of logins from many addresses runs at most DASHBOARD_LOGIN_CONCURRENCY checks; /healthcheck answers within 2 s meanwhile', async () => {
    const flood = Promise.all(Array.from({ length: 60 }, (_, i) =>
      request(`${f.url}/dashboard/session`, { headers: { ...basic(USER, `wrong-${i}`), 'x-forwarded-for': `198.51.100.${i + 1}` } })))
    await new Promise((r) => setTimeout(r, 20))
    const t0 = performance.now()
    const health = await request(`${f.url}/healthcheck`)
    const healthMs = performance.now() - t0
    const all = await flood
    assert.equal(health.status, 200)
    assert.ok(healthMs < 2000, `/healthcheck took ${Math.round(healthMs)} ms during the flood`)
    const statuses = all.map((r) => r.status)
    assert.ok(statuses.every((s) => s === 401 || s === 429), statuses.join(','))
    assert.ok(statuses.filter((s) => s === 429).length > 0, 'some logins found no room')
    for (const r of all.filter((x) => x.status === 429)) assertError(r, 429, 'too_many_requests')
  })
})

describe('sign-out on two nodes on one PostgreSQL', { skip: !dbKinds().includes('postgres') && 'no PostgreSQL in this run' }, () => {
  let storage: Storage
  let a: TestFolio
  let b: TestFolio
  before(async () => {
    storage = await createStorage('postgres')
    a = await startFolio({ storage, env: DASHBOARD_ENV })
    b = await startFolio({ storage, env: DASHBOARD_ENV, ownDataDir: true })
  })
  after(async () => {
    await b.close()
    await a.destroy()
  })

  test('after sign-out on node A the old session cookie opens the dashboard on neither node', async () => {
    const { cookie, csrf } = await login(a.url)
    const session = (url: string) => request(`${url}/dashboard/session`, { headers: { cookie } })
    assert.equal((await session(b.url)).status, 200, 'one session for the cluster')
    const out = await request(`${a.url}/dashboard/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } })
    assert.equal(out.status, 200, out.text)
    assertError(await session(a.url), 401, 'unauthorized')
    assertError(await session(b.url), 401, 'unauthorized')
    // A new login makes a new session, which works.
    const fresh = await login(b.url)
    assert.equal((await request(`${a.url}/dashboard/session`, { headers: { cookie: fresh.cookie } })).status, 200)
  })
})
