/**
 * Environment seeding across restarts (seed 001, spec §4), on both databases:
 * REPLACE_SECRETS_FROM_ENV=true replaces the current secrets at every start;
 * REPLACE_SECRETS_FROM_ENV=false only fills empty types, and what the API set survives.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ConfigError } from '../../src/config.js'
import { assertError, request } from '../helpers/http.js'
import { ecPair, privatePem, rsaPair } from '../helpers/secret-fixtures.js'
import { authHeader, createStorage, dbKinds, startFolio, type DbKind, type TestFolio } from '../helpers/start-folio.js'

const T1 = 'env-token-one-0123456789abcdef0123456789abcdef'
const T2 = 'api-token-two-0123456789abcdef0123456789abcdef'
const T3 = 'env-token-three-0123456789abcdef0123456789abcd'
const S1 = 's'.repeat(64)
const S2 = 't'.repeat(64)
const P1 = 'first dashboard passphrase'
const P2 = 'second dashboard passphrase'
const k1 = rsaPair()
const k2 = ecPair('P-256')

const envOf = (replace: boolean, over: Record<string, string> = {}) => ({
  API_AUTH_TOKEN: T1, SECRET_KEY_BASE: S1, DASHBOARD_PASSWORD: P1, JWT_PUBLIC_KEY: k1.publicPem,
  REPLACE_SECRETS_FROM_ENV: String(replace), ...over,
})

async function works(f: TestFolio, token: string): Promise<boolean> {
  const res = await request(`${f.url}/api/documents`, { headers: authHeader(token) })
  if (res.status !== 200) assertError(res, 401, 'unauthorized')
  return res.status === 200
}

/** Rotates every type through the API to the "2" values, cutting the previous ones at once. */
async function rotateAllThroughApi(f: TestFolio, as: string): Promise<void> {
  for (const [type, secret] of [['jwt', k2.publicPem], ['secret_key_base', S2], ['dashboard_password', P2], ['api_auth_token', T2]] as const) {
    const res = await request(`${f.url}/api/secrets/${type}/rotate`, { method: 'POST', headers: authHeader(as), json: { secret, previousExpiresAt: 'now' } })
    assert.equal(res.status, 200, res.text)
  }
}

async function state(f: TestFolio) {
  const current = f.app.keyRing.validKeys(new Date())
  return {
    jwt: current.map((k) => k.algorithm),
    password1: (await f.app.secrets.verifyDashboardPassword(P1)) !== undefined,
    password2: (await f.app.secrets.verifyDashboardPassword(P2)) !== undefined,
    signerId: /\.(\d+)\./.exec(f.app.secrets.signer('t').sign('x'))![1],
  }
}

async function withStorage(db: DbKind, fn: (storage: Awaited<ReturnType<typeof createStorage>>) => Promise<void>) {
  const storage = await createStorage(db)
  try {
    await fn(storage)
  } finally {
    await storage.drop()
  }
}

for (const db of dbKinds()) {
  describe(`secrets seeded from the environment (${db})`, () => {
    test('REPLACE_SECRETS_FROM_ENV=true: the env values replace what the API set at every start; an unchanged env changes nothing', async () => {
      await withStorage(db, async (storage) => {
        let f = await startFolio({ storage, env: envOf(true) })
        try {
          const s0 = await state(f)
          assert.deepEqual([s0.jwt, s0.password1, s0.password2], [['RS256'], true, false])
          assert.equal(await works(f, T1), true)
          await rotateAllThroughApi(f, T1)
          assert.equal(await works(f, T2), true)
          assert.equal(await works(f, T1), false)
          assert.deepEqual((await state(f)).jwt, ['ES256'])

          await f.close()
          f = await startFolio({ storage, env: envOf(true) })
          assert.equal(await works(f, T1), true, 'the env token is current again')
          assert.equal(await works(f, T2), false, 'the replaced one stopped at once')
          const s = await state(f)
          assert.deepEqual(s.jwt, ['RS256'])
          assert.equal(s.password1, true)
          assert.equal(s.password2, false)

          const auditCount = async () => (await f.app.db.query<{ n: number }>('select count(*)::int as n from audit_log'))[0]!.n
          const before = { audit: await auditCount(), ids: await f.app.db.query('select id from secrets order by id') }
          await f.close()
          f = await startFolio({ storage, env: envOf(true) })
          assert.equal(await auditCount(), before.audit, 'a start with the same env writes nothing')
          assert.deepEqual(await f.app.db.query('select id from secrets order by id'), before.ids)
          assert.equal((await state(f)).signerId, s.signerId)

          await f.close()
          f = await startFolio({ storage, env: envOf(true, { API_AUTH_TOKEN: T3 }) })
          assert.equal(await works(f, T3), true, 'a changed env value replaces the current one')
          assert.equal(await works(f, T1), false)
        } finally {
          await f.close()
        }
      })
    })

    test('REPLACE_SECRETS_FROM_ENV=false: env values fill empty types only, and what the API set survives restarts', async () => {
      await withStorage(db, async (storage) => {
        let f = await startFolio({ storage, env: envOf(false) })
        try {
          assert.equal(await works(f, T1), true, 'an empty database is filled from the env')
          assert.equal((await state(f)).password1, true)
          await rotateAllThroughApi(f, T1)
          const s = await state(f)

          await f.close()
          f = await startFolio({ storage, env: envOf(false) })
          assert.equal(await works(f, T2), true, 'the API-set token survived')
          assert.equal(await works(f, T1), false)
          assert.deepEqual(await state(f), s, 'jwt key, passwords and secret_key_base as the API left them')

          await f.close()
          f = await startFolio({ storage, env: envOf(false, { API_AUTH_TOKEN: T3 }) })
          assert.equal(await works(f, T3), false, 'a changed env value does not replace a stored one')
          assert.equal(await works(f, T2), true)
        } finally {
          await f.close()
        }
      })
    })

    test('without API_AUTH_TOKEN and SECRET_KEY_BASE both are generated once; jwt and dashboard stay off without their variables', async () => {
      await withStorage(db, async (storage) => {
        let f = await startFolio({ storage, env: { API_AUTH_TOKEN: '' } })
        try {
          const generated = f.app.generatedApiToken
          assert.ok(generated && generated.length >= 32)
          assert.equal(await works(f, generated), true)
          assert.ok(!f.logs.join('\n').includes(generated), 'the generated token is never logged')
          assert.deepEqual(f.app.keyRing.validKeys(new Date()), [])
          assert.equal(f.app.secrets.hasDashboardPassword(), false)
          const signed = f.app.secrets.signer('t').sign('x')
          await f.close()
          f = await startFolio({ storage, env: { API_AUTH_TOKEN: '' } })
          assert.equal(f.app.generatedApiToken, undefined, 'generated only once')
          assert.equal(await works(f, generated), true)
          assert.equal(f.app.secrets.signer('t').verify(signed), 'x', 'the generated secret_key_base persists')
        } finally {
          await f.close()
        }
      })
    })

    test('a non-RSA key with the default JWT_ALGORITHM derives its algorithm; bad env values stop the start naming the variable', async () => {
      await withStorage(db, async (storage) => {
        const f = await startFolio({ storage, env: { JWT_PUBLIC_KEY: k2.publicPem } })
        assert.deepEqual(f.app.keyRing.validKeys(new Date()).map((k) => k.algorithm), ['ES256'])
        await f.close()
        for (const [env, variable] of [
          [{ DASHBOARD_PASSWORD: 'password123' }, 'DASHBOARD_PASSWORD'],
          [{ JWT_PUBLIC_KEY: k2.publicPem, JWT_ALGORITHM: 'ES384' }, 'JWT_ALGORITHM'],
          [{ JWT_PUBLIC_KEY: rsaPair(1024).publicPem }, 'JWT_PUBLIC_KEY'],
          [{ JWT_PUBLIC_KEY: privatePem(k1) }, 'JWT_PUBLIC_KEY'],
          [{ API_AUTH_TOKEN: `${T1} x` }, 'API_AUTH_TOKEN'],
        ] as const) {
          await assert.rejects(startFolio({ storage, env }), (e: unknown) => {
            assert.ok(e instanceof ConfigError, String(e))
            // The variable is named (a key that does not fit the algorithm names both).
            assert.match(e.message, new RegExp(`\\b${variable}\\b`))
            assert.ok(!e.message.includes('MII'), 'no key material in the message')
            return true
          })
        }
      })
    })
  })
}
