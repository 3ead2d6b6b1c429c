/**
 * The PDF work pool's structure kinds and its limits, with real worker threads: inspection by
 * path and by a reader served from the main thread, the same error classes on this side of the
 * boundary, the wall-clock limit as pdf_too_complex naming it, the bounded queue, per-document
 * fairness, and the parsed structure kept by blob hash.
 */
import assert from 'node:assert/strict'
import { writeFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { FolioError } from '../../src/errors.js'
import { createLogger } from '../../src/log.js'
import { bufferReader, PdfInspectError, type RandomAccessReader } from '../../src/pdf/inspect.js'
import { SizeGate, EXACT_SIZES_PER_PAGE, SIZE_STEP } from '../../src/render/service.js'
import { structureKey } from '../../src/workers/kinds.js'
import { PdfWorkPool, type PdfWorkOptions } from '../../src/workers/pool.js'
import { annotatedPdf, fanOutPdf, structureAttacks } from '../helpers/hostile-pdfs.js'
import { makePdf } from '../helpers/pdf-fixtures.js'

const log = createLogger('silent')

function counting(inner: RandomAccessReader): RandomAccessReader & { bytes: number } {
  const r = { size: inner.size, bytes: 0, read: async (p: number, l: number) => { const b = await inner.read(p, l); r.bytes += b.length; return b } }
  return r
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'none'
  } catch (e) {
    if (e instanceof FolioError) return `${e.code}:${String(e.details.limit ?? e.details.reason ?? '')}`
    if (e instanceof PdfInspectError) return `pdf:${e.reason}`
    return `other:${String(e)}`
  }
}

describe('PDF work pool: structure jobs and limits', () => {
  const pools: PdfWorkPool[] = []
  const make = (opts: Partial<PdfWorkOptions> = {}) => {
    const p = new PdfWorkPool({ workers: 1, queueMax: 8, timeoutMs: { render: 10_000, pdf: 10_000 }, memoryBytes: 256 * 1024 * 1024, log, ...opts })
    pools.push(p)
    return p
  }
  let dir: string | undefined
  after(async () => {
    await Promise.all(pools.map((p) => p.close()))
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  test('inspection by path and through a main-thread reader give the same answer, reading only a few KB', async () => {
    const pool = make()
    const pdf = makePdf({ pages: [{ text: 'a' }, { width: 300, height: 400, rotate: 90 }] })
    dir = await mkdtemp(join(tmpdir(), 'folio-jobs-'))
    const path = join(dir, 'a.pdf')
    await writeFile(path, pdf)
    const byPath = await pool.run('inspect', {}, { source: { path } })
    const reader = counting(bufferReader(Buffer.concat([Buffer.from(pdf)])))
    const byReader = await pool.run('inspect', {}, { source: { reader } })
    assert.deepEqual(byPath, byReader)
    assert.equal(byPath.pageCount, 2)
    assert.ok(reader.bytes <= 3 * 4096 + pdf.length, `read ${reader.bytes} bytes`)
  })

  test('a file refused by the inspector is a PdfInspectError on this side; a spent budget is pdf_too_complex naming it', async () => {
    const pool = make()
    assert.equal(await codeOf(pool.run('inspect', {}, { source: { reader: bufferReader(Buffer.from('%PDF-1.7\nnothing')) } })), 'pdf:truncated')
    const bomb = structureAttacks().find((a) => a.name === 'flate-bomb-xref-stream')!.pdf
    assert.equal(await codeOf(pool.run('inspect', {}, { source: { reader: bufferReader(bomb) } })), 'pdf_too_complex:stream_bytes')
  })

  test('past its wall-clock limit a job is 422 pdf_too_complex (limit time), the worker is replaced, the next job runs', async () => {
    const pool = make()
    // A reader that never answers holds the job until the limit.
    const stuck: RandomAccessReader = { size: 10_000, read: () => new Promise(() => {}) }
    assert.equal(await codeOf(pool.run('inspect', {}, { source: { reader: stuck }, timeoutMs: 300 })), 'pdf_too_complex:time')
    assert.equal(pool.stats().replaced, 1)
    assert.equal((await pool.run('inspect', {}, { source: { reader: bufferReader(makePdf()) } })).pageCount, 1)
  })

  test('beyond the queue bound a structure job is refused with pdf_queue_full (429)', async () => {
    const pool = make({ queueMax: 1 })
    const stuck: RandomAccessReader = { size: 10_000, read: () => new Promise(() => {}) }
    const running = codeOf(pool.run('inspect', {}, { source: { reader: stuck }, timeoutMs: 2000 }))
    await new Promise((r) => setTimeout(r, 300)) // it left the queue for the worker
    const queued = pool.run('inspect', {}, { source: { reader: bufferReader(makePdf()) } })
    const refused = await codeOf(pool.run('inspect', {}, { source: { reader: bufferReader(makePdf()) } }))
    assert.equal(refused, 'pdf_queue_full:1')
    assert.equal(new FolioError('pdf_queue_full').status, 429)
    assert.equal(await running, 'pdf_too_complex:time')
    assert.equal((await queued).pageCount, 1)
  })

  test("one document's slow renders use at most half the workers: another document's render is not starved", async () => {
    const pool = make({ workers: 2 })
    const slow = fanOutPdf(5, 8) // seconds per render
    const quick = makePdf()
    const order: string[] = []
    const job = (name: string, pdf: Buffer, fairnessKey: string, width: number) =>
      pool.run('render', { pageIndex: 0, width, height: width, annotations: false }, { docKey: name, loadBytes: async () => Buffer.from(pdf), fairnessKey }).then(() => order.push(`${fairnessKey}:${width}`))
    const all = [job('slow', slow, 'A', 301), job('slow', slow, 'A', 302), job('slow', slow, 'A', 303), job('quick', quick, 'B', 50)]
    await Promise.all(all)
    // Without the per-document share, A's first two would take both workers and B would wait.
    assert.equal(order[0], 'B:50', `finish order: ${order.join(' ')}`)
  })

  test('the structure of a blob is parsed once per worker: a second job on the same key reads no more of the file', async () => {
    const pool = make()
    const reader = counting(bufferReader(annotatedPdf()))
    const opts = { source: { reader }, docKey: structureKey('blob-1') }
    assert.equal(await pool.run('annotations-importable', {}, opts), true)
    const first = reader.bytes
    const read = await pool.run('annotations-read', { max: 10 }, opts)
    assert.equal(read.annotations.length, 1)
    assert.equal(reader.bytes, first, 'no second parse')
    const tail = await pool.run('annotations-export', { items: [], flatten: false }, opts)
    assert.ok(tail === null || tail.length > 0)
  })

  test('image sizes per page: 16 distinct exact sizes, then rounded up to 50 px steps; multiples of 50 always exact', () => {
    const gate = new SizeGate()
    for (let w = 101; w < 101 + EXACT_SIZES_PER_PAGE; w++) assert.equal(gate.admit('p', w), w)
    assert.equal(gate.admit('p', 101), 101, 'a size already served stays exact')
    assert.equal(gate.admit('p', 611), 650)
    assert.equal(gate.admit('p', 600), 600)
    assert.equal(gate.admit('p', 4999), 5000)
    assert.equal(gate.admit('other', 611), 611, 'per page')
    const widths = new Set<number>()
    for (let w = 1; w <= 5000; w++) widths.add(gate.admit('q', w))
    assert.ok(widths.size <= EXACT_SIZES_PER_PAGE + 5000 / SIZE_STEP, `${widths.size} distinct sizes`)
  })
})
