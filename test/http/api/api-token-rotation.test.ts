/**
 * Zero-downtime rotation of the API token (issue #4, "How it is checked"): under continuous
 * client load, rotate the token, move the clients over, expire the old one; not one request
 * that should succeed fails. On one node (both databases) and across two nodes (PostgreSQL),
 * where clients move over once the rotation has had its propagation second (docs/secrets.md).
 * The JWT half of this test waits for the JWT verifier (issue #3).
 */
import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { assertError, request } from '../../helpers/http.js'
import { authHeader, createStorage, dbKinds, startFolio, TEST_API_TOKEN, type TestFolio } from '../../helpers/start-folio.js'

const NEW_TOKEN = 'rotated-api-token-0123456789abcdef0123456789abcdef'
const CLIENTS = 4

interface Load {
  sent: number
  failures: string[]
  stop(): Promise<void>
}

/** `clients` loops, each sending the token `tokenFor()` returns at send time, to the nodes in turn. */
function startLoad(urls: string[], tokenFor: () => string, clients = CLIENTS): Load {
  let running = true
  const load: Load = { sent: 0, failures: [], stop: async () => { running = false; await Promise.all(loops) } }
  const loops = Array.from({ length: clients }, async (_, c) => {
    for (let i = c; running; i++) {
      const url = urls[i % urls.length]!
      const token = tokenFor()
      const res = await request(`${url}/api/documents?page_size=1`, { headers: authHeader(token) })
      load.sent++
      if (res.status !== 200) load.failures.push(`${res.status} ${token === TEST_API_TOKEN ? 'old' : 'new'} token at ${url}: ${res.text}`)
    }
  })
  return load
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function rotateUnderLoad(t: TestContext, rotateOn: TestFolio, urls: string[], switchAfterMs: number) {
  let token = TEST_API_TOKEN
  const main = startLoad(urls, () => token)
  // A laggard client keeps the old token until just before the old one is expired.
  const laggard = startLoad(urls, () => TEST_API_TOKEN, 1)
  try {
    await sleep(300)
    const before = main.sent
    const res = await request(`${rotateOn.url}/api/secrets/api_auth_token/rotate`, { method: 'POST', headers: authHeader(TEST_API_TOKEN), json: { secret: NEW_TOKEN } })
    assert.equal(res.status, 200, res.text)
    await sleep(switchAfterMs)
    token = NEW_TOKEN
    await sleep(300)
    await laggard.stop()
    const expire = await request(`${rotateOn.url}/api/secrets/api_auth_token/${res.body.data.previous.id}`, { method: 'PATCH', headers: authHeader(NEW_TOKEN), json: { expiresAt: 'now' } })
    assert.equal(expire.status, 200, expire.text)
    await sleep(300)
    await main.stop()
    t.diagnostic(`${main.sent + laggard.sent} requests (${main.sent - before} after the rotation), ${main.failures.length + laggard.failures.length} failed`)
    assert.ok(main.sent - before > 10, 'the load ran through the rotation')
    assert.deepEqual([...main.failures, ...laggard.failures], [], 'no request that should succeed failed')
  } finally {
    await main.stop()
    await laggard.stop()
  }
  await sleep(switchAfterMs)
  for (const url of urls) assertError(await request(`${url}/api/documents`, { headers: authHeader(TEST_API_TOKEN) }), 401, 'unauthorized')
}

for (const db of dbKinds()) {
  describe(`API token rotation under load (${db})`, () => {
    test('rotating the API token under continuous load fails no request; the expired token is then refused', async (t) => {
      const f = await startFolio({ db })
      try {
        await rotateUnderLoad(t, f, [f.url], 0)
      } finally {
        await f.destroy()
      }
    })
  })
}

describe('API token rotation under load across two nodes (postgres)', { skip: !dbKinds().includes('postgres') && 'no PostgreSQL in this run' }, () => {
  test('rotating on node A while clients use A and B fails no request when clients move over after the propagation second', async (t) => {
    const storage = await createStorage('postgres')
    const a = await startFolio({ storage })
    const b = await startFolio({ storage })
    try {
      await rotateUnderLoad(t, a, [a.url, b.url], 1000)
    } finally {
      await b.close()
      await a.close()
      await storage.drop()
    }
  })
})
