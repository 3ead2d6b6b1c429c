/**
 * deploy/Caddyfile, run for real (issue #9): Caddy validates it, terminates HTTPS with it, and
 * passes only /i, /documents and /viewer to two Folio nodes; /api, /dashboard, /healthcheck and
 * /metrics are not reachable through it, however the path is disguised, even with a valid API
 * token. A client's own X-Forwarded-For is not passed on, and a node that dies is routed around.
 * Skipped when the `caddy` binary is absent (CI installs Debian's package, see .ci/run).
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { request as httpsRequest } from 'node:https'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { authHeader, createStorage, dbKinds, startFolio, type Storage, type TestFolio } from '../helpers/start-folio.js'

const CADDYFILE = fileURLToPath(new URL('../../../deploy/Caddyfile', import.meta.url))
const hasCaddy = spawnSync('caddy', ['version']).status === 0

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** A raw HTTPS request: the path is sent exactly as given (no client-side normalisation). */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, headers: { host: `localhost:${port}`, ...headers }, rejectUnauthorized: false, servername: 'localhost' }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('deploy/Caddyfile', { skip: !hasCaddy && 'caddy is not installed' }, () => {
  let caddy: ChildProcess
  let dir: string
  let storage: Storage
  let nodes: TestFolio[]
  let port: number
  let env: Record<string, string>

  before(async () => {
    dir = await mkdtemp(join(process.env.FOLIO_TEST_TMP!, 'caddy-'))
    const db = dbKinds().includes('postgres') ? 'postgres' : 'pglite'
    storage = await createStorage(db)
    // Two nodes on one database (built-in blobs); on PGlite a single node stands for both.
    const backend = { ASSET_STORAGE_BACKEND: 'built-in', TRUSTED_PROXIES: '127.0.0.1' }
    nodes = [await startFolio({ storage, env: backend, ownDataDir: true })]
    if (db === 'postgres') nodes.push(await startFolio({ storage, env: backend, ownDataDir: true }))
    port = await freePort()
    env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      XDG_DATA_HOME: join(dir, 'data'),
      XDG_CONFIG_HOME: join(dir, 'config'),
      FOLIO_SITE: `https://localhost:${port}`,
      FOLIO_HTTPS_PORT: String(port),
      FOLIO_HTTP_PORT: String(await freePort()),
      FOLIO_UPSTREAMS: nodes.map((n) => n.url.replace('http://', '')).join(' '),
    }
    caddy = spawn('caddy', ['run', '--config', CADDYFILE, '--adapter', 'caddyfile'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    caddy.stdout!.resume()
    caddy.stderr!.resume()
    // Ready when it answers over TLS.
    for (let i = 0; ; i++) {
      try {
        await get(port, '/viewer')
        break
      } catch (e) {
        if (i > 200) throw e
        await new Promise((r) => setTimeout(r, 50))
      }
    }
  })
  after(async () => {
    caddy?.kill('SIGKILL')
    for (const n of nodes ?? []) await n.close()
    await storage?.drop()
    await rm(dir, { recursive: true, force: true })
  })

  test('caddy validate accepts it', () => {
    const r = spawnSync('caddy', ['validate', '--config', CADDYFILE, '--adapter', 'caddyfile'], { env: { ...env, FOLIO_HTTPS_PORT: String(port + 1) }, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout + r.stderr, /Valid configuration/)
  })

  test('/i and /documents reach Folio over HTTPS, on both nodes', async () => {
    for (let i = 0; i < 4; i++) {
      for (const path of ['/i/d/abc/document_info', '/documents/abc/document_info']) {
        const res = await get(port, path)
        // Folio's own answer: the client surfaces want a JWT (spec §7).
        assert.equal(res.status, 401)
        assert.equal(JSON.parse(res.body).error.code, 'invalid_token')
        assert.match(String(res.headers['strict-transport-security']), /max-age=/)
      }
    }
    const counts = nodes.map((n) => n.logs.filter((l) => /"url":"\/(i\/d|documents)\/abc\/document_info"/.test(l)).length)
    assert.equal(counts.reduce((a, b) => a + b), 8)
    assert.ok(counts.every((c) => c > 0), `each node served some: ${counts.join(' / ')}`)
  })

  test('/api, /dashboard, /healthcheck and /metrics are not reachable, however the path is written', async () => {
    const token = authHeader()
    const paths = [
      '/api/documents', '/api/nodes', '/dashboard', '/dashboard/', '/healthcheck', '/metrics', '/API/documents',
      '//api/documents', '/i/../api/documents', '/documents/../api/documents', '/i/%2e%2e/api/documents',
      '/i/%2E%2E%2Fapi/documents', '/i/..%2fapi/documents', '/viewer/../api/nodes', '/./api/documents', '/i/..;/api/documents',
    ]
    const marker = `probe${Date.now()}`
    for (const path of paths) {
      const res = await get(port, `${path}?${marker}`, token)
      assert.notEqual(res.status, 200, `${path} must not be served`)
      assert.ok(!res.body.includes('"data"'), `${path} must not reach the server API: ${res.body}`)
    }
    for (const n of nodes) {
      // Encoded dot segments (%2e%2e) are not dot segments (RFC 3986 §6.2.2.2 leaves them to the
      // server): such a path reaches Folio as a path under a public prefix, and Folio, which
      // does not decode them either, answers there: 401 without a JWT (the client surfaces) or
      // 404 (no such path). Nothing reaches another surface.
      for (const line of n.logs.filter((l) => l.includes(marker))) {
        const { url, status } = JSON.parse(line)
        assert.match(url, /^\/(i|documents|viewer)\//, `only public prefixes reach a node: ${url}`)
        assert.ok(status === 401 || status === 404, `${url}: ${status}`)
      }
    }
  })

  test('a client-sent X-Forwarded-For is replaced by the address Caddy saw', async () => {
    await get(port, '/i/forwarded-check', { 'x-forwarded-for': '203.0.113.9' })
    const line = nodes.flatMap((n) => n.logs).find((l) => l.includes('/i/forwarded-check'))
    assert.ok(line)
    assert.equal(JSON.parse(line).ip, '127.0.0.1')
  })

  test('when a node dies, requests go to the one left (two nodes need PostgreSQL)', async (t) => {
    if (nodes.length < 2) return t.skip('one node on PGlite')
    await nodes.pop()!.close()
    for (let i = 0; i < 6; i++) {
      const res = await get(port, `/documents/after-death-${i}/document_info`)
      assert.equal(res.status, 401)
      assert.equal(JSON.parse(res.body).error.code, 'invalid_token', res.body)
    }
    assert.equal(nodes[0]!.logs.filter((l) => l.includes('/after-death-')).length, 6)
  })
})
