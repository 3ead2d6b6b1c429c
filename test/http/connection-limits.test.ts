/**
 * Limits of the listener, over raw TCP: a declared body over the limit is refused from its
 * Content-Length before it is read; slow headers, idle keep-alive sockets and connection floods
 * are bounded; malformed requests get Folio's error shape, not Node's; a repeated Authorization
 * header is refused.
 */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { assertError, request } from '../helpers/http.js'
import { authHeader, startFolio, TEST_API_TOKEN, type TestFolio } from '../helpers/start-folio.js'

interface RawAnswer { status: number; headers: string; body: string; closed: boolean }

function open(url: string): Promise<Socket> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => resolve(s))
    s.once('error', reject)
  })
}

/** Writes `text` and collects what the server answers until it closes or `waitMs` passes. */
function exchange(s: Socket, text: string, waitMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    let data = ''
    let closed = false
    const done = () => {
      clearTimeout(timer)
      const [head = '', body = ''] = data.split('\r\n\r\n')
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body, closed })
    }
    const timer = setTimeout(done, waitMs)
    s.on('data', (c) => {
      data += c.toString('latin1')
    })
    s.on('error', () => {})
    s.on('close', () => {
      closed = true
      done()
    })
    if (text !== '') s.write(text)
  })
}

describe('connection and body limits', () => {
  let f: TestFolio
  before(async () => {
    f = await startFolio({
      env: { MAX_UPLOAD_SIZE_BYTES: '1000000', SERVER_HEADERS_TIMEOUT: '1000', SERVER_KEEP_ALIVE_TIMEOUT: '300', SERVER_MAX_CONNECTIONS: '8' },
    })
  })
  after(async () => {
    await f.destroy()
  })
  const host = () => new URL(f.url).host

  test('a Content-Length over the limit gets 413 from the header, before any body byte is sent', async () => {
    const s = await open(f.url)
    const a = await exchange(s, `POST /api/documents HTTP/1.1\r\nHost: ${host()}\r\nAuthorization: Token token="${TEST_API_TOKEN}"\r\n` +
      'Content-Type: application/pdf\r\nContent-Length: 2000000000\r\n\r\n')
    assert.equal(a.status, 413, a.headers)
    const body = JSON.parse(a.body)
    assert.equal(body.error.code, 'payload_too_large')
    assert.equal(body.error.limit, 1000000)
    assert.ok(a.closed, 'the socket is closed instead of reading 2 GB to reuse it')
    s.destroy()
  })

  test('two Authorization headers are refused with 400 duplicate_header', async () => {
    const s = await open(f.url)
    const a = await exchange(s, `GET /api/documents HTTP/1.1\r\nHost: ${host()}\r\nAuthorization: Token token="${TEST_API_TOKEN}"\r\n` +
      'Authorization: Token token="something-else"\r\n\r\n')
    assert.equal(a.status, 400, a.headers)
    assert.equal(JSON.parse(a.body).error.code, 'duplicate_header')
    s.destroy()
    // One header still works.
    assert.equal((await request(`${f.url}/api/documents`, { headers: authHeader() })).status, 200)
  })

  test('a malformed request gets Folio\'s error shape, not Node\'s raw 400 body', async () => {
    const s = await open(f.url)
    const a = await exchange(s, 'GET /x HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n')
    assert.equal(a.status, 400)
    const body = JSON.parse(a.body)
    assert.equal(body.error.code, 'bad_request')
    assert.equal(typeof body.error.message, 'string')
    assert.equal(body.statusCode, undefined)
  })

  test('headers that do not finish within SERVER_HEADERS_TIMEOUT get 408 request_timeout in Folio\'s shape, within 5 s', async () => {
    const s = await open(f.url)
    const t0 = Date.now()
    const a = await exchange(s, `GET /healthcheck HTTP/1.1\r\nHost: ${host()}\r\nX-Slow: 1`, 8000)
    assert.equal(a.status, 408, a.headers)
    assert.equal(JSON.parse(a.body).error.code, 'request_timeout')
    assert.ok(Date.now() - t0 < 5000, `closed after ${Date.now() - t0} ms`)
  })

  test('an idle keep-alive socket is closed after SERVER_KEEP_ALIVE_TIMEOUT, within 5 s', async () => {
    const s = await open(f.url)
    const t0 = Date.now()
    const a = await exchange(s, `GET /healthcheck HTTP/1.1\r\nHost: ${host()}\r\n\r\n`, 8000)
    assert.equal(a.status, 200)
    assert.ok(a.closed && Date.now() - t0 < 5000, `closed: ${a.closed} after ${Date.now() - t0} ms`)
  })

  test('connections beyond SERVER_MAX_CONNECTIONS are closed when accepted', async () => {
    const held = await Promise.all(Array.from({ length: 8 }, () => open(f.url)))
    const extra = await open(f.url)
    const a = await exchange(extra, `GET /healthcheck HTTP/1.1\r\nHost: ${host()}\r\n\r\n`, 3000)
    assert.equal(a.status, 0, 'no answer on the connection over the cap')
    assert.ok(a.closed)
    for (const s of held) s.destroy()
  })
})

test('a credential in a percent-encoded query key (%6Awt=) is redacted in the request log', async () => {
  const f = await startFolio()
  try {
    const secret = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJlLXZhbHVl'
    const res = await request(`${f.url}/documents/d1/cover?width=64&%6Awt=${secret}&%74oken=${secret}`)
    assertError(res, 401, 'invalid_token')
    const lines = f.logs.filter((l) => l.includes('"request"') && l.includes('/cover'))
    assert.ok(lines.length > 0, 'the request was logged')
    for (const l of lines) {
      assert.ok(!l.includes('c2VjcmV0'), `no token in the log: ${l}`)
      assert.match(l, /%6Awt=\[redacted\]/)
    }
  } finally {
    await f.destroy()
  }
})
