/**
 * The process as an operator runs it (`node dist/src/main.js`): the generated API token is
 * printed once and works, a bad configuration stops the start naming the variable, and SIGTERM
 * lets an in-flight upload finish before the process exits cleanly.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import { test } from 'node:test'
import { fanOutPdf } from './helpers/hostile-pdfs.js'
import { makePdf } from './helpers/pdf-fixtures.js'
import { request } from './helpers/http.js'
import { authHeader, createStorage, dbKinds, MAIN_JS, spawnFolio, storageEnv, TEST_API_TOKEN } from './helpers/start-folio.js'

test('without API_AUTH_TOKEN a token is generated, printed once, stored, and works after a restart', async () => {
  const storage = await createStorage('pglite')
  try {
    let p = await spawnFolio({ ...storageEnv(storage) })
    const m = /Authorization: Token token="([A-Za-z0-9_-]{32,})"/.exec(p.output())
    assert.ok(m, `the token is printed: ${p.output()}`)
    const token = m[1]!
    assert.equal((await request(`${p.url}/api/documents`, { headers: authHeader(token) })).status, 200)
    assert.equal((await request(`${p.url}/api/documents`, { headers: authHeader('x'.repeat(43)) })).status, 401)
    const logLines = p.output().split('\n').filter((l) => l.startsWith('{'))
    assert.ok(logLines.length > 0 && logLines.every((l) => !l.includes(token)), 'the token is in no log line')
    assert.equal(await p.stop(), 0)

    p = await spawnFolio({ ...storageEnv(storage) })
    assert.ok(!p.output().includes('generated an API token'), 'printed only at the first start')
    assert.equal((await request(`${p.url}/api/documents`, { headers: authHeader(token) })).status, 200)
    assert.equal(await p.stop(), 0)
  } finally {
    await storage.drop()
  }
})

test('a bad configuration stops the start before listening, naming each variable', async () => {
  const child = spawn(process.execPath, [MAIN_JS], {
    env: { PATH: process.env.PATH ?? '', PORT: 'http', JWT_ALGORITHM: 'HS256', DATA_DIR: '/nonexistent/never-created' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d))
  child.stderr.on('data', (d: Buffer) => (out += d))
  const code = await new Promise<number | null>((r) => child.on('exit', r))
  assert.notEqual(code, 0)
  assert.match(out, /PORT: "http"/)
  assert.match(out, /JWT_ALGORITHM: "HS256" is not allowed/)
  assert.ok(!out.includes('listening'))
})

test('SIGTERM lets an in-flight upload finish, then the process exits 0', async () => {
  const storage = await createStorage('pglite')
  try {
    const p = await spawnFolio({ ...storageEnv(storage), API_AUTH_TOKEN: TEST_API_TOKEN })
    const pdf = makePdf({ pages: [{ width: 200, height: 200, text: 'graceful '.repeat(3000) }] })
    const result = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${p.url}/api/documents`, {
        method: 'POST',
        headers: { ...authHeader(), 'content-type': 'application/pdf', 'content-length': String(pdf.length) },
      }, (res) => {
        let body = ''
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.write(pdf.subarray(0, pdf.length >> 1))
      // The rest is sent only after the server was told to stop.
      setTimeout(() => {
        p.child.kill('SIGTERM')
        setTimeout(() => req.end(pdf.subarray(pdf.length >> 1)), 300)
      }, 200)
    })
    const res = await result
    assert.equal(res.status, 200, res.body)
    assert.equal(JSON.parse(res.body).data.pageCount, 1)
    assert.equal(await p.stop(), 0, 'clean exit after the request finished')
  } finally {
    await storage.drop()
  }
})

for (const db of dbKinds()) {
  test(`SIGTERM with renders in flight (${db}): each is answered 200 or 503 and the process exits 0 within 10 s`, async () => {
    const storage = await createStorage(db)
    try {
      const p = await spawnFolio({ ...storageEnv(storage), API_AUTH_TOKEN: TEST_API_TOKEN, RENDER_WORKERS: '2', RENDER_TIMEOUT_MS: '120000' })
      // Seconds per page: 8^5 nested form draws.
      const up = await request(`${p.url}/api/documents`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: fanOutPdf(5, 8) })
      assert.equal(up.status, 200, up.text)
      const id = up.body.data.document_id
      // Distinct widths: distinct renders (no shared single flight), two running, the rest queued.
      const renders = [100, 150, 200, 250, 300, 350].map((w) =>
        fetch(`${p.url}/api/documents/${id}/pages/0/image?width=${w}`, { headers: authHeader() })
          .then(async (r) => ({ status: r.status, code: r.status === 200 ? undefined : ((await r.json()) as { error: { code: string } }).error.code }))
          .catch((e: unknown) => ({ status: 0, code: String(e) })),
      )
      await new Promise((r) => setTimeout(r, 700))
      const stopped = performance.now()
      const exit = p.stop('SIGTERM')
      const answers = await Promise.all(renders)
      const code = await exit
      const ms = performance.now() - stopped
      for (const a of answers) {
        assert.ok(a.status === 200 || (a.status === 503 && a.code === 'service_unavailable'), `render answered ${a.status} ${a.code}`)
      }
      assert.equal(code, 0, p.output().slice(-2000))
      assert.ok(ms < 10_000, `exited ${Math.round(ms)} ms after SIGTERM`)
    } finally {
      await storage.drop()
    }
  })
}
