/**
 * bench/annotations (issue #5): annotation writes per second, single and in batches of 100,
 * over HTTP into a real Folio, against a raw parameterised INSERT loop on the same database in
 * the same run; and the export time of a 100-page document with 1,000 annotations against a
 * plain download of the same file.
 *
 *   npm run bench:annotations                 # PostgreSQL at DATABASE_URL or 127.0.0.1:5432
 *   BENCH_DB=pglite npm run bench:annotations # the embedded database
 *   BENCH_SINGLES=500 BENCH_BATCHES=20 BENCH_RUNS=3 npm run bench:annotations
 *
 * Each Folio write is a transaction that validates the content, takes the document's change
 * counter, inserts the row and its change-log row and notifies listeners; the baseline is one
 * INSERT of the same row shape per annotation (autocommit), and 100 INSERTs in one transaction.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { buildApp, type FolioApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { highlightAt, SAMPLES } from '../test/helpers/annotation-samples.js'
import { makePdf } from '../test/helpers/pdf-fixtures.js'

const TOKEN = 'bench-token-0123456789abcdef0123456789abcdef'
const H = { authorization: `Token token="${TOKEN}"` }
const SINGLES = Number(process.env.BENCH_SINGLES ?? 500)
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const KIND = process.env.BENCH_DB === 'pglite' ? 'pglite' : 'postgres'
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function post(url: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}/api${path}`, { method: 'POST', headers: { ...H, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  await res.arrayBuffer()
}

async function upload(url: string, id: string, pages: number): Promise<void> {
  const res = await fetch(`${url}/api/documents?document_id=${id}`, {
    method: 'POST',
    headers: { ...H, 'content-type': 'application/pdf' },
    body: makePdf({ pages: Array.from({ length: pages }, () => ({})) }),
  })
  if (res.status !== 200) throw new Error(`upload: ${res.status} ${await res.text()}`)
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

/** Baseline: the same row shape inserted with plain parameterised SQL through the same adapter. */
async function baseline(app: FolioApp, count: number, perTx: number): Promise<number> {
  const db = app.db
  await db.query(`create table if not exists bench_raw (document_id text, layer text, id text, page_index int, content jsonb,
    created_by text, updated_by text, version int, created_at timestamptz, updated_at timestamptz, primary key (document_id, layer, id))`)
  await db.query('truncate bench_raw')
  const content = highlightAt(0, 100)
  let n = 0
  const insert = (q: { query(text: string, params?: unknown[]): Promise<unknown> }) => {
    const at = new Date().toISOString()
    return q.query(
      `insert into bench_raw (document_id, layer, id, page_index, content, created_by, updated_by, version, created_at, updated_at)
       values ($1, '', $2, 0, $3::text::jsonb, null, null, 1, $4, $4)`,
      ['doc', `r${n++}`, JSON.stringify(content), at],
    )
  }
  return timed(async () => {
    for (let done = 0; done < count; done += perTx) {
      if (perTx === 1) await insert(db)
      else await db.transaction(async (tx) => { for (let i = 0; i < perTx; i++) await insert(tx) })
    }
  })
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'folio-bench-annotations-'))
  const dbName = `folio_bench_${process.pid}`
  let admin: postgres.Sql | undefined
  let app: FolioApp | undefined
  try {
    const env: Record<string, string> = { DATA_DIR: dir, API_AUTH_TOKEN: TOKEN, LOG_LEVEL: 'warn', PORT: '0', HOST: '127.0.0.1' }
    if (KIND === 'postgres') {
      admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
      await admin.unsafe(`create database ${dbName}`)
      const u = new URL(ADMIN_URL)
      u.pathname = `/${dbName}`
      env.DATABASE_URL = u.toString()
    }
    app = await buildApp(loadConfig(env))
    const url = await app.listen()
    console.log(`bench/annotations on ${KIND}; Node ${process.version}; ${RUNS} runs, median shown`)

    // Writes: single annotations, then batches of 100; baselines alternate with them.
    await upload(url, 'w', 2)
    const singles = { folio: [] as number[], raw: [] as number[] }
    const batches = { folio: [] as number[], raw: [] as number[], rawTx: [] as number[] }
    for (let run = 0; run < RUNS; run++) {
      singles.raw.push(await baseline(app, SINGLES, 1))
      singles.folio.push(await timed(async () => {
        for (let i = 0; i < SINGLES; i++) await post(url, '/documents/w/annotations', { content: highlightAt(i % 2, (i * 7) % 700) })
      }))
      batches.rawTx.push(await baseline(app, BATCHES * 100, 100))
      batches.raw.push(await baseline(app, BATCHES * 100, 1))
      batches.folio.push(await timed(async () => {
        for (let b = 0; b < BATCHES; b++) {
          await post(url, '/documents/w/annotations', { annotations: Array.from({ length: 100 }, (_, i) => ({ content: highlightAt(i % 2, (i * 7) % 700) })) })
        }
      }))
    }
    const rate = (count: number, ms: number) => count / (ms / 1000)
    const sRaw = rate(SINGLES, median(singles.raw))
    const sFolio = rate(SINGLES, median(singles.folio))
    const bRaw = rate(BATCHES * 100, median(batches.raw))
    const bRawTx = rate(BATCHES * 100, median(batches.rawTx))
    const bFolio = rate(BATCHES * 100, median(batches.folio))
    console.log('\nwrites                       | annotations/s | baseline/s (raw INSERT loop) | ratio')
    console.log(`single (1 per request)       | ${sFolio.toFixed(0).padStart(13)} | ${sRaw.toFixed(0).padStart(28)} | ${(sFolio / sRaw).toFixed(2)}`)
    console.log(`batch of 100 (per request)   | ${bFolio.toFixed(0).padStart(13)} | ${bRaw.toFixed(0).padStart(28)} | ${(bFolio / bRaw).toFixed(2)}`)
    console.log(`  vs 100 INSERTs in one tx   |               | ${bRawTx.toFixed(0).padStart(28)} | ${(bFolio / bRawTx).toFixed(2)}`)

    // Export: a 100-page document with 1,000 annotations of every type (10 per page).
    await upload(url, 'big', 100)
    const kinds = Object.values(SAMPLES)
    for (let b = 0; b < 10; b++) {
      const annotations = Array.from({ length: 100 }, (_, i) => {
        const k = b * 100 + i
        return { content: { ...kinds[k % kinds.length], pageIndex: Math.floor(k / 10) } }
      })
      await post(url, '/documents/big/annotations', { annotations })
    }
    const download = async (q: string) => {
      const res = await fetch(`${url}/api/documents/big/pdf${q}`, { headers: H })
      if (res.status !== 200) throw new Error(`pdf${q}: ${res.status}`)
      return (await res.arrayBuffer()).byteLength
    }
    const times: Record<string, number[]> = { source: [], export: [], flatten: [] }
    let sizes: Record<string, number> = {}
    for (let run = 0; run < RUNS; run++) {
      for (const [name, q] of [['source', '?source=true'], ['export', ''], ['flatten', '?flatten=true']] as const) {
        let size = 0
        times[name]!.push(await timed(async () => void (size = await download(q))))
        sizes = { ...sizes, [name]: size }
      }
    }
    const src = median(times.source!)
    console.log('\nexport of 100 pages, 1,000 annotations | ms     | bytes    | ratio to plain download')
    for (const name of ['source', 'export', 'flatten']) {
      const ms = median(times[name]!)
      console.log(`${name.padEnd(38)} | ${ms.toFixed(1).padStart(6)} | ${String(sizes[name]).padStart(8)} | ${(ms / src).toFixed(1)}`)
    }
  } finally {
    await app?.close()
    if (admin) {
      await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => {})
      await admin.end()
    }
    await rm(dir, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
