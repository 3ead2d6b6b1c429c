/**
 * TRUSTED_PROXIES (spec §1; issue #9 calls it TRUST_PROXY): X-Forwarded-For is believed only
 * from the listed peers; otherwise the client address is the TCP peer's. Seen in the request log.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, loadConfig } from '../../src/config.js'
import { createStorage, dbKinds, startFolio } from '../helpers/start-folio.js'

async function loggedIp(env: Record<string, string>, forwardedFor: string): Promise<string> {
  const storage = await createStorage(dbKinds().includes('postgres') ? 'postgres' : 'pglite')
  const f = await startFolio({ storage, env })
  try {
    const marker = `/healthcheck?ip-probe=${Math.random()}`
    await fetch(`${f.url}${marker}`, { headers: { 'x-forwarded-for': forwardedFor } })
    const line = f.logs.find((l) => l.includes('ip-probe'))
    assert.ok(line)
    return JSON.parse(line).ip
  } finally {
    await f.destroy()
  }
}

test('X-Forwarded-For is believed from a listed proxy only', async () => {
  assert.equal(await loggedIp({}, '203.0.113.7'), '127.0.0.1', 'nothing listed: the peer address')
  assert.equal(await loggedIp({ TRUSTED_PROXIES: '10.0.0.0/8' }, '203.0.113.7'), '127.0.0.1', 'another proxy listed')
  assert.equal(await loggedIp({ TRUSTED_PROXIES: '127.0.0.1' }, '203.0.113.7'), '203.0.113.7', 'the peer is a listed proxy')
  // Only the hop the trusted proxy added counts; what the client wrote before it is not believed.
  assert.equal(await loggedIp({ TRUSTED_PROXIES: '127.0.0.0/8' }, '198.51.100.1, 203.0.113.7'), '203.0.113.7')
})

test('TRUSTED_PROXIES accepts addresses, CIDRs and range names, and refuses anything else', () => {
  assert.deepEqual([...loadConfig({ TRUSTED_PROXIES: '10.0.0.1, 172.16.0.0/12, ::1, fd00::/8, loopback' }).trustedProxies],
    ['10.0.0.1', '172.16.0.0/12', '::1', 'fd00::/8', 'loopback'])
  for (const bad of ['true', '*', '10.0.0.0/33', 'proxy.example.com', '10.0.0.1/8/2']) {
    assert.throws(() => loadConfig({ TRUSTED_PROXIES: bad }), (e: unknown) => e instanceof ConfigError && e.problems[0]!.startsWith('TRUSTED_PROXIES:'), bad)
  }
})
