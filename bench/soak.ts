/**
 * bench/soak: does Folio's memory level off under a long mixed load, with no failed request?
 *
 *   npm run bench:soak                         # 10 minutes against PostgreSQL at 127.0.0.1:5432
 *   SOAK_SECONDS=60 npm run bench:soak         # a smoke run
 *   SOAK_DATABASE_URL=postgres://… SOAK_WORKERS=8 SOAK_STREAMS=20 npm run bench:soak
 *   SOAK_ENV='{"RENDER_CACHE_MEMORY_BYTES":"16777216","MALLOC_ARENA_MAX":"2"}' npm run bench:soak   # extra environment for Folio
 *
 * Folio runs as a child process in its default configuration on a scratch PostgreSQL database
 * (created and dropped here). The load, from SOAK_WORKERS loops and SOAK_STREAMS live streams:
 *   - JWT reads: `document_info` and cached page images (a viewer's requests);
 *   - renders at varied sizes (widths from a set of 60, any page), which fill the render cache;
 *   - annotation writes (which also reach every live stream);
 *   - uploads and deletes of small documents, and PDF downloads;
 *   - SSE streams on `/i/d/:id/events`, each reopened every 30 s.
 * Folio's RSS is sampled every 5 s (/proc/<pid>/status). The pass rule: the highest RSS of the
 * last 30 % of the run (the last 3 minutes of 10) at most 10 % above the RSS at 30 % of the
 * run (minute 3), and zero failed requests (any status other than the expected one, or an error).
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import postgres from 'postgres'
import { Agent, fetch as undiciFetch, type RequestInit } from 'undici'
import { makePdf } from '../test/helpers/pdf-fixtures.js'
import { highlightAt } from '../test/helpers/annotation-samples.js'
import { loadAverage } from './helpers/load.js'
import { startFolio } from './helpers/server.js'

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600)
const WORKERS = Number(process.env.SOAK_WORKERS ?? 8)
const STREAMS = Number(process.env.SOAK_STREAMS ?? 20)
const ADMIN_URL = process.env.SOAK_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const TOKEN = 'soak-token-0123456789abcdef0123456789abcdef'
const API = { authorization: `Token token="${TOKEN}"` }
const DOCS = 6
const PAGES = 12
const SAMPLE_MS = 5000

interface Tally { ok: number; failed: number; failures: string[] }

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'folio-soak-'))
  const dbName = `folio_soak_${process.pid}`
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${dbName}`)
  const dbUrl = new URL(ADMIN_URL)
  dbUrl.pathname = `/${dbName}`
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const folio = await startFolio({
    DATA_DIR: dir,
    DATABASE_URL: dbUrl.toString(),
    API_AUTH_TOKEN: TOKEN,
    JWT_ALGORITHM: 'ES256',
    JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    ...(JSON.parse(process.env.SOAK_ENV ?? '{}') as Record<string, string>),
  }, { stopSignal: 'SIGTERM' })
  const agent = new Agent({ connections: WORKERS + STREAMS + 4, keepAliveTimeout: 10_000 })
  const req = (path: string, init: RequestInit = {}) => undiciFetch(folio.url + path, { dispatcher: agent, ...init })
  const byOp = new Map<string, Tally>()
  const tally = (op: string) => {
    let t = byOp.get(op)
    if (!t) byOp.set(op, (t = { ok: 0, failed: 0, failures: [] }))
    return t
  }
  /** One request; its body is read whole (or discarded) so the connection is reused. */
  const call = async (op: string, path: string, init: RequestInit = {}, expect = 200): Promise<Buffer | undefined> => {
    const t = tally(op)
    try {
      const res = await req(path, init)
      const body = Buffer.from(await res.arrayBuffer())
      if (res.status === expect) {
        t.ok++
        return body
      }
      t.failed++
      if (t.failures.length < 5) t.failures.push(`${res.status} ${body.toString().slice(0, 200)}`)
    } catch (e) {
      t.failed++
      if (t.failures.length < 5) t.failures.push(String(e))
    }
    return undefined
  }

  try {
    const jwtFor = (documentId: string) => new SignJWT({ document_id: documentId, permissions: ['read-document', 'download', 'write'], jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).setIssuedAt().setExpirationTime('2h').sign(privateKey)
    const docs: Array<{ id: string; bearer: Record<string, string> }> = []
    for (let i = 0; i < DOCS; i++) {
      const id = `soak-${i}`
      const up = await call('setup', `/api/documents?document_id=${id}`, {
        method: 'POST', headers: { ...API, 'content-type': 'application/pdf' },
        body: makePdf({ pages: Array.from({ length: PAGES }, () => ({ width: 612, height: 792 })) }),
      })
      if (!up) throw new Error(`upload failed: ${byOp.get('setup')!.failures.join('; ')}`)
      docs.push({ id, bearer: { authorization: `Bearer ${await jwtFor(id)}` } })
    }
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!
    const widths = Array.from({ length: 60 }, (_, i) => 100 + i * 20)
    let uploads = 0

    const ops: Array<[number, () => Promise<unknown>]> = [
      [30, () => { const d = pick(docs); return call('jwt document_info', `/i/d/${d.id}/document_info`, { headers: d.bearer }) }],
      [25, () => { const d = pick(docs); return call('jwt cached page image', `/i/d/${d.id}/pages/0/image?width=400`, { headers: d.bearer }) }],
      [12, () => { const d = pick(docs); return call('render varied size', `/i/d/${d.id}/pages/${Math.floor(Math.random() * PAGES)}/image?width=${pick(widths)}`, { headers: d.bearer }) }],
      [15, () => {
        const d = pick(docs)
        return call('annotation write', `/api/documents/${d.id}/annotations`, {
          method: 'POST', headers: { ...API, 'content-type': 'application/json' },
          body: JSON.stringify({ content: highlightAt(Math.floor(Math.random() * PAGES), Math.floor(Math.random() * 700)) }),
        })
      }],
      [5, () => { const d = pick(docs); return call('pdf download', `/i/d/${d.id}/pdf`, { headers: d.bearer }) }],
      [3, async () => {
        const id = `soak-up-${uploads++}`
        const ok = await call('upload', `/api/documents?document_id=${id}`, {
          method: 'POST', headers: { ...API, 'content-type': 'application/pdf' },
          body: makePdf({ pages: Array.from({ length: 3 }, () => ({ width: 612, height: 792 })) }),
        })
        if (ok) await call('delete', `/api/documents/${id}`, { method: 'DELETE', headers: API })
      }],
    ]
    const totalWeight = ops.reduce((a, [w]) => a + w, 0)
    const nextOp = () => {
      let r = Math.random() * totalWeight
      for (const [w, f] of ops) if ((r -= w) < 0) return f
      return ops[0]![1]
    }

    const until = Date.now() + SECONDS * 1000
    const samples: Array<{ s: number; rss: number }> = []
    const t0 = Date.now()
    const sample = () => samples.push({ s: (Date.now() - t0) / 1000, rss: rssMb(folio.pid) })
    sample()
    const sampler = setInterval(sample, SAMPLE_MS)

    // Live streams: read until closed, reopened every 30 s (a viewer navigating).
    let streamEvents = 0
    const stream = async (i: number) => {
      while (Date.now() < until) {
        const d = docs[i % docs.length]!
        const ac = new AbortController()
        const timer = setTimeout(() => ac.abort(), Math.min(30_000, Math.max(1, until - Date.now())))
        const t = tally('live stream')
        try {
          const res = await req(`/i/d/${d.id}/events`, { headers: { ...d.bearer, accept: 'text/event-stream' }, signal: ac.signal })
          if (res.status !== 200) {
            t.failed++
            if (t.failures.length < 5) t.failures.push(`${res.status} ${await res.text()}`)
            await res.body?.cancel()
          } else {
            t.ok++
            for await (const chunk of res.body!) streamEvents += Buffer.from(chunk as Uint8Array).toString().split('\n\n').length - 1
          }
        } catch (e) {
          if (!ac.signal.aborted) {
            t.failed++
            if (t.failures.length < 5) t.failures.push(String(e))
          }
        } finally {
          clearTimeout(timer)
        }
      }
    }
    const worker = async () => {
      while (Date.now() < until) await nextOp()()
    }
    const minute = setInterval(() => {
      const last = samples.at(-1)!
      const n = [...byOp.values()].reduce((a, t) => a + t.ok, 0)
      console.log(`  ${last.s.toFixed(0).padStart(4)} s  RSS ${last.rss.toFixed(0)} MB  ${n} requests  load ${loadAverage()}`)
    }, 60_000)
    console.log(`bench/soak: ${SECONDS} s, ${WORKERS} request loops + ${STREAMS} live streams, Folio ${process.env.SOAK_ENV ? `with ${process.env.SOAK_ENV}` : 'default configuration'} on PostgreSQL, load average ${loadAverage()}`)
    await Promise.all([...Array.from({ length: WORKERS }, worker), ...Array.from({ length: STREAMS }, (_, i) => stream(i))])
    clearInterval(sampler)
    clearInterval(minute)
    sample()

    const metrics = await call('metrics', '/metrics', { headers: API })
    const at = (frac: number) => samples.reduce((best, x) => (Math.abs(x.s - SECONDS * frac) < Math.abs(best.s - SECONDS * frac) ? x : best))
    const ref = at(0.3)
    const tail = samples.filter((x) => x.s >= SECONDS * 0.7)
    const tailMax = Math.max(...tail.map((x) => x.rss))
    const failed = [...byOp.entries()].filter(([op]) => op !== 'setup' && op !== 'metrics').reduce((a, [, t]) => a + t.failed, 0)
    const requests = [...byOp.values()].reduce((a, t) => a + t.ok + t.failed, 0)
    console.log(`\nRSS over time (MB), every ${SECONDS >= 300 ? 30 : 5} s:`)
    const step = SECONDS >= 300 ? 30 : 5
    console.log(samples.filter((x, i) => i === 0 || Math.round(x.s) % step < SAMPLE_MS / 1000).map((x) => `${x.s.toFixed(0)}s:${x.rss.toFixed(0)}`).join(' '))
    console.log('\n| operation | ok | failed |\n|---|---|---|')
    for (const [op, t] of byOp) console.log(`| ${op} | ${t.ok} | ${t.failed} |${t.failures.length ? ' ' + t.failures.join(' / ') : ''}`)
    console.log(`\nrequests ${requests}, failed ${failed}, stream events received ${streamEvents}, load average ${loadAverage()}`)
    console.log(`RSS at ${ref.s.toFixed(0)} s (30 % of the run): ${ref.rss.toFixed(0)} MB; highest in the last 30 %: ${tailMax.toFixed(0)} MB → ${((tailMax / ref.rss - 1) * 100).toFixed(1)} % (goal ≤ 10 %)`)
    if (metrics) {
      const lines = metrics.toString().split('\n').filter((l) => /^folio_(cache|render_cache|jwt_cache|sse|http_requests_in_flight)|^nodejs_heap_size_used_bytes|^process_resident/.test(l))
      console.log(`\nCache and memory gauges at the end:\n${lines.join('\n')}`)
    }
    console.log(`\nverdict: ${tailMax <= ref.rss * 1.1 && failed === 0 ? 'PASS' : 'FAIL'} (RSS ${tailMax <= ref.rss * 1.1 ? 'levels off' : 'still grows'}, ${failed} failed requests)`)
  } finally {
    await agent.close()
    await folio.stop()
    await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => {})
    await admin.end()
    await rm(dir, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
