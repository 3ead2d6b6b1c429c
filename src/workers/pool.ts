/**
 * The PDF work pool: the one way Folio runs PDF work off the main thread (parsing, inspection,
 * annotation import/export, rendering, text). `run(kind, input, opts)` sends a job of a kind in
 * kinds.ts to one of up to `workers` worker threads (started on first use, one job at a time).
 *
 * Limits, so that no file can stop the server:
 * - a wall-clock limit per job (`timeoutMs`, per family by default): past it the worker is
 *   terminated, mid-WebAssembly or mid-parse, and replaced; the job fails with the family's code;
 * - memory: `resourceLimits` caps each worker's JS heap, the engine's WebAssembly memory is
 *   capped separately (render/wasm-memory.ts), and the parsers' own budgets bound decoded bytes;
 * - a bounded queue in front (full → 429 with Retry-After);
 * - per-key fairness: jobs with the same `fairnessKey` (a document) run on at most
 *   `perKeyConcurrency` workers at once, so one document's slow pages cannot take every worker;
 * - a worker that crashes or aborts is replaced and only its own job fails.
 *
 * Sources: a job reads its PDF from a file path (the worker opens it) or through a reader the
 * main thread serves by ranges (any blob store), never by copying a whole file in memory; only
 * engines that need the whole document (PDFium) get `loadBytes()`, sent once to a worker that
 * does not hold that `docKey` (jobs prefer a worker that does).
 */
import { Worker } from 'node:worker_threads'
import { FolioError } from '../errors.js'
import type { Logger } from '../log.js'
import { PdfInspectError, type PdfErrorReason, type PdfLimit } from '../pdf/errors.js'
import type { RandomAccessReader } from '../pdf/reader.js'
import { JOB_KINDS, type JobFamily, type JobInput, type JobKind, type JobOutput } from './kinds.js'
import type { JobMessage, ReadAnswer, WireError, WireSource, WorkerOptions, WorkerReply } from './protocol.js'

export interface PdfWorkOptions {
  workers: number
  queueMax: number
  /** Default wall-clock limit of a job, by family. */
  timeoutMs: Record<JobFamily, number>
  /** Cap of an engine's WebAssembly memory per worker, bytes. */
  memoryBytes: number
  /** Engine memory after which a worker is replaced (RENDER_WORKER_RECYCLE_MB); default ¾ of the cap. */
  recycleBytes?: number
  /** Cap of each worker's JS heap (V8 old generation), MiB; default 256. */
  heapMb?: number
  /** Jobs of one fairness key running at once; default: half the workers, at least 1. */
  perKeyConcurrency?: number
  log: Logger
}

export interface RunOptions {
  /** Overrides the family's wall-clock limit. */
  timeoutMs?: number
  /** The PDF, by path (opened in the worker) or by a reader (ranges served from this thread). */
  source?: { path: string } | { reader: RandomAccessReader }
  /** Identifies the source's bytes (a blob key): the worker may keep work for it (affinity). */
  docKey?: string
  /** The whole PDF for engines that need it; called only when the chosen worker lacks `docKey`. */
  loadBytes?: () => Promise<Uint8Array>
  /** Jobs with the same key share at most `perKeyConcurrency` workers. */
  fairnessKey?: string
  /** Opens an encrypted PDF (sent with `loadBytes`' bytes); `docKey` must then differ from the key without it. */
  password?: string
}

/** What callers need of the pool: `pdfWork.run(kind, input, opts)`. */
export type PdfWork = Pick<PdfWorkPool, 'run'>

export interface PoolStats {
  workers: number
  busy: number
  queued: number
  /** Workers terminated because of a timeout, an engine abort, a crash or memory growth. */
  replaced: number
  /** Engine (WebAssembly) memory of the live workers, as last reported, bytes. */
  engineBytes: number
}

type Limit = 'timeout' | 'memory_limit' | 'engine_error'

interface Pending {
  kind: JobKind
  input: unknown
  opts: RunOptions
  resolve(r: unknown): void
  reject(e: unknown): void
  retried: boolean
}

interface Slot {
  /** Engine memory the worker reported after its last job. */
  heapBytes?: number
  worker: Worker
  ready: boolean
  open: Set<string>
  busy?: Pending
  timer?: NodeJS.Timeout
  gone: boolean
}

const AFFINITY_LOOKAHEAD = 8
/** Loading a kind's module and preparing it (compiling PDFium) on a fresh worker: not the job's time. */
const PREPARE_MS = 15_000
const WORKER_URL = new URL('./worker.js', import.meta.url)

export function renderFailed(reason: string, cause?: unknown): FolioError {
  return new FolioError('render_failed', { reason }, { cause })
}

/** How a limit reads for a job of `family`. */
function limitError(family: JobFamily, limit: Limit, timeoutMs: number, cause?: unknown): FolioError {
  if (family === 'render') return renderFailed(limit, cause)
  const details = limit === 'timeout' ? { limit: 'time', limit_ms: timeoutMs } : { limit: limit === 'memory_limit' ? 'memory' : 'engine' }
  const message = limit === 'timeout'
    ? `Reading the PDF took longer than ${timeoutMs} ms`
    : limit === 'memory_limit' ? 'Reading the PDF exceeded the worker memory limit' : 'The PDF stopped the worker reading it'
  return new FolioError('pdf_too_complex', details, { message, cause })
}

function rebuild(family: JobFamily, error: WireError): unknown {
  switch (error.type) {
    case 'pdf':
      // A spent work budget is the same refusal as a time or memory limit: one code, the limit named.
      if (error.reason === 'too_complex') return new FolioError('pdf_too_complex', { limit: error.limit ?? 'objects' }, { message: error.message })
      return new PdfInspectError(error.reason as PdfErrorReason, error.message, { limit: error.limit as PdfLimit | undefined })
    case 'folio':
      return new FolioError(error.code as FolioError['code'], error.details, { message: error.message })
    case 'job':
      if (error.reason === 'io_error') return new Error(`reading the PDF source failed: ${error.message}`)
      return family === 'render' ? renderFailed(error.reason, new Error(error.message)) : new FolioError('pdf_too_complex', { limit: 'engine' }, { message: error.message })
    case 'missing':
      return renderFailed('engine_error')
  }
}

export class PdfWorkPool {
  private readonly slots: Slot[] = []
  private readonly queue: Pending[] = []
  private readonly running = new Map<string, number>()
  private readonly perKey: number
  private nextId = 1
  private closed = false
  private replaced = 0
  private startFailures = 0

  constructor(private readonly opts: PdfWorkOptions) {
    this.perKey = opts.perKeyConcurrency ?? Math.max(1, Math.ceil(opts.workers / 2))
  }

  run<K extends JobKind>(kind: K, input: JobInput<K>, opts: RunOptions = {}): Promise<JobOutput<K>> {
    if (this.closed) return Promise.reject(new FolioError('service_unavailable', {}, { message: 'The server is shutting down' }))
    if (this.queue.length >= this.opts.queueMax) {
      const code = JOB_KINDS[kind].family === 'render' ? 'render_queue_full' : 'pdf_queue_full'
      return Promise.reject(new FolioError(code, { limit: this.opts.queueMax }))
    }
    return new Promise<JobOutput<K>>((resolve, reject) => {
      this.queue.push({ kind, input, opts, resolve: resolve as (r: unknown) => void, reject, retried: false })
      this.pump()
    })
  }

  stats(): PoolStats {
    return {
      workers: this.slots.length,
      busy: this.slots.filter((s) => s.busy).length,
      queued: this.queue.length,
      replaced: this.replaced,
      engineBytes: this.slots.reduce((a, s) => a + (s.heapBytes ?? 0), 0),
    }
  }

  /**
   * Stops taking jobs (503), fails what is queued or running with 503 and terminates every
   * worker, whatever state it is in. A drain (let work in flight finish first) is the caller's:
   * app.ts waits for its requests, then closes the pool.
   */
  async close(): Promise<void> {
    this.closed = true
    const stopped = new FolioError('service_unavailable', {}, { message: 'The server is shutting down' })
    for (const p of this.queue.splice(0)) p.reject(stopped)
    // A copy: remove() splices this.slots synchronously, which would make map skip every other slot.
    await Promise.all([...this.slots].map((s) => this.remove(s, stopped, false)))
  }

  private family(p: Pending): JobFamily {
    return JOB_KINDS[p.kind].family
  }

  private timeout(p: Pending): number {
    return p.opts.timeoutMs ?? this.opts.timeoutMs[this.family(p)]
  }

  private eligible(p: Pending): boolean {
    const key = p.opts.fairnessKey
    return key === undefined || (this.running.get(key) ?? 0) < this.perKey
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const idle = this.slots.filter((s) => s.ready && !s.busy && !s.gone)
      if (idle.length === 0) break
      // A worker that holds the document skips the copy and the parse.
      let chosen: { slot: Slot; index: number } | undefined
      const window = this.queue.slice(0, AFFINITY_LOOKAHEAD)
      for (const slot of idle) {
        const index = window.findIndex((p) => p.opts.docKey !== undefined && slot.open.has(p.opts.docKey) && this.eligible(p))
        if (index >= 0) {
          chosen = { slot, index }
          break
        }
      }
      if (!chosen) {
        const index = this.queue.findIndex((p) => this.eligible(p))
        if (index < 0) break // everything waiting belongs to keys at their share
        chosen = { slot: idle[0]!, index }
      }
      const [pending] = this.queue.splice(chosen.index, 1)
      void this.dispatch(chosen.slot, pending!)
    }
    let starting = this.slots.filter((s) => !s.ready).length
    const runnable = this.queue.filter((p) => this.eligible(p)).length
    while (runnable > starting && this.slots.length < this.opts.workers && !this.closed) {
      this.spawn()
      starting++
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, {
      workerData: { memoryBytes: this.opts.memoryBytes, recycleBytes: this.opts.recycleBytes } satisfies WorkerOptions,
      // The engine's WebAssembly memory is capped separately; this bounds the JS side.
      resourceLimits: { maxOldGenerationSizeMb: this.opts.heapMb ?? 256 },
      stdout: true,
      stderr: true,
    })
    worker.stdout.resume()
    worker.stderr.resume()
    worker.unref()
    const slot: Slot = { worker, ready: false, open: new Set(), gone: false }
    this.slots.push(slot)
    worker.on('message', (msg: WorkerReply) => this.onMessage(slot, msg))
    worker.on('error', (e: Error & { code?: string }) => {
      const limit: Limit = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory_limit' : 'engine_error'
      this.opts.log.warn({ err: { type: e.name, message: e.message, code: e.code } }, 'pdf worker died')
      void this.lose(slot, limit, e)
    })
    worker.on('exit', () => void this.lose(slot, 'engine_error'))
    return slot
  }

  private wireSource(p: Pending): WireSource | undefined {
    const s = p.opts.source
    if (!s) return undefined
    return 'path' in s ? { type: 'path', path: s.path } : { type: 'proxy', size: s.reader.size }
  }

  private async dispatch(slot: Slot, pending: Pending, withBytes?: boolean): Promise<void> {
    slot.busy = pending
    const key = pending.opts.fairnessKey
    if (key !== undefined && !pending.retried) this.running.set(key, (this.running.get(key) ?? 0) + 1)
    const docKey = pending.opts.docKey
    let bytes: Uint8Array | undefined
    const needBytes = withBytes ?? (pending.opts.loadBytes !== undefined && (docKey === undefined || !slot.open.has(docKey)))
    if (needBytes && pending.opts.loadBytes) {
      try {
        bytes = await pending.opts.loadBytes()
      } catch (e) {
        this.finish(slot)
        pending.reject(e)
        this.pump()
        return
      }
      if (slot.gone) return // lose() already failed this request
      // Transfer only a buffer the bytes own alone (Node's small Buffers share a pool slab).
      if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) bytes = new Uint8Array(bytes)
    }
    const msg: JobMessage = { type: 'job', id: this.nextId++, kind: pending.kind, input: pending.input, source: this.wireSource(pending), docKey, bytes, password: bytes ? pending.opts.password : undefined }
    // Until the worker says `started`, the limit also covers loading the kind (once per worker).
    this.arm(slot, pending, this.timeout(pending) + PREPARE_MS)
    slot.worker.ref() // a job in flight keeps the process alive
    slot.worker.postMessage(msg, bytes ? [bytes.buffer as ArrayBuffer] : [])
  }

  private arm(slot: Slot, pending: Pending, ms: number): void {
    clearTimeout(slot.timer)
    const timeoutMs = this.timeout(pending)
    slot.timer = setTimeout(() => {
      this.opts.log.warn({ blob: pending.opts.docKey?.slice(0, 12), job: pending.kind, limitMs: timeoutMs }, 'pdf job over its time limit; worker terminated')
      void this.remove(slot, limitError(this.family(pending), 'timeout', timeoutMs))
    }, ms)
  }

  private finish(slot: Slot): Pending | undefined {
    const pending = slot.busy
    clearTimeout(slot.timer)
    slot.busy = undefined
    slot.worker.unref()
    const key = pending?.opts.fairnessKey
    if (key !== undefined) {
      const n = (this.running.get(key) ?? 1) - 1
      if (n <= 0) this.running.delete(key)
      else this.running.set(key, n)
    }
    return pending
  }

  private serveRead(slot: Slot, msg: Extract<WorkerReply, { type: 'read' }>): void {
    const source = slot.busy?.opts.source
    const answer = (a: ReadAnswer, transfer: ArrayBuffer[] = []) => {
      if (!slot.gone) slot.worker.postMessage(a, transfer)
    }
    if (!source || !('reader' in source)) return answer({ type: 'read', reqId: msg.reqId, error: 'no reader for this job' })
    source.reader.read(msg.position, msg.length).then(
      (buf) => {
        const own = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength ? buf : new Uint8Array(buf)
        answer({ type: 'read', reqId: msg.reqId, bytes: own }, [own.buffer as ArrayBuffer])
      },
      (e: unknown) => answer({ type: 'read', reqId: msg.reqId, error: e instanceof Error ? e.message.slice(0, 200) : 'read failed' }),
    )
  }

  private onMessage(slot: Slot, msg: WorkerReply): void {
    if (slot.gone) return
    if (msg.type === 'ready') {
      slot.ready = true
      this.startFailures = 0
      this.pump()
      return
    }
    if (msg.type === 'read') return this.serveRead(slot, msg)
    const pending = slot.busy
    if (!pending) return
    if (msg.type === 'started') return this.arm(slot, pending, this.timeout(pending))
    if (msg.type === 'failed' && msg.error.type === 'missing' && !pending.retried && pending.opts.loadBytes) {
      slot.open = new Set(msg.open)
      pending.retried = true
      clearTimeout(slot.timer)
      void this.dispatch(slot, pending, true)
      return
    }
    this.finish(slot)
    if (msg.type === 'done') {
      slot.open = new Set(msg.open)
      if (msg.heapBytes !== undefined) slot.heapBytes = msg.heapBytes
      pending.resolve(msg.result)
      if (msg.recycle) void this.remove(slot, undefined)
    } else if (msg.type === 'failed') {
      slot.open = new Set(msg.open)
      pending.reject(rebuild(this.family(pending), msg.error))
    } else {
      this.opts.log.warn({ blob: pending.opts.docKey?.slice(0, 12), job: pending.kind, reason: msg.reason, engine: msg.message }, 'pdf worker aborted; replaced')
      const limit: Limit = msg.reason === 'memory_limit' ? 'memory_limit' : 'engine_error'
      pending.reject(limitError(this.family(pending), limit, this.timeout(pending), new Error(msg.message)))
      void this.remove(slot, undefined)
    }
    this.pump()
  }

  /** The worker died on its own (crash, exit, heap limit): fail its job, forget it, maybe start another. */
  private async lose(slot: Slot, limit: Limit, cause?: unknown): Promise<void> {
    if (slot.gone) return
    if (!slot.ready) {
      // It never started: do not spin; fail what waits if nothing else can run it.
      this.startFailures++
      this.opts.log.error({ err: cause instanceof Error ? { type: cause.name, message: cause.message } : undefined }, 'pdf worker failed to start')
      if (this.startFailures >= 3 || this.slots.every((s) => s === slot || !s.ready)) {
        for (const p of this.queue.splice(0)) p.reject(new FolioError('service_unavailable', {}, { cause }))
      }
    }
    const pending = slot.busy
    await this.remove(slot, pending ? limitError(this.family(pending), limit, this.timeout(pending), cause) : undefined)
  }

  private async remove(slot: Slot, error: FolioError | undefined, respawn = true): Promise<void> {
    if (slot.gone) return
    slot.gone = true
    const pending = this.finish(slot)
    if (pending) pending.reject(error ?? limitError(this.family(pending), 'engine_error', this.timeout(pending)))
    const i = this.slots.indexOf(slot)
    if (i >= 0) this.slots.splice(i, 1)
    if (slot.ready || pending) this.replaced++
    await slot.worker.terminate().catch(() => {})
    if (respawn && !this.closed) this.pump()
  }
}
