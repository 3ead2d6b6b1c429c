/**
 * Native HTTPS (issue #9): TLS_CERT_FILE / TLS_KEY_FILE serve HTTPS; a renewed pair on disk is
 * picked up without a restart (and at once by reloadTls, what SIGHUP calls); a pair that does not
 * load is refused and the old one kept; a bad pair at start stops the start, naming the variable.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { after, before, describe, test } from 'node:test'
import { buildApp } from '../../src/app.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { TlsFileError } from '../../src/net/tls.js'
import { createStorage, dbKinds, startFolio, storageEnv, TEST_API_TOKEN, type Storage } from '../helpers/start-folio.js'

/** A self-signed P-256 certificate for 127.0.0.1 with the given common name. */
function makeCert(dir: string, cn: string): { cert: string; key: string } {
  const cert = join(dir, `${cn}.crt`)
  const key = join(dir, `${cn}.key`)
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
  return { cert, key }
}

/** GET over HTTPS on a new connection; returns the status and the certificate's CN. */
function probe(url: string): Promise<{ status: number; cn: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}/healthcheck`, { rejectUnauthorized: false, agent: false }, (res) => {
      const cn = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN)
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cn }))
    })
    req.on('error', reject)
    req.end()
  })
}

async function until(what: string, fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('native TLS', () => {
  let dir: string
  let storage: Storage
  const live = { cert: '', key: '' }
  before(async () => {
    dir = await mkdtemp(join(process.env.FOLIO_TEST_TMP!, 'tls-'))
    storage = await createStorage(dbKinds().includes('postgres') ? 'postgres' : 'pglite')
    for (const cn of ['first', 'second', 'third']) makeCert(dir, cn)
    live.cert = join(dir, 'live.crt')
    live.key = join(dir, 'live.key')
    await writeFile(live.cert, await readFile(join(dir, 'first.crt')))
    await writeFile(live.key, await readFile(join(dir, 'first.key')))
  })
  after(async () => {
    await storage.drop()
    await rm(dir, { recursive: true, force: true })
  })

  test('serves HTTPS, picks up a renewed pair without a restart, and keeps the old one when the new does not load', async () => {
    const f = await startFolio({ storage, env: { TLS_CERT_FILE: live.cert, TLS_KEY_FILE: live.key }, app: { tlsPollMs: 100 } })
    try {
      assert.match(f.url, /^https:\/\/127\.0\.0\.1:\d+$/)
      assert.deepEqual(await probe(f.url), { status: 200, cn: 'first' })
      const nodeId = f.app.nodes.id

      // A renewal as certbot and friends do it: new files renamed over the old ones.
      await writeFile(`${live.key}.new`, await readFile(join(dir, 'second.key')))
      await writeFile(`${live.cert}.new`, await readFile(join(dir, 'second.crt')))
      await rename(`${live.key}.new`, live.key)
      await rename(`${live.cert}.new`, live.cert)
      await until('the second certificate', async () => (await probe(f.url)).cn === 'second')
      assert.equal(f.app.nodes.id, nodeId, 'same process, same node: no restart')

      // A certificate that does not match the key: refused, the second pair stays in use.
      await writeFile(live.cert, await readFile(join(dir, 'third.crt')))
      await until('the refusal to be logged', async () => f.logs.some((l) => l.includes('TLS certificate not reloaded')))
      assert.deepEqual(await probe(f.url), { status: 200, cn: 'second' })
      assert.ok(!f.logs.some((l) => l.includes('PRIVATE KEY')), 'no key material in the logs')
    } finally {
      await f.close()
    }
  })

  test('reloadTls (what SIGHUP calls) swaps the pair at once', async () => {
    await writeFile(live.cert, await readFile(join(dir, 'first.crt')))
    await writeFile(live.key, await readFile(join(dir, 'first.key')))
    const f = await startFolio({ storage, env: { TLS_CERT_FILE: live.cert, TLS_KEY_FILE: live.key }, app: { tlsPollMs: 3_600_000 } })
    try {
      assert.equal((await probe(f.url)).cn, 'first')
      await writeFile(live.key, await readFile(join(dir, 'third.key')))
      await writeFile(live.cert, await readFile(join(dir, 'third.crt')))
      assert.equal(await f.app.reloadTls(), true)
      assert.equal((await probe(f.url)).cn, 'third')
    } finally {
      await f.close()
    }
  })

  test('a bad pair or a missing file stops the start, naming the variable; one of the two alone is a config error', async () => {
    const base = { ...storageEnv(storage), API_AUTH_TOKEN: TEST_API_TOKEN, LOG_LEVEL: 'silent' }
    const cases = [
      { env: { TLS_CERT_FILE: join(dir, 'first.crt'), TLS_KEY_FILE: join(dir, 'second.key') }, says: /^TLS_KEY_FILE: .* is not the private key of TLS_CERT_FILE/ },
      { env: { TLS_CERT_FILE: join(dir, 'absent.crt'), TLS_KEY_FILE: join(dir, 'first.key') }, says: /^TLS_CERT_FILE: cannot read .*absent\.crt \(ENOENT\)/ },
      { env: { TLS_CERT_FILE: join(dir, 'first.key'), TLS_KEY_FILE: join(dir, 'first.key') }, says: /^TLS_CERT_FILE: .* is not a PEM certificate/ },
    ]
    for (const c of cases) {
      await assert.rejects(buildApp(loadConfig({ ...base, ...c.env })), (e: unknown) => {
        assert.ok(e instanceof TlsFileError, String(e))
        assert.match(e.message, c.says)
        return true
      })
    }
    assert.throws(() => loadConfig({ TLS_CERT_FILE: '/x.crt' }), (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.startsWith('TLS_KEY_FILE: is required')))
  })
})
