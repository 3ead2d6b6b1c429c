/**
 * ALLOWED_ORIGINS on the client surfaces (spec §1, §7): listed origins get CORS headers,
 * preflights included; any other Origin is 403 origin_not_allowed and gets none. Unset: any origin.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createOriginPolicy, normalizeOrigin } from '../../../src/auth/origin.js'
import { assertError, request } from '../../helpers/http.js'
import { assertNoTokenInLogs, claimsFor, keyPair, signToken } from '../../helpers/jwt.js'
import { makePdf } from '../../helpers/pdf-fixtures.js'
import { authHeader, startFolio, type TestFolio } from '../../helpers/start-folio.js'

const DOC = 'origin-doc'
const APP = 'https://app.example.com'

test('origins are compared as browsers serialise them; "null" and other schemes never match', () => {
  assert.equal(normalizeOrigin('HTTPS://App.Example.com:443'), APP)
  assert.equal(normalizeOrigin('http://localhost:3000'), 'http://localhost:3000')
  assert.equal(normalizeOrigin('null'), undefined)
  assert.equal(normalizeOrigin('file:///etc'), undefined)
  const p = createOriginPolicy(['https://APP.example.com'])
  assert.deepEqual(p.check(APP, 'http://folio:5000'), { allowed: true, allowOrigin: APP })
  assert.deepEqual(p.check('https://app.example.com.evil.net', 'http://folio:5000'), { allowed: false })
  assert.deepEqual(p.check('null', 'http://folio:5000'), { allowed: false })
  assert.deepEqual(p.check('http://folio:5000', 'http://folio:5000'), { allowed: true, allowOrigin: 'http://folio:5000' }, 'same origin')
  assert.deepEqual(p.check(undefined, 'http://folio:5000'), { allowed: true })
  assert.deepEqual(createOriginPolicy(undefined).check('https://anyone.example', 'http://folio:5000'), { allowed: true, allowOrigin: '*' })
})

async function withDocument(env: Record<string, string>): Promise<TestFolio> {
  const f = await startFolio({ env: { JWT_PUBLIC_KEY: keyPair('ES256').publicPem, JWT_ALGORITHM: 'ES256', ...env } })
  const res = await request(`${f.url}/api/documents?document_id=${DOC}`, {
    method: 'POST',
    headers: { ...authHeader(), 'content-type': 'application/pdf' },
    body: makePdf({ pages: [{ width: 100, height: 100 }] }),
  })
  assert.equal(res.status, 200, res.text)
  return f
}

describe('ALLOWED_ORIGINS set', () => {
  let f: TestFolio
  let token: string
  before(async () => {
    f = await withDocument({ ALLOWED_ORIGINS: `${APP},http://localhost:3000` })
    token = await signToken(claimsFor(DOC, ['read-document']), keyPair('ES256'))
  })
  after(async () => {
    await f.destroy()
  })
  const info = () => `${f.url}/documents/${DOC}/document_info`

  test('a listed Origin gets its own origin back in CORS headers, with Vary: Origin', async () => {
    for (const path of [`/documents/${DOC}/document_info`, `/i/d/${DOC}/document_info`]) {
      const res = await request(`${f.url}${path}`, { headers: { origin: APP, authorization: `Bearer ${token}` } })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('access-control-allow-origin'), APP)
      assert.match(res.headers.get('vary') ?? '', /Origin/)
      assert.match(res.headers.get('access-control-expose-headers') ?? '', /ETag/)
      assert.equal(res.headers.get('access-control-allow-credentials'), null, 'no credentialed CORS')
    }
  })

  test('any other Origin is 403 origin_not_allowed with no CORS header, even with a valid token', async () => {
    for (const origin of ['https://evil.example', 'https://app.example.com.evil.net', 'http://app.example.com', 'null']) {
      const res = await request(info(), { headers: { origin, authorization: `Bearer ${token}` } })
      assertError(res, 403, 'origin_not_allowed')
      assert.equal(res.headers.get('access-control-allow-origin'), null)
    }
  })

  test('preflight: a listed origin gets methods and headers (no token needed); another origin 403', async () => {
    const ok = await fetch(info(), { method: 'OPTIONS', headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } })
    assert.equal(ok.status, 204)
    assert.equal(ok.headers.get('access-control-allow-origin'), 'http://localhost:3000')
    assert.match(ok.headers.get('access-control-allow-headers') ?? '', /Authorization/)
    assert.match(ok.headers.get('access-control-allow-methods') ?? '', /GET/)
    const bad = await request(info(), { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } })
    assertError(bad, 403, 'origin_not_allowed')
  })

  test('a refusal to a listed origin carries CORS headers, so the app can read the reason', async () => {
    const res = await request(info(), { headers: { origin: APP } })
    assertError(res, 401, 'invalid_token')
    assert.equal(res.headers.get('access-control-allow-origin'), APP)
  })

  test('without Origin (a backend, curl) and from Folio itself, the JWT alone decides', async () => {
    assert.equal((await request(info(), { headers: { authorization: `Bearer ${token}` } })).status, 200)
    assert.equal((await request(info(), { headers: { origin: f.url, authorization: `Bearer ${token}` } })).status, 200)
  })

  test('/api is not subject to ALLOWED_ORIGINS (it is not a browser surface)', async () => {
    const res = await request(`${f.url}/api/documents/${DOC}/document_info`, { headers: { ...authHeader(), origin: 'https://evil.example' } })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('access-control-allow-origin'), null)
    assertNoTokenInLogs(f.logs)
  })
})

describe('ALLOWED_ORIGINS unset', () => {
  let f: TestFolio
  before(async () => {
    f = await withDocument({})
  })
  after(async () => {
    await f.destroy()
  })

  test('any Origin may call the client surfaces: Access-Control-Allow-Origin: *', async () => {
    const token = await signToken(claimsFor(DOC, ['read-document']), keyPair('ES256'))
    const res = await request(`${f.url}/i/d/${DOC}/document_info`, { headers: { origin: 'https://anyone.example', authorization: `Bearer ${token}` } })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('access-control-allow-origin'), '*')
    const pre = await fetch(`${f.url}/i/d/${DOC}/document_info`, { method: 'OPTIONS', headers: { origin: 'https://anyone.example', 'access-control-request-method': 'GET' } })
    assert.equal(pre.status, 204)
  })
})
