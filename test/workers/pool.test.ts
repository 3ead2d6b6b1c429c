/**
 * The PDF work pool's render and text kinds with real worker threads and the real engine, fed raw bytes:
 * pixels and text of valid pages, and the hostile corpus, including files the upload inspector
 * would refuse, each answered with pixels or a coded failure while the pool keeps serving.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { createLogger } from '../../src/log.js'
import { PdfWorkPool, type PdfWorkOptions } from '../../src/workers/pool.js'
import type { PageText, RawImage, RenderJob, TextJob } from '../../src/render/protocol.js'
import { FolioError } from '../../src/errors.js'
import { hostileCorpus } from '../helpers/hostile-pdfs.js'
import { makePdf } from '../helpers/pdf-fixtures.js'

const log = createLogger('silent')
const MB = 1024 * 1024

interface PoolTask { docKey: string; loadBytes(): Promise<Uint8Array>; job: RenderJob | TextJob }
function task(name: string, pdf: Buffer, job: PoolTask['job']): PoolTask {
  return { docKey: name, loadBytes: async () => Buffer.from(pdf), job }
}
function runTask(pool: PdfWorkPool, t: PoolTask): Promise<RawImage | PageText> {
  const { op, ...input } = t.job
  const opts = { docKey: t.docKey, loadBytes: t.loadBytes }
  return op === 'render' ? pool.run('render', input as Omit<RenderJob, 'op'>, opts) : pool.run('text', input as Omit<TextJob, 'op'>, opts)
}
const render = (pageIndex = 0, width = 612, height = 792) => ({ op: 'render' as const, pageIndex, width, height, annotations: true })
const text = (pageIndex = 0) => ({ op: 'text' as const, pageIndex, maxChars: 10_000 })

function darkPixels(img: RawImage): number {
  let n = 0
  for (let i = 0; i < img.pixels.length; i += 3) if (img.pixels[i]! + img.pixels[i + 1]! + img.pixels[i + 2]! < 384) n++
  return n
}

async function failure(p: Promise<unknown>): Promise<{ code: string; reason?: unknown }> {
  try {
    await p
  } catch (e) {
    assert.ok(e instanceof FolioError, `a FolioError, not ${String(e)}`)
    return { code: e.code, reason: e.details.reason }
  }
  return { code: 'none' }
}

const valid = makePdf({ pages: [{ text: 'Hello Folio' }, { width: 612, height: 792, rotate: 90, text: 'Turned' }] })

describe('PDF work pool: render and text', () => {
  const pools: PdfWorkPool[] = []
  const make = (opts: Partial<Omit<PdfWorkOptions, 'timeoutMs'>> & { timeoutMs?: number } = {}) => {
    const { timeoutMs = 10_000, ...rest } = opts
    const p = new PdfWorkPool({ workers: 1, queueMax: 8, memoryBytes: 256 * MB, log, ...rest, timeoutMs: { render: timeoutMs, pdf: timeoutMs } })
    pools.push(p)
    return p
  }
  after(async () => {
    await Promise.all(pools.map((p) => p.close()))
  })

  test('close() terminates every worker, not every other one', async () => {
    const pool = make({ workers: 3 })
    await Promise.all([0, 1, 0, 1, 0, 1].map((i) => runTask(pool, task(`close-${i}`, valid, render(i, 100, 130)))))
    assert.ok(pool.stats().workers >= 2, `several workers ran (${pool.stats().workers})`)
    await pool.close()
    assert.equal(pool.stats().workers, 0, 'no worker left behind to keep the process alive')
  })

  test('a page renders to exactly the asked pixels, with ink where the text is', async () => {
    const pool = make()
    const img = (await runTask(pool, task('valid', valid, render(0, 306, 396)))) as RawImage
    assert.equal(img.width, 306)
    assert.equal(img.height, 396)
    assert.equal(img.pixels.length, 306 * 396 * 3)
    assert.ok(darkPixels(img) > 50, 'text is drawn')
    // The text sits near the top left; the bottom half is white.
    const bottom = { ...img, pixels: img.pixels.subarray(306 * 3 * 200) }
    assert.equal(darkPixels(bottom), 0)
  })

  test('text comes in lines, positioned in the page as displayed (rotation applied)', async () => {
    const pool = make()
    const upright = (await runTask(pool, task('valid', valid, text(0)))) as PageText
    assert.deepEqual([upright.width, upright.height], [612, 792])
    assert.equal(upright.textLines.length, 1)
    const line = upright.textLines[0]!
    assert.equal(line.contents, 'Hello Folio')
    assert.equal(line.charBoxes.length, 'Hello Folio'.length)
    // Drawn at x = 72 with its baseline 92 pt below the top (pdf-fixtures pageContent).
    assert.ok(Math.abs(line.left - 72) < 2, `left ${line.left}`)
    assert.ok(line.top > 60 && line.top < 92 && line.top + line.height > 90, `top ${line.top} height ${line.height}`)
    assert.ok(line.width > line.height)

    const turned = (await runTask(pool, task('valid', valid, text(1)))) as PageText
    assert.deepEqual([turned.width, turned.height], [792, 612])
    const t = turned.textLines[0]!
    assert.equal(t.contents, 'Turned')
    // Rotated 90° clockwise: the line runs down the right side, starting 72 pt from the top.
    assert.ok(t.height > t.width, 'the line is vertical')
    assert.ok(Math.abs(t.top - 72) < 2, `top ${t.top}`)
    assert.ok(t.left > 792 - 100 && t.left < 792 - 60, `left ${t.left}`)
  })

  test('a worker that has the document open is not sent its bytes again', async () => {
    const pool = make()
    let loads = 0
    const counted: PoolTask = { docKey: 'counted', loadBytes: async () => (loads++, Buffer.from(valid)), job: render(0, 100, 130) }
    for (let i = 0; i < 3; i++) await runTask(pool, counted)
    await runTask(pool, { ...counted, job: text(1) })
    assert.equal(loads, 1)
  })

  test('every hostile PDF gets pixels or a coded failure, and the pool keeps serving', async () => {
    const pool = make({ timeoutMs: 1500, memoryBytes: 128 * MB })
    const expected: Record<string, string[]> = {
      truncated: ['unreadable'],
      garbage: ['unreadable'],
      'self-drawing-form': ['memory_limit', 'timeout'],
      'flate-bomb': ['timeout', 'memory_limit'],
    }
    for (const c of hostileCorpus()) {
      for (const job of [render(), text()]) {
        const outcome = await failure(runTask(pool, task(c.name, c.pdf, job)))
        const allowed = expected[c.name]
        if (allowed) {
          assert.equal(outcome.code, 'render_failed', `${c.name} ${job.op}`)
          assert.ok(allowed.includes(String(outcome.reason)), `${c.name} ${job.op}: ${String(outcome.reason)}`)
        } else {
          // Malformed but harmless for this engine: it renders (or answers a coded failure).
          assert.ok(outcome.code === 'none' || outcome.code === 'render_failed', `${c.name} ${job.op}: ${outcome.code}`)
        }
      }
      const ok = (await runTask(pool, task('valid', valid, render(0, 50, 65)))) as RawImage
      assert.equal(ok.width, 50, `the pool still renders after ${c.name}`)
    }
    assert.ok(pool.stats().replaced >= 2, 'crashed and timed-out workers were replaced')
  })

  test('a render past the time limit fails alone; a render in another worker completes', async () => {
    const pool = make({ workers: 2, timeoutMs: 1000 })
    const bomb = hostileCorpus().find((c) => c.name === 'flate-bomb')!.pdf
    const [slow, fine] = await Promise.all([failure(runTask(pool, task('bomb', bomb, render()))), runTask(pool, task('valid', valid, render(0, 61, 79)))])
    assert.deepEqual(slow, { code: 'render_failed', reason: 'timeout' })
    assert.equal((fine as RawImage).height, 79)
    assert.equal(pool.stats().replaced, 1)
  })

  test('beyond RENDER_QUEUE_MAX waiting renders, a render is refused with render_queue_full', async () => {
    const pool = make({ workers: 1, queueMax: 1, timeoutMs: 1000 })
    await runTask(pool, task('valid', valid, render(0, 10, 13))) // the worker is up and idle
    const bomb = hostileCorpus().find((c) => c.name === 'flate-bomb')!.pdf
    const busy = failure(runTask(pool, task('bomb', bomb, render()))) // runs in the worker
    const waiting = runTask(pool, task('valid', valid, render(0, 20, 26))) // waits in the queue
    assert.deepEqual(await failure(runTask(pool, task('valid', valid, render(0, 30, 39)))), { code: 'render_queue_full', reason: undefined })
    assert.equal((await busy).reason, 'timeout')
    assert.equal(((await waiting) as RawImage).width, 20, 'the queued render ran once the worker was replaced')
  })

  test('a closed pool refuses work with service_unavailable', async () => {
    const pool = make()
    await pool.close()
    assert.equal((await failure(runTask(pool, task('valid', valid, render())))).code, 'service_unavailable')
  })
})
