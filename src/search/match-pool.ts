/**
 * Worker threads that run client regular expressions (and presets) with a time limit: a
 * catastrophically backtracking pattern cannot stall the event loop or a render worker; past
 * `timeoutMs` its worker is terminated (which stops V8 mid-match) and the search answers 422
 * `search_timeout`. A bounded queue in front (full → 429 `search_queue_full`).
 *
 * Not the render pool: no PDF is opened here, the time limit is a fraction of a second rather
 * than RENDER_TIMEOUT_MS, and a terminated match worker costs no engine start-up.
 */
import { Worker } from 'node:worker_threads'
import { FolioError } from '../errors.js'
import type { Logger } from '../log.js'
import type { MatchPage, MatchResult } from './match.js'
import { WORKER_DOCS, type MatchReply, type MatchRequest } from './match-protocol.js'

export interface MatchPoolOptions {
  workers: number
  timeoutMs: number
  queueMax: number
  log: Logger
}

export interface MatchTask {
  docKey: string
  pages: () => MatchPage[]
  source: string
  flags: string
  maxResults: number
}

interface Pending {
  task: MatchTask
  resolve(r: MatchResult): void
  reject(e: unknown): void
}

interface Slot {
  worker: Worker
  /** The documents the worker holds, oldest first (mirrors match-worker.ts). */
  docs: string[]
  busy?: { id: number; pending: Pending; timer: NodeJS.Timeout }
  gone: boolean
}

const WORKER_URL = new URL('./match-worker.js', import.meta.url)

export class MatchPool {
  private readonly slots: Slot[] = []
  private readonly queue: Pending[] = []
  private nextId = 1
  private closed = false

  constructor(private readonly opts: MatchPoolOptions) {}

  run(task: MatchTask): Promise<MatchResult> {
    if (this.closed) return Promise.reject(new FolioError('service_unavailable'))
    if (this.queue.length >= this.opts.queueMax) return Promise.reject(new FolioError('search_queue_full', { limit: this.opts.queueMax }))
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject })
      this.pump()
    })
  }

  async close(): Promise<void> {
    this.closed = true
    for (const p of this.queue.splice(0)) p.reject(new FolioError('service_unavailable'))
    await Promise.all([...this.slots].map((s) => this.remove(s, new FolioError('service_unavailable'))))
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.busy && !s.gone)
      if (!slot) {
        if (this.slots.length >= this.opts.workers || this.closed) return
        slot = this.spawn()
      }
      this.dispatch(slot, this.queue.shift()!)
    }
  }

  private spawn(): Slot {
    // The JS heap of a match worker holds a few documents' text; bound it like a render worker's.
    const worker = new Worker(WORKER_URL, { resourceLimits: { maxOldGenerationSizeMb: 256 } })
    worker.unref()
    const slot: Slot = { worker, docs: [], gone: false }
    this.slots.push(slot)
    worker.on('message', (reply: MatchReply) => this.onReply(slot, reply))
    worker.on('error', (e) => {
      this.opts.log.warn({ err: { type: e.name, message: e.message } }, 'match worker died')
      void this.remove(slot, new FolioError('internal_error', {}, { cause: e }))
    })
    worker.on('exit', () => void this.remove(slot, new FolioError('internal_error')))
    return slot
  }

  private dispatch(slot: Slot, pending: Pending): void {
    const id = this.nextId++
    const { task } = pending
    const has = slot.docs.includes(task.docKey)
    const msg: MatchRequest = { id, docKey: task.docKey, source: task.source, flags: task.flags, maxResults: task.maxResults }
    if (!has) {
      msg.pages = task.pages()
      slot.docs.push(task.docKey)
      while (slot.docs.length > WORKER_DOCS) slot.docs.shift()
    }
    const timer = setTimeout(() => {
      this.opts.log.warn({ limitMs: this.opts.timeoutMs }, 'search pattern ran past SEARCH_TIMEOUT_MS; match worker terminated')
      void this.remove(slot, new FolioError('search_timeout', { limit: this.opts.timeoutMs }))
    }, this.opts.timeoutMs)
    slot.busy = { id, pending, timer }
    slot.worker.ref()
    slot.worker.postMessage(msg)
  }

  private onReply(slot: Slot, reply: MatchReply): void {
    const busy = slot.busy
    if (!busy || busy.id !== reply.id || slot.gone) return
    clearTimeout(busy.timer)
    slot.busy = undefined
    slot.worker.unref()
    if (reply.result) busy.pending.resolve(reply.result)
    else {
      slot.docs = [] // its state is unknown now; send texts again next time
      busy.pending.reject(new FolioError('internal_error', {}, { cause: new Error(reply.error) }))
    }
    this.pump()
  }

  private async remove(slot: Slot, error: FolioError): Promise<void> {
    if (slot.gone) return
    slot.gone = true
    if (slot.busy) {
      clearTimeout(slot.busy.timer)
      slot.busy.pending.reject(error)
      slot.busy = undefined
    }
    const i = this.slots.indexOf(slot)
    if (i >= 0) this.slots.splice(i, 1)
    await slot.worker.terminate().catch(() => {})
    if (!this.closed) this.pump()
  }
}
