/**
 * bench/render (issue #6), two comparisons, each against a baseline measured in the same run:
 *
 *  1. Render time of pages of a real multi-page PDF at 150 dpi (1275 px wide for Letter):
 *     a. what a client gets: Folio's HTTP render to PNG (disk cache off, document already open in
 *        a worker) against `pdftoppm -png` of the same page at the same size (one process per
 *        page, as a server shelling out to poppler would do);
 *     b. the engines alone, in one warm process each: Folio's worker pool producing raw pixels
 *        for pages 1–N against `pdftoppm -r 150 -f 1 -l N` writing PPM (no PNG encoding).
 *  2. Cached-page throughput: Folio serving an already-rendered page (auth, database lookup,
 *     disk cache, ETag) against a bare `node:http` server answering the same bytes from memory,
 *     same client, same concurrency, interleaved.
 *
 *   npm run bench:render
 *   BENCH_PDF=/path/file.pdf BENCH_PAGES=11,51,101 BENCH_SECONDS=5 npm run bench:render
 *
 * The PDF defaults to Debian's gnuplot manual (`apt-get install gnuplot-doc`, 311 pages,
 * pdfTeX); without it, a generated 40-page text PDF is used and the output says so.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createLogger } from '../src/log.js'
import { PdfWorkPool } from '../src/workers/pool.js'
import { makePdf } from '../test/helpers/pdf-fixtures.js'
import { checkSaturation, header, interleave, loadOptionsFromEnv, median, startBareServer, table, type Target } from './helpers/load.js'
import { startFolio as startChildFolio } from './helpers/server.js'

const run = promisify(execFile)
const TOKEN = 'bench-token-0123456789abcdef0123456789abcdef'
const GNUPLOT = '/usr/share/doc/gnuplot/gnuplot.pdf'
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16)
const RASTER_PAGES = Number(process.env.BENCH_RASTER_PAGES ?? 30)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)


async function sourcePdf(): Promise<{ bytes: Buffer; label: string; path?: string }> {
  const path = process.env.BENCH_PDF ?? (existsSync(GNUPLOT) ? GNUPLOT : undefined)
  if (path) return { bytes: await readFile(path), label: path, path }
  const lines = Array.from({ length: 40 }, (_, p) => ({ text: `Generated page ${p + 1}: ${'lorem ipsum dolor sit amet '.repeat(3)}` }))
  return { bytes: makePdf({ pages: lines }), label: 'generated 40-page PDF (install gnuplot-doc for the real one)' }
}


function startFolio(dataDir: string, extra: Record<string, string> = {}) {
  return startChildFolio({ DATA_DIR: dataDir, API_AUTH_TOKEN: TOKEN, ...extra })
}

function get(agent: Agent, url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

async function timeOne(agent: Agent, url: string): Promise<number> {
  const t = performance.now()
  const r = await get(agent, url, { authorization: `Token token="${TOKEN}"` })
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${r.body.toString().slice(0, 200)}`)
  return performance.now() - t
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'folio-bench-render-'))
  const src = await sourcePdf()
  const pdfPath = src.path ?? join(dir, 'source.pdf')
  if (!src.path) await (await import('node:fs/promises')).writeFile(pdfPath, src.bytes)
  const info = (await run('pdfinfo', [pdfPath])).stdout
  const pageCount = Number(/Pages:\s+(\d+)/.exec(info)![1])
  const pages = (process.env.BENCH_PAGES ?? '11,51,101,151,201').split(',').map(Number).filter((p) => p <= pageCount)
  const usedPages = pages.length > 0 ? pages : [1]
  console.log(`bench/render: ${src.label}, ${pageCount} pages; Node ${process.version}; ${availableParallelism()} cores; medians of ${RUNS}`)

  const folio = await startFolio(join(dir, 'data'), { RENDER_CACHE_MAX_BYTES: '0' })
  const agent = new Agent({ keepAlive: true })
  try {
    const up = await new Promise<string>((resolve, reject) => {
      const req = request(`${folio.url}/api/documents`, { method: 'POST', headers: { authorization: `Token token="${TOKEN}"`, 'content-type': 'application/pdf' } }, (res) => {
        let b = ''
        res.on('data', (d) => (b += d))
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(b).data.document_id) : reject(new Error(b))))
      })
      req.end(src.bytes)
    })
    const docInfo = JSON.parse((await get(agent, `${folio.url}/api/documents/${up}/document_info`, { authorization: `Token token="${TOKEN}"` })).body.toString()).data

    console.log('\n1a. one page to PNG at 150 dpi, as a client gets it (Folio: HTTP, cache off, document open in a worker; poppler: one pdftoppm -png process per page)')
    console.log('page | size px   | pdftoppm ms | folio ms | folio / pdftoppm')
    const ratios: number[] = []
    for (const p of usedPages) {
      const pg = docInfo.pages[p - 1]
      const width = Math.round((pg.width / 72) * 150)
      const height = Math.round((width * pg.height) / pg.width)
      const url = `${folio.url}/api/documents/${up}/pages/${p - 1}/image?width=${width}&format=png`
      await timeOne(agent, url) // the worker opens the document once
      const poppler: number[] = []
      const ours: number[] = []
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now()
        await run('pdftoppm', ['-png', '-f', String(p), '-l', String(p), '-scale-to-x', String(width), '-scale-to-y', String(height), '-singlefile', pdfPath, join(dir, 'pp')])
        poppler.push(performance.now() - t)
        ours.push(await timeOne(agent, url))
      }
      const ratio = median(ours) / median(poppler)
      ratios.push(ratio)
      console.log(`${String(p).padStart(4)} | ${`${width}×${height}`.padEnd(9)} | ${median(poppler).toFixed(1).padStart(11)} | ${median(ours).toFixed(1).padStart(8)} | ${ratio.toFixed(2)}`)
    }
    console.log(`median ratio: ${median(ratios).toFixed(2)} (goal ≤ 1.5)`)

    const n = Math.min(RASTER_PAGES, pageCount)
    console.log(`\n1b. engines alone, pages 1–${n} at 150 dpi, one warm process each (Folio: worker pool, raw RGB; poppler: pdftoppm -r 150 to PPM)`)
    const pool = new PdfWorkPool({ workers: 1, queueMax: 4, timeoutMs: { render: 60_000, pdf: 60_000 }, memoryBytes: 1024 * 1024 * 1024, log: createLogger('silent') })
    const task = (i: number) => {
      const pg = docInfo.pages[i]
      const width = Math.round((pg.width / 72) * 150)
      return pool.run('render', { pageIndex: i, width, height: Math.round((width * pg.height) / pg.width), annotations: true }, { docKey: 'bench', loadBytes: async () => Buffer.from(src.bytes) })
    }
    await task(0) // worker start, document open, fonts
    const engine: number[] = []
    const ppm: number[] = []
    for (let r = 0; r < RUNS; r++) {
      let t = performance.now()
      await run('pdftoppm', ['-r', '150', '-f', '1', '-l', String(n), pdfPath, join(dir, 'ppm')])
      ppm.push((performance.now() - t) / n)
      t = performance.now()
      for (let i = 0; i < n; i++) await task(i)
      engine.push((performance.now() - t) / n)
    }
    await pool.close()
    console.log(`pdftoppm ${median(ppm).toFixed(1)} ms/page | folio engine ${median(engine).toFixed(1)} ms/page | folio / pdftoppm ${(median(engine) / median(ppm)).toFixed(2)}`)
  } finally {
    agent.destroy()
    await folio.stop()
  }

  // 2. Cached throughput: a Folio with its disk cache on, and the bare baseline.
  const cached = await startFolio(join(dir, 'data'))
  try {
    const id = JSON.parse((await get(new Agent(), `${cached.url}/api/documents?page_size=1`, { authorization: `Token token="${TOKEN}"` })).body.toString()).data[0].id
    const p = usedPages[0]! - 1
    const url = `${cached.url}/api/documents/${id}/pages/${p}/image?width=1275&format=png`
    const first = await get(new Agent(), url, { authorization: `Token token="${TOKEN}"` })
    const bare = await startBareServer(first.body, { 'content-type': String(first.headers['content-type'] ?? 'image/png'), etag: String(first.headers.etag ?? '"x"'), 'cache-control': 'private, no-cache' })
    try {
      const o = loadOptionsFromEnv({ connections: CONCURRENCY, seconds: SECONDS, rounds: ROUNDS })
      const targets: Target[] = [
        { name: `bare node:http (same ${(first.body.length / 1024).toFixed(0)} KB PNG from memory)`, url: bare.url },
        { name: 'Folio GET /api/documents/:id/pages/:n/image (API token, cache hit)', url, headers: { authorization: `Token token="${TOKEN}"` } },
      ]
      console.log(`\n2. cached page: ${header(o, `Folio LOG_LEVEL=${process.env.BENCH_LOG_LEVEL ?? 'info (default)'}, embedded PGlite`)}`)
      console.log((await checkSaturation(bare, targets[0]!, o)).text)
      const r = await interleave(targets, o)
      console.log(table(targets, r))
      console.log(`folio / bare: median ${median(r.ratio.get(targets[1]!.name)!).toFixed(2)} (goal ≥ 0.8)`)
    } finally {
      await bare.stop()
    }
  } finally {
    await cached.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
