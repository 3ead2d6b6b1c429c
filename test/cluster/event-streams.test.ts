/**
 * Two nodes on one PostgreSQL: a live event stream open on node B ends when node A revokes its
 * token, and when A expires the key that verified it (the change reaches B through the cluster
 * bus; B re-checks its streams every second).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { request } from '../helpers/http.js'
import { claimsFor, keyPair, signToken } from '../helpers/jwt.js'
import { makePdf } from '../helpers/pdf-fixtures.js'
import { waitFor } from '../helpers/secret-fixtures.js'
import { openSse, type SseClient } from '../helpers/sse.js'
import { authHeader, createStorage, dbKinds, startFolio, type Storage, type TestFolio } from '../helpers/start-folio.js'

const DOC = 'cluster-stream-doc'
const END_WITHIN_MS = 5000

async function endsWithin(s: SseClient, ms: number): Promise<number> {
  const t0 = performance.now()
  await Promise.race([s.ended, new Promise((_, reject) => setTimeout(() => reject(new Error(`the stream was still open after ${ms} ms`)), ms))])
  return performance.now() - t0
}

describe('event streams on two nodes on one PostgreSQL', { skip: !dbKinds().includes('postgres') && 'no PostgreSQL in this run' }, () => {
  let storage: Storage
  let a: TestFolio
  let b: TestFolio
  const first = keyPair('ES256')
  const second = keyPair('ES256', true)
  const env = { JWT_PUBLIC_KEY: first.publicPem, JWT_ALGORITHM: 'ES256', JWT_CLOCK_TOLERANCE: '0' }
  const onA = (method: string, path: string, json?: unknown) => request(`${a.url}/api${path}`, { method, headers: authHeader(), json })
  const streamOnB = async (jwt: string) => {
    const s = await openSse(`${b.url}/documents/${DOC}/events`, { authorization: `Bearer ${jwt}` })
    assert.equal(s.status, 200)
    await s.waitFor(1) // ready
    return s
  }

  before(async () => {
    storage = await createStorage('postgres')
    a = await startFolio({ storage, env })
    b = await startFolio({ storage, env })
    const up = await request(`${a.url}/api/documents?document_id=${DOC}`, {
      method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: makePdf({ pages: [{}] }),
    })
    assert.equal(up.status, 200, up.text)
  })
  after(async () => {
    await b.close()
    await a.destroy()
  })

  test('a revocation made on node A ends the stream open on node B, saying why', async (t) => {
    const jwt = await signToken(claimsFor(DOC, ['read-document'], { jti: 'stream-jti-1' }), first)
    const s = await streamOnB(jwt)
    const other = await streamOnB(await signToken(claimsFor(DOC, ['read-document'], { jti: 'stream-jti-2' }), first))
    assert.equal((await onA('POST', '/jwt/revocations', { jti: 'stream-jti-1' })).status, 200)
    const ms = await endsWithin(s, END_WITHIN_MS)
    t.diagnostic(`stream on B ended ${Math.round(ms)} ms after the revocation on A returned`)
    assert.equal(s.events.at(-1)?.event, 'closed')
    assert.equal(s.events.at(-1)?.data.reason, 'credential_invalid')
    // The stream of a token the revocation does not cover stays open.
    assert.equal(b.app.http.eventStreams.size, 1)
    other.close()
    await waitFor(() => b.app.http.eventStreams.size === 0, 5000, 10)
  })

  test('expiring on node A the key that verified a token ends its stream on node B', async (t) => {
    const added = await onA('POST', '/secrets/jwt', { secret: second.publicPem, expiresAt: new Date(Date.now() + 3600_000).toISOString() })
    assert.equal(added.status, 200, added.text)
    await waitFor(() => b.app.keyRing.validKeys(new Date()).length === 2, 5000, 10)
    const s = await streamOnB(await signToken(claimsFor(DOC, ['read-document']), second))
    const kept = await streamOnB(await signToken(claimsFor(DOC, ['read-document']), first))
    assert.equal((await onA('PATCH', `/secrets/jwt/${added.body.data.id}`, { expiresAt: 'now' })).status, 200)
    const ms = await endsWithin(s, END_WITHIN_MS)
    t.diagnostic(`stream on B ended ${Math.round(ms)} ms after the key expired on A`)
    assert.equal(s.events.at(-1)?.event, 'closed')
    assert.equal(b.app.http.eventStreams.size, 1, 'the stream verified by the other key stays open')
    kept.close()
  })
})
