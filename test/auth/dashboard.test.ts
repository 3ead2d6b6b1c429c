/** Rules of the dashboard credential pieces (src/auth/dashboard.ts), with an injected clock. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  createConfigCredentials,
  createSecretCredentials,
  createHmacSigner,
  csrfMatches,
  LoginRateLimiter,
  newSession,
  parseBasicAuth,
  readSession,
  serverKeyFrom,
  SESSION_TTL_MS,
} from '../../src/auth/dashboard.js'

const KEY_BASE = 'k'.repeat(64)

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

  test('the configured username and password verify; anything else does not; unset means off', async () => {
    const key = serverKeyFrom(KEY_BASE)
    const c = createConfigCredentials({ username: 'ann', password: 'secret-pass' }, key)
    assert.equal(c.enabled(), true)
    const id = await c.verify('ann', 'secret-pass')
    assert.equal(typeof id, 'string')
    assert.ok(!id!.includes('secret-pass'))
    assert.equal(await c.verify('ann', 'secret-pas'), undefined)
    assert.equal(await c.verify('Ann', 'secret-pass'), undefined)
    assert.equal(c.stillValid('ann', id!), true)
    assert.equal(c.stillValid('bob', id!), false)
    // A changed password ends the sessions made with the old one.
    const changed = createConfigCredentials({ username: 'ann', password: 'other-pass' }, key)
    assert.equal(changed.stillValid('ann', id!), false)
    for (const off of [{}, { username: 'ann' }, { password: 'secret-pass' }]) {
      const o = createConfigCredentials(off, key)
      assert.equal(o.enabled(), false)
      assert.equal(await o.verify('ann', 'secret-pass'), undefined)
    }
  })

  test('a signed session verifies only unaltered, with the same key, and only before it expires', () => {
    const signer = createHmacSigner(serverKeyFrom(KEY_BASE), 'dashboard-session')
    const now = Date.UTC(2026, 0, 1)
    const s = newSession('ann', 'cred', now)
    assert.equal(s.e, now + SESSION_TTL_MS)
    const cookie = signer.sign(JSON.stringify(s))
    assert.deepEqual(readSession(signer, cookie, now + 1000), s)
    assert.equal(readSession(signer, cookie, s.e), undefined, 'expired')
    const [v, mac] = cookie.split('.')
    const other = Buffer.from(JSON.stringify({ ...s, u: 'mallory' })).toString('base64url')
    assert.equal(readSession(signer, `${other}.${mac}`, now), undefined, 'altered value')
    assert.equal(readSession(signer, `${v}.${'A'.repeat(43)}`, now), undefined, 'wrong mac')
    assert.equal(readSession(createHmacSigner(serverKeyFrom('j'.repeat(64)), 'dashboard-session'), cookie, now), undefined, 'other key')
    assert.equal(readSession(createHmacSigner(serverKeyFrom(KEY_BASE), 'other-purpose'), cookie, now), undefined, 'other purpose')
    assert.equal(readSession(signer, `${Buffer.from('not json').toString('base64url')}.x`, now), undefined)
  })

  test('without SECRET_KEY_BASE each process gets its own random key', () => {
    assert.notDeepEqual(serverKeyFrom(undefined), serverKeyFrom(undefined))
    assert.deepEqual(serverKeyFrom(KEY_BASE), serverKeyFrom(KEY_BASE))
  })

  test('the CSRF token must match the session exactly', () => {
    const s = newSession('ann', 'cred', 0)
    assert.equal(csrfMatches(s, s.x), true)
    assert.equal(csrfMatches(s, s.x + 'x'), false)
    assert.equal(csrfMatches(s, undefined), false)
    assert.equal(csrfMatches(s, ''), false)
  })
})

describe('dashboard credentials from runtime secrets (issue #4 adapter)', () => {
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
