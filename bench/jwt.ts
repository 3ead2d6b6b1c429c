/**
 * bench/jwt: what a client JWT request costs, against the runtime's own limit.
 *
 *   npm run bench:jwt
 *   BENCH_SECONDS=4 BENCH_ROUNDS=5 BENCH_CONNECTIONS=32 npm run bench:jwt
 *
 * 1. HTTP, through the shared harness (bench/helpers/load.ts: autocannon, generator check,
 *    interleaved rounds, medians with spread). Folio runs as a child process in its default
 *    configuration (log level info) on the embedded database, or on BENCH_DATABASE_URL
 *    (a scratch PostgreSQL database). Two groups, each against its own bare `node:http` server
 *    answering the same bytes with the same content type:
 *    - JSON: `GET /i/d/:id/document_info` with an ES256 token (verified once, then served from
 *      the verification cache), the same route on /api with the API token, and the JWT route of
 *      a second Folio with logging off (LOG_LEVEL=silent) beside it (BENCH_LOG_OFF=0 skips it);
 *    - cached page image: `GET /i/d/:id/pages/0/image?width=400` (JWT) and the /api twin.
 *    BENCH_ONLY=http or BENCH_ONLY=cold runs one part.
 * 2. Cold (uncached) verification per algorithm through Folio's verifier (jose), one at a time
 *    and 16 in flight, against a bare `crypto.verify` of the same signature as baseline; and the
 *    cached path.
 */
import { generateKeyPairSync, randomUUID, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import { createJwtVerifier } from '../src/auth/jwt.js'
import { createStaticKeyRing } from '../test/helpers/static-key-ring.js'
import { JWT_ALGORITHMS, type JwtAlgorithm } from '../src/config.js'
import { makePdf } from '../test/helpers/pdf-fixtures.js'
import { checkSaturation, header, shoot, interleave, loadOptionsFromEnv, startBareServer, table, type Target } from './helpers/load.js'
import { startFolio, type ChildServer } from './helpers/server.js'

const API_TOKEN = 'bench-token-0123456789abcdef0123456789abcdef'
const COLD_N = Number(process.env.BENCH_COLD_N ?? 300)
/** A PostgreSQL URL for Folio (a scratch database); unset → embedded PGlite. */
const DATABASE_URL = process.env.BENCH_DATABASE_URL
const LOG_OFF = process.env.BENCH_LOG_OFF !== '0'
const COMPARE_MAIN = process.env.BENCH_COMPARE_MAIN

function keysFor(alg: JwtAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg.startsWith('RS') || alg.startsWith('PS')) return generateKeyPairSync('rsa', { modulusLength: 2048 })
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519')
  return generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg as 'ES256'] })
}

export function httpGet(url: string, init: { method?: string; headers?: Record<string, string>; body?: Uint8Array } = {}): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), headers: res.headers }))
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

async function startBenchFolio(dataDir: string, publicKey: KeyObject, env: Record<string, string> = {}, main?: string): Promise<ChildServer> {
  return startFolio({
    DATA_DIR: dataDir,
    API_AUTH_TOKEN: API_TOKEN,
    JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    JWT_ALGORITHM: 'ES256',
    ...(DATABASE_URL ? { DATABASE_URL } : {}),
    ...env,
  }, { main })
}

async function upload(folio: ChildServer): Promise<void> {
  const up = await httpGet(`${folio.url}/api/documents?document_id=bench-doc`, {
    method: 'POST',
    headers: { authorization: `Token token="${API_TOKEN}"`, 'content-type': 'application/pdf' },
    body: makePdf({ pages: Array.from({ length: 10 }, () => ({ width: 612, height: 792 })) }),
  })
  // 409: the document is already there (a second Folio on the same PostgreSQL database).
  if (up.status !== 200 && up.status !== 409) throw new Error(`upload failed: ${up.status} ${up.body}`)
}

async function httpBench(): Promise<void> {
  const o = loadOptionsFromEnv()
  const { privateKey, publicKey } = keysFor('ES256')
  const dirs: string[] = []
  const servers: ChildServer[] = []
  const start = async (env: Record<string, string> = {}, main?: string) => {
    const d = await mkdtemp(join(tmpdir(), 'folio-bench-jwt-'))
    dirs.push(d)
    const s = await startBenchFolio(d, publicKey, env, main)
    servers.push(s)
    await upload(s)
    return s
  }
  try {
    const folio = await start()
    const quiet = LOG_OFF ? await start({ LOG_LEVEL: 'silent' }) : undefined
    // BENCH_COMPARE_MAIN=<another build's dist/src/main.js>: that build too, in the same rounds.
    const other = COMPARE_MAIN ? await start({}, COMPARE_MAIN) : undefined
    const token = await new SignJWT({ document_id: 'bench-doc', permissions: ['read-document'], jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).setIssuedAt().setExpirationTime('1h').sign(privateKey)
    const jwt = { authorization: `Bearer ${token}` }
    const api = { authorization: `Token token="${API_TOKEN}"` }
    const info = await httpGet(`${folio.url}/i/d/bench-doc/document_info`, { headers: jwt })
    if (info.status !== 200) throw new Error(`document_info: ${info.status} ${info.body}`)
    const image = await httpGet(`${folio.url}/i/d/bench-doc/pages/0/image?width=400`, { headers: jwt })
    if (image.status !== 200) throw new Error(`page image: ${image.status} ${image.body}`)
    for (const s of servers) await httpGet(`${s.url}/api/documents/bench-doc/pages/0/image?width=400`, { headers: api }) // fills each cache

    const bareJson = await startBareServer(info.body, { 'content-type': String(info.headers['content-type']) })
    servers.push(bareJson)
    const bareImage = await startBareServer(image.body, { 'content-type': String(image.headers['content-type']), etag: String(image.headers.etag), 'cache-control': String(image.headers['cache-control']) })
    servers.push(bareImage)

    const db = DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'
    const json: Target[] = [
      { name: 'bare node:http (same JSON)', url: bareJson.url },
      { name: 'Folio JWT GET /i/d/:id/document_info', url: `${folio.url}/i/d/bench-doc/document_info`, headers: jwt },
      { name: 'Folio API token GET /api/documents/:id/document_info', url: `${folio.url}/api/documents/bench-doc/document_info`, headers: api },
      ...(quiet ? [{ name: 'Folio JWT document_info, LOG_LEVEL=silent', url: `${quiet.url}/i/d/bench-doc/document_info`, headers: jwt }] : []),
      ...(other ? [
        { name: 'compared build: JWT document_info', url: `${other.url}/i/d/bench-doc/document_info`, headers: jwt },
        { name: 'compared build: API token document_info', url: `${other.url}/api/documents/bench-doc/document_info`, headers: api },
      ] : []),
    ]
    console.log((await checkSaturation(bareJson, json[0]!, o)).text)
    let r = await interleave(json, o)
    console.log(`\n### document_info (${info.body.length} B JSON): ${header(o, `Folio LOG_LEVEL=${process.env.BENCH_LOG_LEVEL ?? 'info (default)'}, database ${db}`)}\n`)
    console.log(table(json, r))

    const img: Target[] = [
      { name: `bare node:http (same ${image.body.length} B PNG)`, url: bareImage.url },
      { name: 'Folio JWT GET /i/d/:id/pages/0/image?width=400 (cached)', url: `${folio.url}/i/d/bench-doc/pages/0/image?width=400`, headers: jwt },
      { name: 'Folio API token GET /api/documents/:id/pages/0/image?width=400 (cached)', url: `${folio.url}/api/documents/bench-doc/pages/0/image?width=400`, headers: api },
      ...(quiet ? [{ name: 'Folio JWT page image, LOG_LEVEL=silent', url: `${quiet.url}/i/d/bench-doc/pages/0/image?width=400`, headers: jwt }] : []),
      ...(other ? [{ name: 'compared build: JWT page image', url: `${other.url}/i/d/bench-doc/pages/0/image?width=400`, headers: jwt }] : []),
    ]
    console.log('\n' + (await checkSaturation(bareImage, img[0]!, o)).text)
    r = await interleave(img, o)
    console.log(`\n### cached page image: ${header(o, `Folio LOG_LEVEL=${process.env.BENCH_LOG_LEVEL ?? 'info (default)'}, database ${db}`)}\n`)
    console.log(table(img, r))
  } finally {
    for (const s of servers.reverse()) await s.stop()
    for (const d of dirs) await rm(d, { recursive: true, force: true })
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

/**
 * BENCH_ONLY=profile: one Folio per route under --cpu-prof, loaded for BENCH_SECONDS × 3, its
 * profile written to BENCH_PROFILE_DIR (default ./bench-profiles) when it exits; open the
 * .cpuprofile in Chrome DevTools or any speedscope-like viewer.
 */
async function profileBench(): Promise<void> {
  const o = loadOptionsFromEnv()
  const outDir = process.env.BENCH_PROFILE_DIR ?? join(process.cwd(), 'bench-profiles')
  const { privateKey, publicKey } = keysFor('ES256')
  const token = await new SignJWT({ document_id: 'bench-doc', permissions: ['read-document'], jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).setIssuedAt().setExpirationTime('1h').sign(privateKey)
  const jwt = { authorization: `Bearer ${token}` }
  for (const [name, path] of [['document-info', '/i/d/bench-doc/document_info'], ['page-image', '/i/d/bench-doc/pages/0/image?width=400']] as const) {
    const dir = await mkdtemp(join(tmpdir(), 'folio-bench-prof-'))
    const folio = await startFolio({
      DATA_DIR: dir, API_AUTH_TOKEN: API_TOKEN, JWT_ALGORITHM: 'ES256',
      JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }) as string,
      ...(DATABASE_URL ? { DATABASE_URL } : {}),
    }, { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', outDir, '--cpu-prof-name', `${name}.cpuprofile`] })
    try {
      await upload(folio)
      const t: Target = { name, url: folio.url + path, headers: jwt }
      await shoot(t, { connections: o.connections, seconds: 1 })
      const s = await shoot(t, { connections: o.connections, seconds: o.seconds * 3 })
      console.log(`${name}: ${s.rps.toFixed(0)} req/s under the profiler → ${join(outDir, `${name}.cpuprofile`)}`)
    } finally {
      await folio.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

// BENCH_ONLY=http, BENCH_ONLY=cold or BENCH_ONLY=profile runs one part.
const only = process.env.BENCH_ONLY
if (only === 'profile') await profileBench()
else {
  if (only !== 'cold') await httpBench()
  if (only !== 'http') await coldBench()
}
