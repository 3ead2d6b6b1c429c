/**
 * The PDFium engine of this worker, loaded on the first render or text job, and a small LRU of
 * open documents. Memory: the engine's WebAssembly memory is capped (render/wasm-memory.ts).
 * Open documents are kept while their bytes stay under a quarter of the cap, least recently
 * used closed first. WASM memory never shrinks, so after a job that left the heap above three
 * quarters of the cap the worker asks to be recycled.
 */
import { EngineFailure, PdfiumEngine, type OpenDocument } from '../../render/pdfium.js'
import type { RenderFailure } from '../../render/protocol.js'
import { JobFailure, MissingDocument, registerHeld, WorkerTrap, type JobContext } from '../job-context.js'

let engine: Promise<PdfiumEngine> | undefined
const open = new Map<string, OpenDocument>() // insertion order = least recently used first
registerHeld(() => open.keys())

function openDocument(e: PdfiumEngine, ctx: JobContext): OpenDocument {
  const key = ctx.docKey ?? ''
  const cached = open.get(key)
  if (cached) {
    open.delete(key)
    open.set(key, cached)
    return cached
  }
  const bytes = ctx.bytes
  if (!bytes) throw new MissingDocument()
  if (bytes.length > ctx.memoryBytes / 2) throw new EngineFailure('too_large', 'the document is larger than half of RENDER_WORKER_MEMORY_MB')
  const budget = Math.floor(ctx.memoryBytes / 4)
  let total = bytes.length
  for (const d of open.values()) total += d.byteSize
  for (const [k, d] of open) {
    if (total <= budget) break
    d.close()
    open.delete(k)
    total -= d.byteSize
  }
  const doc = e.open(bytes, ctx.password)
  open.set(key, doc)
  return doc
}

/** Emscripten reports a refused `memory.grow` ("Failed to grow the heap…") before PDFium aborts. */
function classify(e: PdfiumEngine): RenderFailure {
  return e.messages.some((m) => /grow (the )?heap|enlarge memory|out of memory/i.test(m)) ? 'memory_limit' : 'engine_error'
}

/** Compiles the engine on a worker's first render or text job (outside the job's time limit). */
export async function prepare(ctx: JobContext): Promise<void> {
  engine ??= PdfiumEngine.load(ctx.memoryBytes)
  await engine
}

/** Runs `fn` with the job's document open; engine failures become JobFailure, traps a `memory_limit`/`engine_error` message. */
export async function withDocument<T>(ctx: JobContext, fn: (engine: PdfiumEngine, doc: OpenDocument) => T): Promise<T> {
  engine ??= PdfiumEngine.load(ctx.memoryBytes)
  const e = await engine
  e.messages.length = 0
  try {
    const result = fn(e, openDocument(e, ctx))
    // WebAssembly memory never shrinks: the high-water mark of every render at every size stays
    // resident, so past RENDER_WORKER_RECYCLE_MB a fresh worker takes over.
    ctx.heapBytes = e.heapBytes
    if (e.heapBytes > ctx.recycleBytes) ctx.recycle = true
    return result
  } catch (error) {
    if (error instanceof EngineFailure) throw new JobFailure(error.reason, error.message)
    if (error instanceof MissingDocument) throw error
    // A WebAssembly trap or abort: the engine's state is undefined; the pool replaces this worker.
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    throw new WorkerTrap(classify(e), message)
  }
}
