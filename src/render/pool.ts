/**
 * The render pool (issue #6 "isolation and limits"): up to `workers` worker threads, started on
 * first use, each running one job at a time; a bounded queue in front (full → 429); a time
 * limit per job (past it the worker is terminated, mid-WebAssembly if need be, and replaced);
 * a worker whose engine aborts or dies is replaced and only its own request fails.
 *
 * Jobs prefer a worker that already has their document open; the document's bytes are sent
 * only to a worker that has not (each reply lists what the worker has open).
 */
import { Worker } from 'node:worker_threads'
import { FolioError } from '../errors.js'
import type { Logger } from '../log.js'
import type { Job, JobMessage, JobResult, RenderFailure, WorkerOptions, WorkerReply } from './protocol.js'

export interface PoolOptions {
  workers: number
  queueMax: number
  timeoutMs: number
  memoryBytes: number
  log: Logger
}

export interface PoolTask {
  /** Identifies the document's bytes (the blob key): equal keys, equal bytes. */
  docKey: string
  /** A fresh buffer on each call: the pool transfers it to a worker, which detaches it here. */
  loadBytes(): Promise<Uint8Array>
  /** Opens an encrypted PDF; the docKey must then differ from the key without password. */
  password?: string
  job: Job
}

export interface PoolStats {
  workers: number
  busy: number
  queued: number
  /** Workers terminated because of a timeout, an engine abort, a crash or memory growth. */
  replaced: number
}

interface Pending {
  task: PoolTask
  resolve(r: JobResult): void
  reject(e: unknown): void
  retried: boolean
}

interface Slot {
  worker: Worker
  ready: boolean
  open: Set<string>
  busy?: Pending
  timer?: NodeJS.Timeout
  gone: boolean
}

const AFFINITY_LOOKAHEAD = 8
const WORKER_URL = new URL('./worker.js', import.meta.url)

export function renderFailed(reason: RenderFailure, cause?: unknown): FolioError {
  return new FolioError('render_failed', { reason }, { cause })
}

export class RenderPool {
  private readonly slots: Slot[] = []
  private readonly queue: Pending[] = []
  private nextId = 1
  private closed = false
  private replaced = 0
  private startFailures = 0

  constructor(private readonly opts: PoolOptions) {}

  run(task: PoolTask): Promise<JobResult> {
    if (this.closed) return Promise.reject(new FolioError('service_unavailable'))
    if (this.queue.length >= this.opts.queueMax) {
      return Promise.reject(new FolioError('render_queue_full', { limit: this.opts.queueMax }))
    }
    return new Promise<JobResult>((resolve, reject) => {
      this.queue.push({ task, resolve, reject, retried: false })
      this.pump()
    })
  }

  stats(): PoolStats {
    return {
      workers: this.slots.length,
      busy: this.slots.filter((s) => s.busy).length,
      queued: this.queue.length,
      replaced: this.replaced,
    }
  }

  async close(): Promise<void> {
    this.closed = true
    for (const p of this.queue.splice(0)) p.reject(new FolioError('service_unavailable'))
    // A copy: remove() splices this.slots synchronously, which would make map skip every other slot.
    await Promise.all([...this.slots].map((s) => this.remove(s, new FolioError('service_unavailable'), false)))
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const idle = this.slots.filter((s) => s.ready && !s.busy && !s.gone)
      if (idle.length === 0) break
      // A worker with the document open skips the copy and the parse.
      let chosen: { slot: Slot; index: number } | undefined
      for (const slot of idle) {
        const index = this.queue.slice(0, AFFINITY_LOOKAHEAD).findIndex((p) => slot.open.has(p.task.docKey))
        if (index >= 0) {
          chosen = { slot, index }
          break
        }
      }
      chosen ??= { slot: idle[0]!, index: 0 }
      const [pending] = this.queue.splice(chosen.index, 1)
      void this.dispatch(chosen.slot, pending!)
    }
    const starting = this.slots.filter((s) => !s.ready).length
    while (this.queue.length > starting && this.slots.length < this.opts.workers && !this.closed) this.spawn()
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, {
      workerData: { memoryBytes: this.opts.memoryBytes } satisfies WorkerOptions,
      // The engine's WebAssembly memory is capped separately; this bounds the JS side.
      resourceLimits: { maxOldGenerationSizeMb: 256 },
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
      const reason: RenderFailure = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory_limit' : 'engine_error'
      this.opts.log.warn({ err: { type: e.name, message: e.message, code: e.code } }, 'render worker died')
      void this.lose(slot, reason, e)
    })
    worker.on('exit', () => void this.lose(slot, 'engine_error'))
    return slot
  }

  private async dispatch(slot: Slot, pending: Pending, withBytes = !slot.open.has(pending.task.docKey)): Promise<void> {
    slot.busy = pending
    let bytes: Uint8Array | undefined
    if (withBytes) {
      try {
        bytes = await pending.task.loadBytes()
      } catch (e) {
        slot.busy = undefined
        pending.reject(e)
        this.pump()
        return
      }
      if (slot.gone) return // lose() already failed this request
      // Transfer only a buffer the bytes own alone (Node's small Buffers share a pool slab).
      if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) bytes = new Uint8Array(bytes)
    }
    const msg: JobMessage = { type: 'job', id: this.nextId++, docKey: pending.task.docKey, bytes, password: bytes ? pending.task.password : undefined, job: pending.task.job }
    slot.timer = setTimeout(() => {
      this.opts.log.warn({ blob: pending.task.docKey.slice(0, 12), job: pending.task.job.op, page: pending.task.job.pageIndex }, 'render timed out; worker terminated')
      void this.remove(slot, renderFailed('timeout'))
    }, this.opts.timeoutMs)
    slot.worker.ref() // a job in flight keeps the process alive
    slot.worker.postMessage(msg, bytes ? [bytes.buffer as ArrayBuffer] : [])
  }

  private finish(slot: Slot): Pending | undefined {
    const pending = slot.busy
    clearTimeout(slot.timer)
    slot.busy = undefined
    slot.worker.unref()
    return pending
  }

  private onMessage(slot: Slot, msg: WorkerReply): void {
    if (slot.gone) return
    if (msg.type === 'ready') {
      slot.ready = true
      this.startFailures = 0
      this.pump()
      return
    }
    const pending = this.finish(slot)
    if (!pending) return
    if (msg.type === 'done') {
      slot.open = new Set(msg.open)
      pending.resolve(msg.result)
      if (msg.recycle) void this.remove(slot, undefined)
    } else if (msg.type === 'failed') {
      slot.open = new Set(msg.open)
      if (msg.reason === 'missing' && !pending.retried) {
        pending.retried = true
        void this.dispatch(slot, pending, true)
        return
      }
      pending.reject(renderFailed(msg.reason === 'missing' ? 'engine_error' : msg.reason, new Error(msg.message)))
    } else {
      this.opts.log.warn({ blob: pending.task.docKey.slice(0, 12), reason: msg.reason, engine: msg.message }, 'render engine aborted; worker replaced')
      pending.reject(renderFailed(msg.reason, new Error(msg.message)))
      void this.remove(slot, undefined)
    }
    this.pump()
  }

  /** The worker died on its own (crash, exit): fail its job, forget it, maybe start another. */
  private async lose(slot: Slot, reason: RenderFailure, cause?: unknown): Promise<void> {
    if (slot.gone) return
    if (!slot.ready) {
      // It never started: do not spin; fail what waits if nothing else can run it.
      this.startFailures++
      this.opts.log.error({ err: cause instanceof Error ? { type: cause.name, message: cause.message } : undefined }, 'render worker failed to start')
      if (this.startFailures >= 3 || this.slots.every((s) => s === slot || !s.ready)) {
        for (const p of this.queue.splice(0)) p.reject(new FolioError('service_unavailable', {}, { cause }))
      }
    }
    await this.remove(slot, renderFailed(reason, cause))
  }

  private async remove(slot: Slot, error: FolioError | undefined, respawn = true): Promise<void> {
    if (slot.gone) return
    slot.gone = true
    const pending = this.finish(slot)
    if (pending) pending.reject(error ?? renderFailed('engine_error'))
    const i = this.slots.indexOf(slot)
    if (i >= 0) this.slots.splice(i, 1)
    if (slot.ready || pending) this.replaced++
    await slot.worker.terminate().catch(() => {})
    if (respawn && !this.closed) this.pump()
  }
}
