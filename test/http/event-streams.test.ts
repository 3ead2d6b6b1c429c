/**
 * Live event streams (`…/events`) as a resource with limits: the CORS headers of the client
 * surface reach the hijacked response, streams are capped per token, per client address and in
 * total (429 too_many_streams), a stream ends when its token expires, and a reader that stops
 * reading is dropped at a bounded buffer. Revocation and key expiry on another node:
 * test/cluster/event-streams.test.ts.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { assertError, request } from '../helpers/http.js'
import { claimsFor, epoch, keyPair, signToken } from '../helpers/jwt.js'
import { makePdf } from '../helpers/pdf-fixtures.js'
import { waitFor } from '../helpers/secret-fixtures.js'
import { openSse, type SseClient } from '../helpers/sse.js'
import { authHeader, startFolio, type TestFolio } from '../helpers/start-folio.js'

const DOC = 'stream-doc'
const APP = 'https://app.example.com'

describe('event stream limits', () => {
  let f: TestFolio
  const pair = keyPair('ES256')
  const opened: SseClient[] = []
  const token = (extra: Record<string, unknown> = {}) => signToken(claimsFor(DOC, ['read-document', 'write'], extra), pair)
  const stream = async (jwt: string, headers: Record<string, string> = {}) => {
    const s = await openSse(`${f.url}/documents/${DOC}/events`, { authorization: `Bearer ${jwt}`, ...headers })
    opened.push(s)
    return s
  }
  const closeAll = async () => {
    for (const s of opened.splice(0)) s.close()
    await waitFor(() => f.app.http.eventStreams.size === 0, 5000, 10)
  }

  before(async () => {
    f = await startFolio({
      env: {
        JWT_PUBLIC_KEY: pair.publicPem, JWT_ALGORITHM: 'ES256', JWT_CLOCK_TOLERANCE: '0', ALLOWED_ORIGINS: APP,
        TRUSTED_PROXIES: '127.0.0.1', EVENT_STREAMS_MAX_PER_TOKEN: '2', EVENT_STREAMS_MAX_PER_CLIENT: '3', EVENT_STREAMS_MAX: '4',
      },
    })
    const up = await request(`${f.url}/api/documents?document_id=${DOC}`, {
      method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: makePdf({ pages: [{}] }),
    })
    assert.equal(up.status, 200, up.text)
  })
  after(async () => {
    for (const s of opened) s.close()
    await f.destroy()
  })

  test('a stream opened from an allowed Origin carries Access-Control-Allow-Origin like document_info', async () => {
    const jwt = await token()
    const info = await request(`${f.url}/documents/${DOC}/document_info`, { headers: { authorization: `Bearer ${jwt}`, origin: APP } })
    assert.equal(info.headers.get('access-control-allow-origin'), APP)
    const s = await stream(jwt, { origin: APP })
    assert.equal(s.status, 200)
    assert.match(s.headers.get('content-type') ?? '', /^text\/event-stream/)
    assert.equal(s.headers.get('access-control-allow-origin'), APP)
    assert.match(s.headers.get('access-control-expose-headers') ?? '', /ETag/)
    assert.match(s.headers.get('vary') ?? '', /Origin/)
    await s.waitFor(1)
    await closeAll()
  })

  test('streams are capped per token, per client address and in total: 429 too_many_streams beyond', async () => {
    const [t1, t2, t3, t4, t5] = await Promise.all([token(), token(), token(), token(), token()])
    const ip = (n: number) => ({ 'x-forwarded-for': `203.0.113.${n}` })
    assert.equal((await stream(t1, ip(1))).status, 200)
    assert.equal((await stream(t1, ip(1))).status, 200)
    const perToken = await request(`${f.url}/documents/${DOC}/events`, { headers: { authorization: `Bearer ${t1}`, ...ip(1) } })
    assertError(perToken, 429, 'too_many_streams')
    assert.equal(perToken.body.error.limit, 'token')
    assert.equal((await stream(t2, ip(1))).status, 200)
    const perClient = await request(`${f.url}/documents/${DOC}/events`, { headers: { authorization: `Bearer ${t3}`, ...ip(1) } })
    assertError(perClient, 429, 'too_many_streams')
    assert.equal(perClient.body.error.limit, 'client')
    assert.equal((await stream(t4, ip(2))).status, 200)
    const total = await request(`${f.url}/documents/${DOC}/events`, { headers: { authorization: `Bearer ${t5}`, ...ip(3) } })
    assertError(total, 429, 'too_many_streams')
    assert.equal(total.body.error.limit, 'total')
    // A closed stream frees its place.
    await closeAll()
    assert.equal((await stream(t5, ip(3))).status, 200)
    await closeAll()
  })

  test('a stream ends, saying why, when its token expires (within 5 s of exp)', async () => {
    const exp = epoch(3)
    const s = await stream(await token({ exp }))
    assert.equal(s.status, 200)
    await s.waitFor(1) // ready
    await Promise.race([s.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('the stream outlived its token')), 8000))])
    assert.ok(Date.now() / 1000 >= exp, 'not before exp')
    assert.ok(Date.now() / 1000 < exp + 5, 'within 5 s of exp')
    const last = s.events.at(-1)!
    assert.equal(last.event, 'closed')
    assert.equal(last.data.reason, 'credential_invalid')
    await closeAll()
  })

  test('a reader that stops reading is dropped (socket destroyed) once its buffer is full', async () => {
    const jwt = await token()
    const u = new URL(f.url)
    const sock = connect(Number(u.port), u.hostname)
    let closed = false
    sock.on('close', () => { closed = true })
    sock.on('error', () => {})
    await new Promise((r) => sock.once('connect', r))
    sock.write(`GET /documents/${DOC}/events HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${jwt}\r\nAccept: text/event-stream\r\n\r\n`)
    await waitFor(() => f.app.http.eventStreams.size === 1, 5000, 10)
    sock.pause() // reads nothing more
    const big = (i: number, j: number) => ({
      v: 2, type: 'pspdfkit/note', pageIndex: 0, bbox: [10, 10, 32, 32], icon: 'comment', color: '#ffcc00',
      text: { format: 'plain', value: `${i}-${j} ${'x'.repeat(60_000)}` },
    })
    // ~3 MB of events per request, until the server gives up on the reader.
    for (let i = 0; i < 20 && f.app.http.eventStreams.size > 0; i++) {
      const res = await request(`${f.url}/api/documents/${DOC}/annotations`, {
        method: 'POST', headers: authHeader(), json: { annotations: Array.from({ length: 50 }, (_, j) => ({ content: big(i, j) })) },
      })
      assert.equal(res.status, 200, res.text.slice(0, 200))
    }
    await waitFor(() => f.app.http.eventStreams.size === 0, 10_000, 20)
    sock.resume()
    await waitFor(() => closed, 10_000, 20)
    sock.destroy()
  })
})
