/**
 * bench/search: searching a 300-page document through Folio against `pdftotext | grep` on the
 * same file in the same run (issue: "faster than that, once the text is cached").
 *
 *   npm run bench:search            BENCH_PAGES=300 BENCH_RUNS=15
 *
 * Measured: the first search (text extracted by the render workers, then matched), then the
 * median of BENCH_RUNS cached searches (text and regex) over HTTP, against the median of
 * BENCH_RUNS `pdftotext file.pdf - | grep -c -i needle` (one process pair per run, as a script
 * would do it). Each Folio search returns positions and previews; grep only counts lines.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { textPdf } from '../test/helpers/text-pdfs.js'
import { startFolio } from './helpers/server.js'

const run = promisify(execFile)
const TOKEN = 'bench-search-token-0123456789abcdef0123456789'
const PAGES = Number(process.env.BENCH_PAGES ?? 300)
const RUNS = Number(process.env.BENCH_RUNS ?? 15)

function lines(page: number): string[] {
  const out: string[] = []
  for (let l = 0; l < 32; l++) {
    out.push(l === 7 && page % 10 === 3 ? `page ${page} line ${l} holds the needle we look for` : `page ${page} line ${l} lorem ipsum dolor sit amet consectetur`)
  }
  return out
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = process.hrtime.bigint()
  const value = await fn()
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, value }
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'folio-bench-search-'))
  const file = join(dir, 'doc.pdf')
  const pdf = textPdf({ pages: Array.from({ length: PAGES }, (_, i) => lines(i)) })
  await writeFile(file, pdf)
  const folio = await startFolio({ DATA_DIR: join(dir, 'data'), API_AUTH_TOKEN: TOKEN })
  const auth = { authorization: `Token token="${TOKEN}"` }
  try {
    const up = await fetch(`${folio.url}/api/documents?document_id=bench`, { method: 'POST', headers: { ...auth, 'content-type': 'application/pdf' }, body: pdf })
    if (up.status !== 200) throw new Error(`upload ${up.status}`)
    const search = async (q: string) => {
      const res = await fetch(`${folio.url}/api/documents/bench/search?${q}`, { headers: auth })
      const body = (await res.json()) as { data: unknown[] }
      if (res.status !== 200) throw new Error(`search ${res.status} ${JSON.stringify(body)}`)
      return body.data.length
    }
    const first = await time(() => search('q=needle'))
    const cached: number[] = [], regex: number[] = [], poppler: number[] = []
    let grepCount = 0
    for (let i = 0; i < RUNS; i++) {
      cached.push((await time(() => search('q=needle'))).ms)
      regex.push((await time(() => search(`q=${encodeURIComponent('ne+dle\\s+we')}&type=regex`))).ms)
      const p = await time(() => run('sh', ['-c', `pdftotext "${file}" - | grep -c -i needle`]))
      poppler.push(p.ms)
      grepCount = Number(p.value.stdout.trim())
    }
    const base = median(poppler)
    console.log(`document: ${PAGES} pages, ${pdf.length} bytes, ${first.value} matches (grep counts ${grepCount} lines)`)
    console.log(`pdftotext | grep -c -i           median ${base.toFixed(1)} ms  (1.00)`)
    console.log(`Folio first search (extracts)    ${first.ms.toFixed(1)} ms  (${(first.ms / base).toFixed(2)})`)
    console.log(`Folio text search, cached        median ${median(cached).toFixed(1)} ms  (${(median(cached) / base).toFixed(2)})`)
    console.log(`Folio regex search, cached       median ${median(regex).toFixed(1)} ms  (${(median(regex) / base).toFixed(2)})`)
  } finally {
    await folio.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
