/**
 * Secrets over the server API (spec §4), against a real Folio on both databases: every rule of
 * the section, and that no response, log line or stored row gives a secret away.
 */
import assert from 'node:assert/strict'
import { verify } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { assertError, request, type JsonResponse } from '../../helpers/http.js'
import { ecPair, ed25519Pair, privatePem, rsaPair, signJwt, waitFor } from '../../helpers/secret-fixtures.js'
import { authHeader, dbKinds, startFolio, TEST_API_TOKEN, type TestFolio } from '../../helpers/start-folio.js'

const inOneHour = () => new Date(Date.now() + 3600_000).toISOString()
const TOKEN_2 = 'second-api-token-0123456789abcdef0123456789'
const TOKEN_3 = 'third-api-token-0123456789abcdef0123456789ab'
const SKB_2 = 'k'.repeat(32) + 'secret-key-base-two-0123456789abcdef'
const PASSWORD = 'correct horse battery staple'
const rsa = rsaPair()
const p256 = ecPair('P-256')
const ed = ed25519Pair()

for (const db of dbKinds()) {
  describe(`secrets over the server API (${db})`, () => {
    let f: TestFolio
    let token = TEST_API_TOKEN
    const used: string[] = [TEST_API_TOKEN, TOKEN_2, TOKEN_3, SKB_2, PASSWORD]
    const call = (method: string, path: string, json?: unknown, as = token): Promise<JsonResponse> =>
      request(`${f.url}/api${path}`, { method, headers: authHeader(as), json })
    const noSecretIn = (res: JsonResponse) => {
      for (const s of used) assert.ok(!res.text.includes(s), `response has no secret: ${res.text.slice(0, 200)}`)
    }

    before(async () => {
      f = await startFolio({ db })
    })
    after(async () => {
      await f.destroy()
    })

    test('an unknown type is 404 unknown_secret_type on every secrets route', async () => {
      for (const [method, path, body] of [
        ['GET', '/secrets/bogus', undefined],
        ['POST', '/secrets/bogus', { secret: 'x'.repeat(40), expiresAt: inOneHour() }],
        ['POST', '/secrets/bogus/rotate', { secret: 'x'.repeat(40) }],
        ['PATCH', '/secrets/bogus/1', { expiresAt: 'now' }],
        ['POST', '/secrets/bogus/1', { expiresAt: 'now' }],
      ] as const) {
        assertError(await call(method, path, body), 404, 'unknown_secret_type')
      }
    })

    test('after the first start the API token and secret_key_base each have one current secret; jwt and dashboard_password none', async () => {
      for (const type of ['api_auth_token', 'secret_key_base']) {
        const res = await call('GET', `/secrets/${type}`)
        assert.equal(res.status, 200, res.text)
        assert.equal(res.body.length, 1)
        assert.deepEqual(Object.keys(res.body[0]).sort(), ['expiresAt', 'id'])
        assert.equal(res.body[0].expiresAt, null)
      }
      for (const type of ['jwt', 'dashboard_password']) assert.deepEqual((await call('GET', `/secrets/${type}`)).body, [])
    })

    test('each rule refuses with its code, and no refusal echoes the secret', async () => {
      const past = new Date(Date.now() - 1000).toISOString()
      const cases: Array<[string, Record<string, unknown>, number, string, string?]> = [
        ['api_auth_token', { secret: TOKEN_2 }, 400, 'invalid_expires_at', 'missing'],
        ['api_auth_token', { secret: TOKEN_2, expiresAt: past }, 400, 'invalid_expires_at', 'past'],
        ['api_auth_token', { secret: TOKEN_2, expiresAt: 'tomorrow' }, 400, 'invalid_expires_at', 'format'],
        ['api_auth_token', { secret: TOKEN_2, expiresAt: 'now' }, 400, 'invalid_expires_at', 'format'],
        ['api_auth_token', { secret: TOKEN_2, expiresAt: '2030-01-01T12:00:00' }, 400, 'invalid_expires_at', 'format'],
        ['api_auth_token', { expiresAt: inOneHour() }, 400, 'bad_request'],
        ['api_auth_token', { secret: TOKEN_2, expiresAt: inOneHour(), extra: 1 }, 400, 'bad_request'],
        ['api_auth_token', { secret: 'short-token-31-characters-long!', expiresAt: inOneHour() }, 422, 'secret_too_short'],
        ['api_auth_token', { secret: `${TOKEN_2} with spaces`, expiresAt: inOneHour() }, 422, 'secret_invalid_characters'],
        ['api_auth_token', { secret: `${TOKEN_2}"`, expiresAt: inOneHour() }, 422, 'secret_invalid_characters'],
        ['api_auth_token', { secret: TOKEN_2, expiresAt: inOneHour(), algorithm: 'RS256' }, 400, 'bad_request'],
        ['secret_key_base', { secret: 'k'.repeat(63), expiresAt: inOneHour() }, 422, 'secret_too_short'],
        ['dashboard_password', { secret: 'seven77', expiresAt: inOneHour() }, 422, 'secret_too_short'],
        ['dashboard_password', { secret: 'Password123', expiresAt: inOneHour() }, 422, 'common_password'],
        ['jwt', { secret: 'not a key at all', expiresAt: inOneHour() }, 422, 'invalid_jwt_key', 'not_pem_public_key'],
        ['jwt', { secret: privatePem(rsa), expiresAt: inOneHour() }, 422, 'invalid_jwt_key', 'private_key'],
        ['jwt', { secret: rsa.publicPem, expiresAt: inOneHour(), algorithm: 'ES256' }, 422, 'algorithm_key_mismatch'],
        ['jwt', { secret: p256.publicPem, expiresAt: inOneHour(), algorithm: 'ES512' }, 422, 'algorithm_key_mismatch'],
        ['jwt', { secret: rsa.publicPem, expiresAt: inOneHour(), algorithm: 'HS256' }, 422, 'algorithm_not_allowed'],
        ['jwt', { secret: rsa.publicPem, expiresAt: inOneHour(), algorithm: 'none' }, 422, 'algorithm_not_allowed'],
      ]
      for (const [type, body, status, code, reason] of cases) {
        const res = await call('POST', `/secrets/${type}`, body)
        assertError(res, status, code)
        if (reason) assert.equal(res.body.error.reason, reason, `${type} ${JSON.stringify(body).slice(0, 80)}`)
        noSecretIn(res)
        assert.ok(!res.text.includes('PRIVATE'), 'a private key is never echoed')
      }
      for (const type of ['jwt', 'dashboard_password']) assert.deepEqual((await call('GET', `/secrets/${type}`)).body, [], 'nothing was stored')
    })

    test('an added api_auth_token is accepted at once, alongside the current one, and listed with its expiry', async () => {
      const expiresAt = inOneHour()
      const res = await call('POST', '/secrets/api_auth_token', { secret: TOKEN_2, expiresAt: expiresAt.replace('Z', '000Z') })
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(Object.keys(res.body.data).sort(), ['expiresAt', 'id'])
      assert.equal(res.body.data.expiresAt, expiresAt, 'Document Engine\'s microsecond form is read')
      noSecretIn(res)
      assert.equal((await call('GET', '/documents', undefined, TOKEN_2)).status, 200)
      assert.equal((await call('GET', '/documents', undefined, TEST_API_TOKEN)).status, 200)
      const list = (await call('GET', '/secrets/api_auth_token')).body
      assert.deepEqual(list.map((s: { expiresAt: string | null }) => s.expiresAt), [null, expiresAt])
    })

    test('PATCH and the POST form change a non-current expiry; a past time or "now" expires it at once; the current one cannot be expired', async () => {
      const [current, added] = (await call('GET', '/secrets/api_auth_token')).body
      const later = new Date(Date.now() + 7200_000).toISOString()
      const patched = await call('PATCH', `/secrets/api_auth_token/${added.id}`, { expiresAt: later })
      assert.equal(patched.status, 200, patched.text)
      assert.deepEqual(patched.body.data, { id: added.id, expiresAt: later })
      assertError(await call('PATCH', `/secrets/api_auth_token/${current.id}`, { expiresAt: later }), 400, 'cannot_expire_current')
      assertError(await call('POST', `/secrets/api_auth_token/${current.id}`, { expiresAt: 'now' }), 400, 'cannot_expire_current')
      assertError(await call('PATCH', `/secrets/api_auth_token/${added.id}`, {}), 400, 'invalid_expires_at')
      assertError(await call('PATCH', `/secrets/secret_key_base/${added.id}`, { expiresAt: 'now' }), 404, 'secret_not_found')
      assertError(await call('PATCH', '/secrets/api_auth_token/999999', { expiresAt: 'now' }), 404, 'secret_not_found')
      assertError(await call('PATCH', '/secrets/api_auth_token/abc', { expiresAt: 'now' }), 404, 'secret_not_found')

      const expired = await call('POST', `/secrets/api_auth_token/${added.id}`, { expiresAt: new Date(Date.now() - 60_000).toISOString() })
      assert.equal(expired.status, 200, expired.text)
      assert.ok(Date.parse(expired.body.data.expiresAt) <= Date.now(), 'a past time expires it now')
      assertError(await call('GET', '/documents', undefined, TOKEN_2), 401, 'unauthorized')
      assert.equal((await call('GET', '/secrets/api_auth_token')).body.length, 1, 'listing shows valid secrets only')
      assertError(await call('PATCH', `/secrets/api_auth_token/${added.id}`, { expiresAt: later }), 404, 'secret_not_found')
    })

    test('rotate makes the new secret current; the previous one stays valid for JWT_MAX_LIFETIME by default, and "now" cuts it at once', async () => {
      const rotated = await call('POST', '/secrets/api_auth_token/rotate', { secret: TOKEN_2 })
      assert.equal(rotated.status, 200, rotated.text)
      assert.equal(rotated.body.data.expiresAt, null)
      const previousExpiry = Date.parse(rotated.body.data.previous.expiresAt)
      assert.ok(Math.abs(previousExpiry - (Date.now() + 86_400_000)) < 60_000, 'default: now + JWT_MAX_LIFETIME')
      noSecretIn(rotated)
      assert.equal((await call('GET', '/documents', undefined, TEST_API_TOKEN)).status, 200, 'the previous token still works')
      assert.equal((await call('GET', '/documents', undefined, TOKEN_2)).status, 200, 'the new one works at once')
      token = TOKEN_2

      const cut = await call('POST', '/secrets/api_auth_token/rotate', { secret: TOKEN_3, previousExpiresAt: 'now' })
      assert.equal(cut.status, 200, cut.text)
      token = TOKEN_3
      assertError(await call('GET', '/documents', undefined, TOKEN_2), 401, 'unauthorized')
      assert.equal((await call('GET', '/documents', undefined, TEST_API_TOKEN)).status, 200, 'the first one keeps its own expiry')
      assertError(await call('POST', '/secrets/api_auth_token/rotate', { secret: TOKEN_2, previousExpiresAt: 'soon' }), 400, 'invalid_expires_at')
    })

    test('jwt keys: algorithm given or derived, listed with algorithm and fingerprint, served by the KeyRing current first; onChange fires on rotation and on expiry', async () => {
      let changes = 0
      const stop = f.app.keyRing.onChange(() => changes++)
      try {
        const r1 = await call('POST', '/secrets/jwt/rotate', { secret: rsa.publicPem })
        assert.equal(r1.status, 200, r1.text)
        assert.equal(r1.body.data.algorithm, 'RS256')
        assert.match(r1.body.data.fingerprint, /^[A-Za-z0-9_-]{43}$/)
        assert.equal(r1.body.data.previous, null)
        await waitFor(() => changes >= 1)

        const added = await call('POST', '/secrets/jwt', { secret: p256.publicPem, expiresAt: inOneHour() })
        assert.equal(added.body.data.algorithm, 'ES256')
        const edAdded = await call('POST', '/secrets/jwt', { secret: ed.publicPem, expiresAt: new Date(Date.now() + 400).toISOString(), algorithm: 'EdDSA' })
        assert.equal(edAdded.body.data.algorithm, 'EdDSA')
        const list = (await call('GET', '/secrets/jwt')).body
        assert.deepEqual(list.map((k: { algorithm: string }) => k.algorithm), ['RS256', 'ES256', 'EdDSA'])
        assert.ok(!JSON.stringify(list).includes('BEGIN'), 'never the key itself')

        const keys = f.app.keyRing.validKeys(new Date())
        assert.deepEqual(keys.map((k) => k.algorithm), ['RS256', 'EdDSA', 'ES256'], 'current first, then newest')
        assert.equal(keys[0]!.id, String(r1.body.data.id))
        assert.equal(keys[0]!.fingerprint, r1.body.data.fingerprint)
        // The KeyRing's keys verify what the customer's private key signed.
        const jwt = signJwt({ document_id: 'd', permissions: ['read-document'], exp: 2e9 }, rsa.privateKey, 'RS256')
        const [h, p, s] = jwt.split('.')
        assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), keys[0]!.key, Buffer.from(s!, 'base64url')))

        const before = changes
        await waitFor(() => changes > before, 5000) // the Ed25519 key expires after 400 ms
        assert.deepEqual(f.app.keyRing.validKeys(new Date()).map((k) => k.algorithm), ['RS256', 'ES256'])
      } finally {
        stop()
      }
    })

    test('dashboard passwords: stored as scrypt hashes, any valid one verifies', async () => {
      assert.equal(f.app.secrets.hasDashboardPassword(), false)
      const res = await call('POST', '/secrets/dashboard_password/rotate', { secret: PASSWORD })
      assert.equal(res.status, 200, res.text)
      assert.equal(f.app.secrets.hasDashboardPassword(), true)
      assert.ok(await f.app.secrets.verifyDashboardPassword(PASSWORD))
      assert.equal(await f.app.secrets.verifyDashboardPassword('correct horse battery stapler'), undefined)
      const second = 'another good passphrase 42'
      used.push(second)
      await call('POST', '/secrets/dashboard_password', { secret: second, expiresAt: inOneHour() })
      assert.equal((await f.app.secrets.verifyDashboardPassword(second))?.secretId, (await call('GET', '/secrets/dashboard_password')).body[1].id)
      const rows = await f.app.db.query<{ material: string }>("select material from secrets where type = 'dashboard_password'")
      for (const r of rows) assert.match(r.material, /^scrypt\$/)
    })

    test('what Folio signs uses the current secret_key_base and verifies with any valid one', async () => {
      const signer = f.app.secrets.signer('session')
      const before = signer.sign('user=ops')
      const rotated = await call('POST', '/secrets/secret_key_base/rotate', { secret: SKB_2 })
      assert.equal(rotated.status, 200, rotated.text)
      const afterRotation = signer.sign('user=ops')
      assert.notEqual(afterRotation, before)
      assert.ok(afterRotation.includes(`.${rotated.body.data.id}.`), 'signed with the new current one')
      assert.equal(signer.verify(before), 'user=ops', 'the previous one still verifies until it expires')
      await call('PATCH', `/secrets/secret_key_base/${rotated.body.data.previous.id}`, { expiresAt: 'now' })
      assert.equal(signer.verify(before), undefined)
      assert.equal(signer.verify(afterRotation), 'user=ops')
    })

    test('the audit log names each change and the API token that made it, never a secret', async () => {
      const res = await call('GET', '/audit?limit=1000')
      assert.equal(res.status, 200, res.text)
      noSecretIn(res)
      assert.ok(!res.text.includes('BEGIN'), 'no key material')
      const actions = res.body.data.map((e: { action: string }) => e.action)
      for (const a of ['secret.add', 'secret.rotate', 'secret.expire', 'secret.seed', 'secret.generate']) assert.ok(actions.includes(a), a)
      const rotation = res.body.data.find((e: { action: string; type: string }) => e.action === 'secret.rotate' && e.type === 'jwt')
      assert.equal(rotation.actor.type, 'api_auth_token')
      assert.match(rotation.actor.id, /^\d+$/)
      assert.match(rotation.actor.fingerprint, /^[0-9a-f]{16}$/)
      assert.match(rotation.fingerprint, /^[A-Za-z0-9_-]{43}$/)
      const seeded = res.body.data.find((e: { action: string }) => e.action === 'secret.seed')
      assert.deepEqual(seeded.actor, { type: 'env', id: 'API_AUTH_TOKEN', fingerprint: null })

      const page1 = await call('GET', '/audit?limit=2&action=secret.add')
      assert.equal(page1.body.data.length, 2)
      assert.ok(page1.body.data.every((e: { action: string }) => e.action === 'secret.add'))
      const page2 = await call('GET', `/audit?limit=2&action=secret.add&cursor=${page1.body.next_cursor}`)
      assert.ok(page2.body.data[0].id < page1.body.data[1].id, 'newest first, the next page older')
      assertError(await call('GET', '/audit?cursor=zzz'), 400, 'invalid_cursor')
    })

    test('no log line and no stored row holds an API token or a password', async () => {
      const logs = f.logs.join('\n')
      for (const s of used) assert.ok(!logs.includes(s), 'no secret in the logs')
      const rows = await f.app.db.query<{ material: string; type: string }>('select type, material from secrets')
      const audit = JSON.stringify(await f.app.db.query('select * from audit_log'))
      for (const s of [TEST_API_TOKEN, TOKEN_2, TOKEN_3, PASSWORD]) {
        assert.ok(!rows.some((r) => r.material.includes(s)), 'tokens and passwords are stored as digests/hashes')
        assert.ok(!audit.includes(s))
      }
      assert.ok(!audit.includes(SKB_2))
    })
  })
}
