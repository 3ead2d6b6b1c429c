/**
 * bench/revocation (issue #4): what 100,000 active revocations cost per request, against the
 * same request with none, in the same run. The goal is ≤ 2 %.
 *
 *   npm run bench:revocation                    # embedded database
 *   BENCH_ROUNDS=5 BENCH_SECONDS=5 npm run bench:revocation
 *
 * Part 1, the check itself: `RevocationCheck.isRevoked` (what JWT verification calls, issue #3)
 * on an index with 0 and with 100,000 revocations (25,000 of each kind), next to the RS256
 * signature check every JWT request pays anyway, and the sha256 of the token that TokenFacts needs.
 *
 * Part 2, HTTP: two Folio processes side by side, measured in alternating rounds so drift on the
 * shared machine hits both alike: first both empty (A/A), then with 100,000 revocations in B
 * (loaded through POST /api/revoke). Reported: throughput, and the server's own CPU time per
 * request, which the neighbours' load disturbs less. The request is an authorized server API
 * request with one database read (GET /api/documents/:id/properties).
 * When the client surface of issue #3 answers, the request is JWT-authorized instead
 * (`GET /i/d/:id/document_info` with a Bearer token signed by a key added through
 * /api/secrets/jwt), which consults the revocation index; the bench detects it. Before that, the
 * server API request shows only what holding 100,000 revocations costs the process (GC, memory).
 */
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TokenFacts } from '../src/auth/keys.js'
import { RevocationIndex, type RevocationKind } from '../src/revocations/cache.js'
import { makePdf } from '../test/helpers/pdf-fixtures.js'
import { loadAverage, processCpuSeconds, shoot } from './helpers/load.js'
import { startFolio as startChildFolio, type ChildServer } from './helpers/server.js'

const TOKEN = 'bench-token-0123456789abcdef0123456789abcdef'
const N_REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 100_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2)
const CONCURRENCY = 16
const N_LABEL = N_REVOCATIONS.toLocaleString('en')
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')

// ---------------------------------------------------------------- part 1: the check itself

function nsPerOp(iterations: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(iterations, 100_000); i++) fn(i) // warm up
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) fn(i)
  return Number(process.hrtime.bigint() - t0) / iterations
}

function fullIndex(n: number): RevocationIndex {
  const idx = new RevocationIndex(() => Date.now())
  const kinds: RevocationKind[] = ['token', 'jti', 'document_id', 'user_id']
  const until = Date.now() + 86_400_000
  for (let i = 0; i < n; i++) {
    const kind = kinds[i % 4]!
    const value = kind === 'token' ? createHash('sha256').update(`t${i}`).digest('hex') : `${kind}-${i}`
    idx.add({ id: i + 1, kind, value, issuedBeforeMs: kind === 'document_id' || kind === 'user_id' ? Date.now() : null, expiresAtMs: until })
  }
  return idx
}

function partOne(): void {
  const facts: TokenFacts[] = Array.from({ length: 4096 }, (_, i) => ({
    tokenHash: createHash('sha256').update(`live-${i}`).digest('hex'),
    jti: `live-jti-${i}`,
    documentId: `live-doc-${i % 50}`,
    userId: `live-user-${i % 200}`,
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 600,
  }))
  const empty = new RevocationIndex(() => Date.now())
  global.gc?.()
  const heap0 = process.memoryUsage().heapUsed
  const t0 = performance.now()
  const full = fullIndex(N_REVOCATIONS)
  const buildMs = performance.now() - t0
  global.gc?.()
  const heapMb = (process.memoryUsage().heapUsed - heap0) / 1048576
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const input = Buffer.from(`${b64({ alg: 'RS256' })}.${b64({ document_id: 'd', exp: 2e9 })}`)
  const sig = sign('sha256', input, privateKey)
  const jwt = `${input}.${sig.toString('base64url')}`

  const rounds = 5
  const e: number[] = []
  const f: number[] = []
  for (let r = 0; r < rounds; r++) {
    e.push(nsPerOp(1_000_000, (i) => empty.isRevoked(facts[i & 4095]!)))
    f.push(nsPerOp(1_000_000, (i) => full.isRevoked(facts[i & 4095]!)))
  }
  const hash = nsPerOp(200_000, () => createHash('sha256').update(jwt).digest('hex'))
  const rs256 = nsPerOp(2000, () => verify('sha256', input, publicKey, sig))
  const extra = median(f) - median(e)
  console.log('\npart 1: RevocationCheck.isRevoked, a token that is not revoked (median of 5 × 1,000,000 calls)')
  console.log(`  0 revocations:        ${median(e).toFixed(1)} ns/check`)
  console.log(`  ${N_LABEL} revocations:  ${median(f).toFixed(1)} ns/check   (index built in ${buildMs.toFixed(0)} ms, ${heapMb.toFixed(0)} MB of heap)`)
  console.log(`  sha256 of the token:  ${hash.toFixed(0)} ns        RS256 signature check: ${(rs256 / 1000).toFixed(1)} µs`)
  console.log(`  ${N_LABEL} vs 0 revocations, per JWT request: +${extra.toFixed(1)} ns = ${((extra / rs256) * 100).toFixed(3)} % of the RS256 check alone`)
}

// ---------------------------------------------------------------- part 2: HTTP

type Server = ChildServer

const startFolio = (dataDir: string) => startChildFolio({ DATA_DIR: dataDir, API_AUTH_TOKEN: TOKEN })

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })

const API_AUTH = `Token token="${TOKEN}"`

function call(url: string, method: string, path: string, body?: Buffer | string, type = 'application/json', auth = API_AUTH): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent, headers: { authorization: auth, ...(body ? { 'content-type': type, 'content-length': Buffer.byteLength(body) } : {}) } }, (res) => {
      let text = ''
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode!, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

interface Round { requests: number; rps: number; cpu: number }

/**
 * Requests per second over SECONDS from autocannon with CONCURRENCY connections (bench/helpers/
 * load.ts; every answer must be 200), and the server's own CPU time meanwhile: on a shared
 * machine throughput swings with the neighbours' load, while CPU per request measures what the
 * server itself spends.
 */
async function throughput(s: Server, target: Target): Promise<Round> {
  const cpu0 = processCpuSeconds(s.pid)
  const r = await shoot({ name: target.label, url: s.url + target.path, headers: { authorization: target.auth(0) } }, { connections: CONCURRENCY, seconds: SECONDS })
  if (r.bad > 0) throw new Error(`${target.label}: ${r.bad} unexpected answers`)
  return { requests: r.rps * SECONDS, rps: r.rps, cpu: processCpuSeconds(s.pid) - cpu0 }
}

async function rssMb(pid: number): Promise<number> {
  return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) / 1024
}

interface Phase { none: Round[]; many: Round[] }

/** What each request asks: its path, and its Authorization per client connection. */
interface Target { path: string; auth(connection: number): string; label: string }

/**
 * A JWT-authorized request when the client surface exists (issue #3 merged): a key is added
 * through the secrets API and each connection signs its own token (real clients reuse theirs,
 * so the verifier's cache sees what it sees in production). Until then, the server API route.
 */
async function targetOn(s: Server): Promise<Target> {
  const up = await call(s.url, 'POST', '/api/documents', makePdf(), 'application/pdf')
  const id = JSON.parse(up.text).data.document_id as string
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const rotated = await call(s.url, 'POST', '/api/secrets/jwt/rotate', JSON.stringify({ secret: publicKey.export({ type: 'spki', format: 'pem' }) }))
  if (rotated.status !== 200) throw new Error(rotated.text)
  const now = Math.floor(Date.now() / 1000)
  const tokens = Array.from({ length: CONCURRENCY }, (_, c) => {
    const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ document_id: id, permissions: ['read-document'], iat: now, exp: now + 3600, jti: `client-${c}`, user_id: `user-${c}` })}`
    return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
  })
  const jwtPath = `/i/d/${id}/document_info`
  const probe = await call(s.url, 'GET', jwtPath, undefined, undefined, `Bearer ${tokens[0]}`)
  if (probe.status === 200) return { path: jwtPath, auth: (c) => `Bearer ${tokens[c]}`, label: `GET ${jwtPath.replace(id, ':id')} with a JWT (RS256)` }
  return { path: `/api/documents/${id}/properties`, auth: () => API_AUTH, label: 'GET /api/documents/:id/properties with the API token (no JWT route yet: issue #3)' }
}

/** ROUNDS alternating rounds on both servers, after one warm-up round each. */
async function measure(none: Server, many: Server, targets: Target[]): Promise<Phase> {
  const p: Phase = { none: [], many: [] }
  await throughput(none, targets[0]!)
  await throughput(many, targets[1]!)
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so neither always follows the other's load.
    const order = r % 2 === 0 ? (['none', 'many'] as const) : (['many', 'none'] as const)
    for (const k of order) p[k].push(await throughput(k === 'none' ? none : many, targets[k === 'none' ? 0 : 1]!))
  }
  return p
}

const rps = (xs: Round[]) => median(xs.map((x) => x.rps))
const cpuUs = (xs: Round[]) => (xs.reduce((t, x) => t + x.cpu, 0) / xs.reduce((t, x) => t + x.requests, 0)) * 1e6

function report(label: string, p: Phase): { rps: number; cpu: number } {
  console.log(`  ${label}`)
  for (const k of ['none', 'many'] as const) {
    console.log(`    server ${k === 'none' ? 'A' : 'B'}: ${rps(p[k]).toFixed(0)} req/s median (rounds: ${p[k].map((x) => x.rps.toFixed(0)).join(', ')}); CPU ${cpuUs(p[k]).toFixed(0)} µs/request`)
  }
  const r = { rps: rps(p.many) / rps(p.none), cpu: cpuUs(p.many) / cpuUs(p.none) }
  console.log(`    B/A: throughput ${r.rps.toFixed(3)}, CPU per request ${r.cpu.toFixed(3)}`)
  return r
}

/**
 * Two identical servers A and B are first measured as they are (an A/A comparison: the two
 * processes differ by placement and start order alone); then B gets 100,000 revocations and both
 * are measured again. The cost is how much B/A changed, so a bias between the two processes
 * (measured at ~5 % on this machine) does not count as revocation cost.
 */
async function partTwo(dir: string): Promise<void> {
  const none = await startFolio(join(dir, 'a'))
  const many = await startFolio(join(dir, 'b'))
  try {
    const targets = [await targetOn(none), await targetOn(many)]
    console.log(`\npart 2: HTTP, ${targets[0]!.label}, generator autocannon ${CONCURRENCY} connections, ${ROUNDS} alternating rounds of ${SECONDS} s per server and phase, Folio LOG_LEVEL=${process.env.BENCH_LOG_LEVEL ?? 'info (default)'}, load average ${loadAverage()}`)
    const before = report('both servers with 0 revocations (A/A):', await measure(none, many, targets))

    const t0 = performance.now()
    const exp = Math.floor(Date.now() / 1000) + 3600
    for (let batch = 0; batch < N_REVOCATIONS / 1000; batch++) {
      // Half revoked by jti, half (no jti) by the token itself: two of the index's four maps filled.
      const jwts = Array.from({ length: 1000 }, (_, i) => `${b64({ alg: 'RS256' })}.${b64(i % 2 ? { jti: `bench-${batch}-${i}`, exp } : { n: `${batch}-${i}`, exp })}.c2ln`)
      const r = await call(many.url, 'POST', '/api/revoke', JSON.stringify({ jwts }))
      if (r.status !== 200) throw new Error(r.text)
    }
    console.log(`  ${N_LABEL} revocations loaded into B through POST /api/revoke in ${((performance.now() - t0) / 1000).toFixed(1)} s; RSS A ${(await rssMb(none.pid)).toFixed(0)} MB, B ${(await rssMb(many.pid)).toFixed(0)} MB`)
    const after = report(`A with 0, B with ${N_LABEL} revocations:`, await measure(none, many, targets))
    const change = (x: number, y: number) => `${y / x - 1 >= 0 ? '+' : ''}${((y / x - 1) * 100).toFixed(1)} %`
    console.log(`  B/A after vs before the revocations: throughput ${change(before.rps, after.rps)}, CPU per request ${change(before.cpu, after.cpu)}`)
    console.log('  (goal: a cost ≤ 2 %, i.e. throughput not below -2 % and CPU per request not above +2 %)')
  } finally {
    await Promise.all([none.stop(), many.stop()])
    agent.destroy()
  }
}

async function main() {
  console.log(`bench/revocation: Node ${process.version}, embedded database`)
  partOne()
  const dir = await mkdtemp(join(tmpdir(), 'folio-bench-revocation-'))
  try {
    await partTwo(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
