/** Rules of the dashboard credential pieces (src/auth/dashboard.ts), with an injected clock. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  createSecretCredentials,
  csrfMatches,
  LoginRateLimiter,
  newSession,
  parseBasicAuth,
  readSession,
  SESSION_TTL_MS,
} from '../../src/auth/dashboard.js'
import { createSigner } from '../../src/secrets/signer.js'

const KEY_BASE = 'k'.repeat(64)
/** The secrets service's signer over one secret_key_base (secret ids are unique per material). */
const signerFor = (material: string, purpose: string, id = 1) => {
  const key = { id, material }
  return createSigner(purpose, { current: () => key, valid: () => [key] })
}

describe('dashboard credentials', () => {
  test('Basic credentials parse per RFC 7617; passwords may contain colons; other schemes are not Basic', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64')
    assert.deepEqual(parseBasicAuth(`Basic ${b64('ann:pa:ss')}`), { username: 'ann', password: 'pa:ss' })
    assert.deepEqual(parseBasicAuth(`basic ${b64('ann:')}`), { username: 'ann', password: '' })
    assert.equal(parseBasicAuth(`Basic ${b64('no-colon')}`), undefined)
    assert.equal(parseBasicAuth('Bearer abc'), undefined)
    assert.equal(parseBasicAuth('Token token="x"'), undefined)
    assert.equal(parseBasicAuth(undefined), undefined)
    assert.equal(parseBasicAuth(`Basic ${'A'.repeat(5000)}`), undefined)
  })

  test('a signed session verifies only unaltered, with the same key, and only before it expires', () => {
    const signer = signerFor(KEY_BASE, 'dashboard-session')
    const now = Date.UTC(2026, 0, 1)
    const s = newSession('ann', 'cred', now)
    assert.equal(s.e, now + SESSION_TTL_MS)
    const cookie = signer.sign(JSON.stringify(s))
    assert.deepEqual(readSession(signer, cookie, now + 1000), s)
    assert.equal(readSession(signer, cookie, s.e), undefined, 'expired')
    const [v, id, mac] = cookie.split('.')
    const other = Buffer.from(JSON.stringify({ ...s, u: 'mallory' })).toString('base64url')
    assert.equal(readSession(signer, `${other}.${id}.${mac}`, now), undefined, 'altered value')
    assert.equal(readSession(signer, `${v}.${id}.${'A'.repeat(43)}`, now), undefined, 'wrong mac')
    assert.equal(readSession(signerFor('j'.repeat(64), 'dashboard-session', 2), cookie, now), undefined, 'other key')
    assert.equal(readSession(signerFor(KEY_BASE, 'other-purpose'), cookie, now), undefined, 'other purpose')
    assert.equal(readSession(signer, `${Buffer.from('not json').toString('base64url')}.x`, now), undefined)
  })

  test('the CSRF token must match the session exactly', () => {
    const s = newSession('ann', 'cred', 0)
    assert.equal(csrfMatches(s, s.x), true)
    assert.equal(csrfMatches(s, s.x + 'x'), false)
    assert.equal(csrfMatches(s, undefined), false)
    assert.equal(csrfMatches(s, ''), false)
  })
})

describe('dashboard credentials from runtime secrets', () => {
  test('any valid dashboard_password opens it for the username; the session lives while that password is valid', async () => {
    let valid = [7, 9]
    const hashes: Record<number, string> = { 7: 'old-password', 9: 'new-password' }
    const secrets = {
      hasDashboardPassword: () => valid.length > 0,
      verifyDashboardPassword: async (p: string) => {
        const id = valid.find((i) => hashes[i] === p)
        return id === undefined ? undefined : { secretId: id }
      },
      validDashboardPasswordIds: () => valid,
    }
    const c = createSecretCredentials('ann', secrets)
    assert.equal(c.enabled(), true)
    assert.equal(await c.verify('ann', 'old-password'), '7')
    assert.equal(await c.verify('ann', 'new-password'), '9')
    assert.equal(await c.verify('bob', 'new-password'), undefined)
    assert.equal(await c.verify('ann', 'nope'), undefined)
    assert.equal(c.stillValid('ann', '7'), true)
    valid = [9] // the old password expired
    assert.equal(c.stillValid('ann', '7'), false)
    assert.equal(c.stillValid('ann', '9'), true)
    valid = []
    assert.equal(c.enabled(), false)
    assert.equal(createSecretCredentials(undefined, secrets).enabled(), false)
  })
})

describe('login rate limiter', () => {
  test('blocks an address after max failures until the window ends; success and other addresses are separate', () => {
    const l = new LoginRateLimiter(3, 60_000)
    const t0 = 1_000_000
    for (let i = 0; i < 3; i++) {
      assert.equal(l.retryAfter('a', t0 + i), 0)
      l.fail('a', t0 + i)
    }
    assert.equal(l.retryAfter('a', t0 + 10), 60_000 - 10)
    assert.equal(l.retryAfter('b', t0 + 10), 0)
    assert.equal(l.retryAfter('a', t0 + 60_000), 0, 'a new window')
    l.fail('b', t0)
    l.succeed('b')
    l.fail('b', t0)
    l.fail('b', t0)
    assert.equal(l.retryAfter('b', t0), 0, 'a success starts the count again')
  })

  test('the table stays bounded under many addresses', () => {
    const l = new LoginRateLimiter(1, 60_000, 100)
    for (let i = 0; i < 1000; i++) l.fail(`10.0.${i >> 8}.${i & 255}`, 5)
    assert.equal(l.retryAfter('10.0.3.231', 6) > 0, true, 'the newest is kept')
    assert.equal(l.retryAfter('10.0.0.0', 6), 0, 'the oldest were dropped')
  })
})
