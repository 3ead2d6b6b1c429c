/**
 * bench/jwt (issue #3): what a client JWT costs.
 *
 *   npm run bench:jwt
 *   BENCH_SECONDS=5 BENCH_ROUNDS=2 BENCH_SLICE_MS=500 BENCH_CONNECTIONS=32 BENCH_LOG_LEVEL=warn npm run bench:jwt
 *
 * 1. Requests per second of `GET /i/d/:id/document_info` with a valid ES256 token (verified once,
 *    then served from the verification cache) against a bare `node:http` server answering the
 *    same JSON bytes, in the same run, taking turns in short slices, same load generator
 *    (keep-alive, N connections). Both servers are child processes; the ratio is the figure (goal ≥ 0.8).
 *    Beside it, the same route on /api (no JWT) and a JWT-checked path with no database work,
 *    which split the cost between the JWT check and the document lookup.
 *    BENCH_DATABASE_URL=postgres://… runs Folio on that (scratch) PostgreSQL database;
 *    BENCH_ONLY=http or BENCH_ONLY=cold runs one part.
 * 2. Cold (uncached) verification per algorithm through Folio's verifier (jose), one at a time
 *    and 16 in flight, against a bare `crypto.verify` of the same signature as baseline; and the
 *    cached path.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomUUID, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SignJWT } from 'jose'
import { createJwtVerifier } from '../src/auth/jwt.js'
import { createStaticKeyRing } from '../test/helpers/static-key-ring.js'
import { JWT_ALGORITHMS, type JwtAlgorithm } from '../src/config.js'
import { makePdf } from '../test/helpers/pdf-fixtures.js'

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url))
const API_TOKEN = 'bench-token-0123456789abcdef0123456789abcdef'
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 500)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn'
const COLD_N = Number(process.env.BENCH_COLD_N ?? 300)
/** A PostgreSQL URL for Folio (a scratch database); unset → embedded PGlite. */
const DATABASE_URL = process.env.BENCH_DATABASE_URL


function keysFor(alg: JwtAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg.startsWith('RS') || alg.startsWith('PS')) return generateKeyPairSync('rsa', { modulusLength: 2048 })
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519')
  return generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg as 'ES256'] })
}

async function waitForLine(child: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    const onData = (d: Buffer) => {
      out += d
      const m = re.exec(out)
      if (m) {
        child.stdout!.off('data', onData)
        child.stdout!.resume() // keep draining whatever else is printed
        resolve(m[1]!)
      }
    }
    child.stdout!.on('data', onData)
    child.on('exit', (c) => reject(new Error(`child exited ${c}: ${out}`)))
  })
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null) return r()
    child.on('exit', () => r())
    child.kill('SIGTERM')
  })
}

function httpJson(url: string, init: { method?: string; headers?: Record<string, string>; body?: Uint8Array } = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

/** N keep-alive connections, each sending the next request as soon as the last answered. */
async function load(url: string, headers: Record<string, string>, seconds: number, expect = 200): Promise<{ rps: number; errors: number; seconds: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  const until = performance.now() + seconds * 1000
  let ok = 0
  let errors = 0
  const one = () => new Promise<void>((resolve) => {
    const req = request(url, { agent, headers }, (res) => {
      res.resume()
      res.on('end', () => {
        if (res.statusCode === expect) ok++
        else errors++
        resolve()
      })
    })
    req.on('error', () => {
      errors++
      resolve()
    })
    req.end()
  })
  const t0 = performance.now()
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (performance.now() < until) await one()
  }))
  const elapsed = (performance.now() - t0) / 1000
  agent.destroy()
  return { rps: ok / elapsed, errors, seconds: elapsed }
}

async function httpBench(): Promise<void> {
  const { privateKey, publicKey } = keysFor('ES256')
  const dataDir = await mkdtemp(join(tmpdir(), 'folio-bench-jwt-'))
  const folio = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), MAIN], {
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, API_AUTH_TOKEN: API_TOKEN, LOG_LEVEL, JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }) as string, JWT_ALGORITHM: 'ES256', ...(DATABASE_URL ? { DATABASE_URL } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let bare: ChildProcess | undefined
  try {
    const folioUrl = await waitForLine(folio, /listening on (http:\/\/\S+)/)
    const up = await httpJson(`${folioUrl}/api/documents?document_id=bench-doc`, {
      method: 'POST',
      headers: { authorization: `Token token="${API_TOKEN}"`, 'content-type': 'application/pdf' },
      body: makePdf({ pages: Array.from({ length: 10 }, () => ({ width: 612, height: 792 })) }),
    })
    if (up.status !== 200) throw new Error(`upload failed: ${up.status} ${up.body}`)
    const token = await new SignJWT({ document_id: 'bench-doc', permissions: ['read-document'], jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).setIssuedAt().setExpirationTime('1h').sign(privateKey)
    const folioPath = `${folioUrl}/i/d/bench-doc/document_info`
    const headers = { authorization: `Bearer ${token}` }
    const body = await httpJson(folioPath, { headers })
    if (body.status !== 200) throw new Error(`document_info: ${body.status} ${body.body}`)

    // The baseline answers the very same bytes with the same content type.
    bare = spawn(process.execPath, ['-e', `
      const body = Buffer.from(process.env.BODY, 'base64')
      require('node:http').createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length })
        res.end(body)
      }).listen(0, '127.0.0.1', function () { console.log('listening on http://127.0.0.1:' + this.address().port) })
    `], { env: { PATH: process.env.PATH, BODY: body.body.toString('base64') }, stdio: ['ignore', 'pipe', 'inherit'] })
    const bareUrl = await waitForLine(bare, /listening on (http:\/\/\S+)/)

    // What else is measured, to tell the JWT's share from the rest: the same route on /api
    // (API token, same service and query) and a path under /i that ends after the JWT check (404).
    const targets = [
      { name: 'bare node:http', url: bareUrl, headers, expect: 200 },
      { name: 'Folio GET /i/d/:id/document_info (JWT)', url: folioPath, headers, expect: 200 },
      { name: 'Folio GET /api/documents/:id/document_info (API token)', url: `${folioUrl}/api/documents/bench-doc/document_info`, headers: { authorization: `Token token="${API_TOKEN}"` }, expect: 200 },
      { name: 'Folio GET /i/d/:id/unknown (JWT check, then 404, no database)', url: `${folioUrl}/i/d/bench-doc/unknown`, headers, expect: 404 },
    ]
    for (const t of targets) await load(t.url, t.headers, 1, t.expect) // warm-up: JIT, pools
    // Short slices, the targets taking turns, so that the load of other processes on a shared
    // machine falls on all of them alike; each target gets SECONDS × ROUNDS in total.
    const total = new Map<string, { ok: number; s: number }>(targets.map((t) => [t.name, { ok: 0, s: 0 }]))
    const slices = Math.max(1, Math.round((SECONDS * ROUNDS * 1000) / SLICE_MS))
    for (let i = 0; i < slices; i++) {
      for (const t of targets) {
        const x = await load(t.url, t.headers, SLICE_MS / 1000, t.expect)
        if (x.errors > 0) throw new Error(`${t.name}: ${x.errors} unexpected answers`)
        const acc = total.get(t.name)!
        acc.ok += x.rps * x.seconds
        acc.s += x.seconds
      }
    }
    const rate = (name: string) => total.get(name)!.ok / total.get(name)!.s
    const base = rate(targets[0]!.name)
    console.log(`${CONNECTIONS} connections, ${slices} turns of ${SLICE_MS} ms per target, LOG_LEVEL=${LOG_LEVEL}, database ${DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}:`)
    for (const t of targets) {
      const m = rate(t.name)
      console.log(`  ${t.name.padEnd(62)} ${m.toFixed(0).padStart(6)} req/s  ratio to bare ${(m / base).toFixed(2)}`)
    }
  } finally {
    if (bare) await stop(bare)
    await stop(folio)
    await rm(dataDir, { recursive: true, force: true })
  }
}

async function coldBench(): Promise<void> {
  console.log(`\nCold verification (cache off), ${COLD_N} distinct tokens per algorithm:`)
  console.log('  alg     | Folio one at a time | Folio 16 in flight | bare crypto.verify | one-at-a-time / bare')
  const policy = { maxLifetimeSeconds: 86_400, clockToleranceSeconds: 30 }
  for (const alg of JWT_ALGORITHMS) {
    const { privateKey, publicKey } = keysFor(alg)
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string
    const v = createJwtVerifier({ keyRing: createStaticKeyRing({ ...policy, publicKey: pem, algorithm: alg }), policy, cacheSize: 0 })
    const tokens = await Promise.all(Array.from({ length: COLD_N }, () =>
      new SignJWT({ document_id: 'd', permissions: ['read-document'], jti: randomUUID() })
        .setProtectedHeader({ alg }).setIssuedAt().setExpirationTime('1h').sign(privateKey)))
    for (const t of tokens.slice(0, 20)) await v.verify(t) // warm-up (key import, JIT)

    let t0 = performance.now()
    for (const t of tokens) await v.verify(t)
    const serial = COLD_N / ((performance.now() - t0) / 1000)

    t0 = performance.now()
    for (let i = 0; i < tokens.length; i += 16) await Promise.all(tokens.slice(i, i + 16).map((t) => v.verify(t)))
    const parallel = COLD_N / ((performance.now() - t0) / 1000)

    const hash = alg === 'EdDSA' ? null : `sha${alg.slice(2)}`
    const opts = alg.startsWith('PS') ? { key: publicKey, padding: 6, saltLength: Number(alg.slice(2)) / 8 } : alg.startsWith('ES') ? { key: publicKey, dsaEncoding: 'ieee-p1363' as const } : publicKey
    t0 = performance.now()
    for (const t of tokens) {
      const i = t.lastIndexOf('.')
      if (!cryptoVerify(hash, Buffer.from(t.slice(0, i)), opts, Buffer.from(t.slice(i + 1), 'base64url'))) throw new Error('bare verify failed')
    }
    const bare = COLD_N / ((performance.now() - t0) / 1000)
    const us = (x: number) => `${(1e6 / x).toFixed(0)} µs (${x.toFixed(0)}/s)`
    console.log(`  ${alg.padEnd(7)} | ${us(serial).padEnd(19)} | ${`${parallel.toFixed(0)}/s`.padEnd(18)} | ${us(bare).padEnd(18)} | ${(serial / bare).toFixed(2)}`)
  }

  const { privateKey, publicKey } = keysFor('ES256')
  const v = createJwtVerifier({ keyRing: createStaticKeyRing({ ...policy, publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string, algorithm: 'ES256' }), policy })
  const token = await new SignJWT({ document_id: 'd', permissions: ['read-document'] }).setProtectedHeader({ alg: 'ES256' }).setExpirationTime('1h').sign(privateKey)
  await v.verify(token)
  const n = 100_000
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await v.verify(token)
  const cached = n / ((performance.now() - t0) / 1000)
  console.log(`\nCached verification (same token, sha256 + LRU + revocation check + key check): ${(1e6 / cached).toFixed(2)} µs (${cached.toFixed(0)}/s)`)
}

// BENCH_ONLY=http or BENCH_ONLY=cold runs one part.
if (process.env.BENCH_ONLY !== 'cold') await httpBench()
if (process.env.BENCH_ONLY !== 'http') await coldBench()
