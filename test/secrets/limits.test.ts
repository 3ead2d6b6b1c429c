/**
 * Rules on secrets' lifetimes and numbers: impossible dates are refused (not shifted), a
 * non-current secret lives at most SECRETS_MAX_LIFETIME, a type holds at most
 * SECRETS_MAX_VALID_PER_TYPE valid secrets, a reload re-parses only new keys, and a start that
 * revives an expired secret from the environment says so in the log.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { SecretsView } from '../../src/secrets/cache.js'
import type { SecretRow } from '../../src/secrets/store.js'
import { assertError, request } from '../helpers/http.js'
import { ecPair } from '../helpers/secret-fixtures.js'
import { authHeader, startFolio, TEST_API_TOKEN, type TestFolio } from '../helpers/start-folio.js'

const TOKEN_2 = 'second-api-token-0123456789abcdef0123456789'
const tokenN = (n: number) => `limit-test-api-token-${String(n).padStart(4, '0')}-0123456789abcdef`
const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString()

test('a reloaded view reuses the parsed keys of unchanged jwt secrets: a change costs only the new keys', () => {
  const row = (id: number): SecretRow => ({
    id, type: 'jwt', material: ecPair().publicPem, algorithm: 'ES256', fingerprint: `fp-${id}`,
    is_current: id === 1, expires_at: id === 1 ? null : new Date(Date.now() + 3600_000), created_at: new Date(),
  })
  const rows = [row(1), row(2)]
  const first = new SecretsView(rows)
  const second = new SecretsView([...rows, row(3)], first)
  const keyOf = (v: SecretsView, id: string) => v.jwt.at(Date.now()).find((k) => k.id === id)!
  assert.equal(keyOf(second, '1'), keyOf(first, '1'), 'same object, not parsed again')
  assert.equal(keyOf(second, '2'), keyOf(first, '2'))
  assert.ok(keyOf(second, '3'))
})

describe('secret lifetimes and counts', () => {
  let f: TestFolio
  const call = (method: string, path: string, json?: unknown) => request(`${f.url}/api${path}`, { method, headers: authHeader(), json })

  before(async () => {
    f = await startFolio({ env: { SECRETS_MAX_LIFETIME: String(30 * 86_400), SECRETS_MAX_VALID_PER_TYPE: '3' } })
  })
  after(async () => {
    await f.destroy()
  })

  test('an impossible calendar date or time is refused as format, not shifted to another day', async () => {
    for (const expiresAt of ['2030-02-30T00:00:00Z', '2031-02-29T12:00:00Z', '2030-13-01T00:00:00Z', '2030-01-01T24:00:00Z', '2030-01-01T12:60:00Z', '2030-01-01T12:00:61Z', '2030-01-01T12:00:00+25:00']) {
      const res = await call('POST', '/secrets/api_auth_token', { secret: TOKEN_2, expiresAt })
      assertError(res, 400, 'invalid_expires_at')
      assert.equal(res.body.error.reason, 'format', expiresAt)
    }
  })

  test('a non-current secret may not outlive SECRETS_MAX_LIFETIME: add, expiry change and rotation', async () => {
    const far = await call('POST', '/secrets/api_auth_token', { secret: TOKEN_2, expiresAt: '9999-12-31T00:00:00Z' })
    assertError(far, 400, 'invalid_expires_at')
    assert.equal(far.body.error.reason, 'too_far')
    assert.equal(typeof far.body.error.latest, 'string')
    const ok = await call('POST', '/secrets/api_auth_token', { secret: TOKEN_2, expiresAt: inDays(29) })
    assert.equal(ok.status, 200, ok.text)
    const patch = await call('PATCH', `/secrets/api_auth_token/${ok.body.data.id}`, { expiresAt: inDays(31) })
    assertError(patch, 400, 'invalid_expires_at')
    assert.equal(patch.body.error.reason, 'too_far')
    const rotate = await call('POST', '/secrets/secret_key_base/rotate', { secret: 's'.repeat(80), previousExpiresAt: inDays(365) })
    assertError(rotate, 400, 'invalid_expires_at')
    assert.equal(rotate.body.error.reason, 'too_far')
    // Cleanup for the count test below.
    assert.equal((await call('PATCH', `/secrets/api_auth_token/${ok.body.data.id}`, { expiresAt: 'now' })).status, 200)
  })

  test('a type holds at most SECRETS_MAX_VALID_PER_TYPE valid secrets: one more is 409 too_many_secrets', async () => {
    for (const n of [1, 2]) assert.equal((await call('POST', '/secrets/api_auth_token', { secret: tokenN(n), expiresAt: inDays(1) })).status, 200)
    const third = await call('POST', '/secrets/api_auth_token', { secret: tokenN(3), expiresAt: inDays(1) })
    assertError(third, 409, 'too_many_secrets')
    assert.equal(third.body.error.limit, 3)
    assertError(await call('POST', '/secrets/api_auth_token/rotate', { secret: tokenN(4) }), 409, 'too_many_secrets')
    const listed = await call('GET', '/secrets/api_auth_token')
    assert.equal(listed.body.length, 3, listed.text)
  })
})

test('a start whose env secret was expired through the API logs a warning naming the variable', async () => {
  let f = await startFolio()
  try {
    const res = await request(`${f.url}/api/secrets/api_auth_token/rotate`, {
      method: 'POST', headers: authHeader(), json: { secret: TOKEN_2, previousExpiresAt: 'now' },
    })
    assert.equal(res.status, 200, res.text)
    assert.equal((await request(`${f.url}/api/documents`, { headers: authHeader(TEST_API_TOKEN) })).status, 401, 'cut')
    f = await f.restart() // API_AUTH_TOKEN is still TEST_API_TOKEN
    const warn = f.logs.map((l) => JSON.parse(l)).find((l) => l.level === 'warn' && l.variable === 'API_AUTH_TOKEN')
    assert.ok(warn, f.logs.join('\n'))
    assert.equal(warn.type, 'api_auth_token')
    assert.ok(!JSON.stringify(warn).includes(TEST_API_TOKEN), 'the secret itself is not logged')
  } finally {
    await f.destroy()
  }
})
