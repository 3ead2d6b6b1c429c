/**
 * A render worker (worker_threads): owns one PDFium instance and a small LRU of open documents.
 * It runs one job at a time, so the main thread's event loop never waits on the engine (issue #6).
 *
 * Memory: the engine's WebAssembly memory is capped (wasm-memory.ts). Open documents are kept
 * while their bytes stay under a quarter of the cap, least recently used closed first. WASM
 * memory never shrinks, so after a job that left the heap above three quarters of the cap the
 * worker asks to be recycled. An engine abort is reported as `fatal` and the pool replaces us.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { EngineFailure, PdfiumEngine, type OpenDocument } from './pdfium.js'
import { outline } from './outline.js'
import { embeddedFile, embeddedFiles } from './embedded-files.js'
import { pageTexts } from './page-texts.js'
import type { JobMessage, JobResult, RenderFailure, WorkerOptions, WorkerReply } from './protocol.js'

const options = workerData as WorkerOptions
const port = parentPort!
const engine = await PdfiumEngine.load(options.memoryBytes)
const openBudget = Math.floor(options.memoryBytes / 4)
const open = new Map<string, OpenDocument>() // insertion order = least recently used first

function post(reply: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(reply, transfer)
}

function openDocument(key: string, bytes: Uint8Array | undefined, password: string | undefined): OpenDocument | undefined {
  const cached = open.get(key)
  if (cached) {
    open.delete(key)
    open.set(key, cached)
    return cached
  }
  if (!bytes) return undefined
  if (bytes.length > options.memoryBytes / 2) throw new EngineFailure('too_large', 'the document is larger than half of RENDER_WORKER_MEMORY_MB')
  let total = bytes.length
  for (const d of open.values()) total += d.byteSize
  for (const [k, d] of open) {
    if (total <= openBudget) break
    d.close()
    open.delete(k)
    total -= d.byteSize
  }
  const doc = engine.open(bytes, password)
  open.set(key, doc)
  return doc
}

/** Emscripten reports a refused `memory.grow` ("Failed to grow the heap…") before PDFium aborts. */
function classify(): RenderFailure {
  return engine.messages.some((m) => /grow (the )?heap|enlarge memory|out of memory/i.test(m)) ? 'memory_limit' : 'engine_error'
}

port.on('message', (msg: JobMessage) => {
  engine.messages.length = 0
  try {
    const doc = openDocument(msg.docKey, msg.bytes, msg.password)
    if (!doc) {
      post({ type: 'failed', id: msg.id, reason: 'missing', message: 'document not open', open: [...open.keys()] })
      return
    }
    let result: JobResult
    const transfer: ArrayBuffer[] = []
    if (msg.job.op === 'render') {
      const image = engine.render(doc, msg.job.pageIndex, msg.job.width, msg.job.height, msg.job.annotations)
      transfer.push(image.pixels.buffer as ArrayBuffer)
      result = image
    } else if (msg.job.op === 'pageTexts') {
      result = pageTexts(engine, doc, msg.job)
    } else if (msg.job.op === 'outline') {
      result = outline(engine, doc, msg.job)
    } else if (msg.job.op === 'embeddedFiles') {
      result = embeddedFiles(engine, doc, msg.job)
    } else if (msg.job.op === 'embeddedFile') {
      const bytes = embeddedFile(engine, doc, msg.job)
      transfer.push(bytes.buffer as ArrayBuffer)
      result = bytes
    } else {
      result = engine.text(doc, msg.job.pageIndex, msg.job.maxChars)
    }
    const recycle = engine.heapBytes > options.memoryBytes * 0.75
    post({ type: 'done', id: msg.id, result, open: [...open.keys()], recycle }, transfer)
  } catch (e) {
    if (e instanceof EngineFailure) {
      post({ type: 'failed', id: msg.id, reason: e.reason, message: e.message, open: [...open.keys()] })
      return
    }
    // A WebAssembly trap or abort: the engine's state is undefined from here on.
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
    post({ type: 'fatal', id: msg.id, reason: classify(), message: message.slice(0, 200) })
  }
})

post({ type: 'ready' })
