/**
 * A PDF work thread (worker_threads). It runs one job at a time, of any kind in JOB_KINDS; each
 * kind's handler module is imported on first use, so a worker that only inspects uploads never
 * loads the rendering engine. The main thread's event loop never waits on PDF parsing.
 *
 * Errors: a PdfInspectError, FolioError or JobFailure is sent back as data and rebuilt on the
 * main thread (the worker stays); anything else (a WebAssembly trap, a parser bug) is `fatal`
 * and the pool replaces this worker.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { FolioError } from '../errors.js'
import { PdfInspectError } from '../pdf/errors.js'
import { openFileReader, type RandomAccessReader } from '../pdf/reader.js'
import { heldKeys, JobFailure, MissingDocument, WorkerTrap, type JobContext, type JobModule } from './job-context.js'
import { JOB_KINDS, type JobKind } from './kinds.js'
import type { JobMessage, ReadAnswer, WireError, WorkerOptions, WorkerReply } from './protocol.js'

const options = workerData as WorkerOptions
const port = parentPort!
const handlers = new Map<JobKind, Promise<JobModule>>()
const reads = new Map<number, { resolve(b: Buffer): void; reject(e: Error): void }>()
let nextRead = 1

function post(reply: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(reply, transfer)
}

function handler(kind: JobKind): Promise<JobModule> {
  let h = handlers.get(kind)
  if (!h) {
    const entry = JOB_KINDS[kind]
    if (!entry) throw new JobFailure('engine_error', `unknown job kind ${String(kind)}`)
    h = import(new URL(entry.module, import.meta.url).href) as Promise<JobModule>
    handlers.set(kind, h)
  }
  return h
}

/** Reads of a proxied source go to the main thread, which owns the blob store. */
function proxyReader(jobId: number, size: number): RandomAccessReader {
  return {
    size,
    read(position, length) {
      return new Promise<Buffer>((resolve, reject) => {
        const reqId = nextRead++
        reads.set(reqId, { resolve, reject })
        post({ type: 'read', id: jobId, reqId, position, length })
      })
    },
  }
}

function wireError(e: unknown): WireError | undefined {
  if (e instanceof PdfInspectError) return { type: 'pdf', reason: e.reason, limit: e.limit, message: e.message }
  if (e instanceof FolioError) return { type: 'folio', code: e.code, details: e.details, message: e.message }
  if (e instanceof JobFailure) return { type: 'job', reason: e.reason, message: e.message }
  if (e instanceof MissingDocument) return { type: 'missing' }
  return undefined
}

async function run(msg: JobMessage): Promise<void> {
  let closeSource: (() => Promise<void>) | undefined
  try {
    let source: RandomAccessReader | undefined
    if (msg.source?.type === 'path') {
      const file = await openFileReader(msg.source.path)
      closeSource = () => file.close()
      source = file
    } else if (msg.source?.type === 'proxy') source = proxyReader(msg.id, msg.source.size)
    const ctx: JobContext = { source, docKey: msg.docKey, bytes: msg.bytes, password: msg.password, transfer: [], recycle: false, memoryBytes: options.memoryBytes, recycleBytes: options.recycleBytes ?? options.memoryBytes * 0.75 }
    const mod = await handler(msg.kind)
    await mod.prepare?.(ctx)
    post({ type: 'started', id: msg.id })
    const result = await mod.handle(msg.input, ctx)
    post({ type: 'done', id: msg.id, result, open: heldKeys(), recycle: ctx.recycle, heapBytes: ctx.heapBytes }, ctx.transfer)
  } catch (e) {
    const error = wireError(e)
    if (error) post({ type: 'failed', id: msg.id, error, open: heldKeys() })
    else {
      const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
      post({ type: 'fatal', id: msg.id, reason: e instanceof WorkerTrap ? e.reason : 'engine_error', message: message.slice(0, 200) })
    }
  } finally {
    await closeSource?.().catch(() => {})
  }
}

port.on('message', (msg: JobMessage | ReadAnswer) => {
  if (msg.type === 'read') {
    const pending = reads.get(msg.reqId)
    reads.delete(msg.reqId)
    if (!pending) return
    if (msg.bytes) pending.resolve(Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset, msg.bytes.byteLength))
    else pending.reject(new JobFailure('io_error', msg.error ?? 'read failed'))
    return
  }
  void run(msg)
})

post({ type: 'ready' })
