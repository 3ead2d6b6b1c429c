/**
 * Messages between the PDF work pool (main thread, pool.ts) and its worker threads (worker.ts).
 * Everything here crosses a `postMessage`, so it is structured-clone data only.
 */
import type { JobKind } from './kinds.js'

/** Where a job reads its PDF from, as the worker sees it. */
export type WireSource =
  /** A file the worker opens itself (a staged upload): no byte crosses the thread boundary. */
  | { type: 'path'; path: string; size?: undefined }
  /** Ranges asked of the main thread's reader (any blob store); `size` is known up front. */
  | { type: 'proxy'; size: number }

export interface JobMessage {
  type: 'job'
  id: number
  kind: JobKind
  input: unknown
  source?: WireSource
  /** Identifies the bytes behind `source`/`bytes` (a blob key): equal keys, equal bytes. */
  docKey?: string
  /** The whole PDF, for engines that need it in memory (PDFium); sent only to a worker without it. */
  bytes?: Uint8Array
  /** The PDF password, with the bytes only (it opens the document; never stored or logged). */
  password?: string
}

export interface ReadAnswer {
  type: 'read'
  reqId: number
  bytes?: Uint8Array
  error?: string
}

/** An error a job raised, carried across the boundary and rebuilt as the same class on the main thread. */
export type WireError =
  | { type: 'pdf'; reason: string; limit?: string; message: string }
  | { type: 'folio'; code: string; details: Record<string, unknown>; message: string }
  /** A failure the job reported cleanly (JobFailure): the worker stays usable. */
  | { type: 'job'; reason: string; message: string }
  /** The job needs `bytes` this worker does not have open: the pool sends them and retries once. */
  | { type: 'missing' }

export type WorkerReply =
  | { type: 'ready' }
  /** The job's handler is loaded and prepared (an engine compiled): its time limit starts now. */
  | { type: 'started'; id: number }
  | { type: 'done'; id: number; result: unknown; open: string[]; recycle: boolean; heapBytes?: number }
  | { type: 'failed'; id: number; error: WireError; open: string[] }
  /** The job left the worker in an undefined state (a WebAssembly trap): the pool replaces it. */
  | { type: 'fatal'; id: number; reason: string; message: string }
  /** The job asks the main thread for bytes of its proxied source. */
  | { type: 'read'; id: number; reqId: number; position: number; length: number }

export interface WorkerOptions {
  /** Cap of an engine's WebAssembly memory, bytes. */
  memoryBytes: number
  /** Past this much engine memory after a job, the worker asks to be replaced (default ¾ of the cap). */
  recycleBytes?: number
}
