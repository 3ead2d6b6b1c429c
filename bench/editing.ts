/**
 * bench/editing: document editing against qpdf doing the same in the same run.
 *  1. merge two 300-page documents (POST /api/build with two document parts) vs
 *     `qpdf --empty --pages a.pdf b.pdf -- out.pdf`;
 *  2. rotate one page of a ~200 MB document, persisted (apply_operations) and downloaded
 *     (pdf_with_operations), vs `qpdf in.pdf --pages in.pdf 1-z -- --rotate=+90:1 out.pdf`.
 * Reports wall time (median of runs) and peak memory: Folio's server RSS high-water mark
 * (VmHWM) and the peak RSS of qpdf (GNU time), which is also what Folio's qpdf child uses.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makePdf, writeLargePdf } from '../test/helpers/pdf-fixtures.js'
import { startFolio } from './helpers/server.js'

const TOKEN = 'bench-token-0123456789abcdef0123456789abcdef'
const auth = { authorization: `Token token="${TOKEN}"` }
const RUNS = Number(process.env.RUNS ?? 3)
const BIG = Number(process.env.BIG_BYTES ?? 200 * 1024 * 1024)

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

function hwmMiB(pid: number): number {
  const status = execFileSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' })
  return Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024
}

function qpdfTimed(args: string[]): { ms: number; peakMiB: number } {
  const t0 = performance.now()
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'qpdf', ...args], { encoding: 'utf8' })
  const ms = performance.now() - t0
  if (r.status !== 0 && r.status !== 3) throw new Error(r.stderr)
  return { ms, peakMiB: Number(r.stderr.trim().split('\n').pop()) / 1024 }
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

async function must(res: Response): Promise<Buffer> {
  const body = Buffer.from(await res.arrayBuffer())
  if (res.status !== 200) throw new Error(`${res.status}: ${body.toString().slice(0, 300)}`)
  return body
}

const dir = await mkdtemp(join(tmpdir(), 'folio-bench-editing-'))
const folio = await startFolio({ API_AUTH_TOKEN: TOKEN, DATA_DIR: join(dir, 'data'), MAX_UPLOAD_SIZE_BYTES: String(2 * 1024 ** 3), BUILD_MAX_OUTPUT_BYTES: String(2 * 1024 ** 3), BUILD_TIMEOUT_MS: '600000' }, { stopSignal: 'SIGKILL' })
try {
  const upload = async (id: string, body: Buffer | ReturnType<typeof createReadStream>) =>
    must(await fetch(`${folio.url}/api/documents?document_id=${id}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/pdf' }, body: body as unknown as Buffer, duplex: 'half' } as RequestInit))

  // 1. merge
  const pages = Array.from({ length: 300 }, (_, i) => ({ text: `Page ${i + 1}` }))
  const a = makePdf({ pages })
  const b = makePdf({ pages })
  await writeFile(join(dir, 'a.pdf'), a)
  await writeFile(join(dir, 'b.pdf'), b)
  await upload('a', a)
  await upload('b', b)
  const idle = hwmMiB(folio.pid)
  const merge: number[] = []
  const qMerge: Array<{ ms: number; peakMiB: number }> = []
  for (let i = 0; i < RUNS; i++) {
    merge.push(await timed(async () => {
      const out = await must(await fetch(`${folio.url}/api/build`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ parts: [{ document: { id: 'a' } }, { document: { id: 'b' } }] }) }))
      if (!out.subarray(0, 5).equals(Buffer.from('%PDF-'))) throw new Error('not a PDF')
    }))
    qMerge.push(qpdfTimed(['--empty', '--pages', join(dir, 'a.pdf'), join(dir, 'b.pdf'), '--', join(dir, 'merged.pdf')]))
  }
  const afterMerge = hwmMiB(folio.pid)

  // 2. rotate one page of a large document
  const big = join(dir, 'big.pdf')
  const { bytes } = await writeLargePdf(big, BIG)
  // One copy per run: an edit replaces the document (qpdf compresses the filler streams).
  for (let i = 0; i < RUNS; i++) await upload(`big${i}`, createReadStream(big))
  const beforeRotate = hwmMiB(folio.pid)
  const persist: number[] = []
  const download: number[] = []
  const qRotate: Array<{ ms: number; peakMiB: number }> = []
  for (let i = 0; i < RUNS; i++) {
    download.push(await timed(async () => {
      const res = await fetch(`${folio.url}/api/documents/big${i}/pdf_with_operations`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ operations: [{ type: 'rotatePages', pageIndexes: [0], rotateBy: 90 }] }) })
      if (res.status !== 200) throw new Error(String(res.status))
      for await (const _ of res.body as unknown as AsyncIterable<Uint8Array>) { /* drain */ }
    }))
    persist.push(await timed(async () => {
      await must(await fetch(`${folio.url}/api/documents/big${i}/apply_operations`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ operations: [{ type: 'rotatePages', pageIndexes: [0], rotateBy: 90 }] }) }))
    }))
    qRotate.push(qpdfTimed([big, '--pages', big, '1-z', '--', '--rotate=+90:1', join(dir, 'rotated.pdf')]))
  }
  const afterRotate = hwmMiB(folio.pid)
  const size = (await stat(join(dir, 'rotated.pdf'))).size
  void readFile
  const ms = (x: number) => `${Math.round(x)} ms`
  console.log(JSON.stringify({ runs: RUNS, node: process.version, qpdf: execFileSync('qpdf', ['--version'], { encoding: 'utf8' }).split('\n')[0] }))
  console.log(`merge 2 × 300 pages:   Folio /api/build ${ms(median(merge))}   qpdf --pages ${ms(median(qMerge.map((q) => q.ms)))}   ratio ${(median(merge) / median(qMerge.map((q) => q.ms))).toFixed(2)}`)
  console.log(`  peak memory: Folio server HWM ${idle.toFixed(0)} → ${afterMerge.toFixed(0)} MiB; qpdf ${median(qMerge.map((q) => q.peakMiB)).toFixed(0)} MiB`)
  console.log(`rotate 1 page of ${(bytes / 1024 / 1024).toFixed(0)} MB: apply_operations ${ms(median(persist))}   pdf_with_operations ${ms(median(download))}   qpdf --pages ${ms(median(qRotate.map((q) => q.ms)))}   ratio (download) ${(median(download) / median(qRotate.map((q) => q.ms))).toFixed(2)}`)
  console.log(`  peak memory: Folio server HWM ${beforeRotate.toFixed(0)} → ${afterRotate.toFixed(0)} MiB; qpdf ${median(qRotate.map((q) => q.peakMiB)).toFixed(0)} MiB (output ${(size / 1024 / 1024).toFixed(0)} MB)`)
} finally {
  await folio.stop()
  await rm(dir, { recursive: true, force: true })
}
