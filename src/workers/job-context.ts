/**
 * What a job handler (jobs/*.ts) gets inside its worker, and how it reports a clean failure.
 * Imported by worker-side modules only.
 */
import type { RandomAccessReader } from '../pdf/reader.js'

export interface JobContext {
  /** The job's PDF, read by ranges (a file the worker opened, or the main thread's reader). */
  readonly source: RandomAccessReader | undefined
  /** Identifies the bytes of `source`/`bytes` (a blob key) when the caller gave one: a cache key. */
  readonly docKey: string | undefined
  /** The whole PDF, when the pool sent it (engines that need bytes in memory). */
  readonly bytes: Uint8Array | undefined
  /** Opens an encrypted PDF; sent with the bytes only, never stored or logged. */
  readonly password?: string
  /** Buffers of the result to transfer rather than copy. */
  readonly transfer: ArrayBuffer[]
  /** Set by a handler that left the worker with too much memory: the pool replaces it after this job. */
  recycle: boolean
  /** The worker's options (WebAssembly memory cap). */
  readonly memoryBytes: number
  /** Engine memory past which the handler sets `recycle` (RENDER_WORKER_RECYCLE_MB). */
  readonly recycleBytes: number
  /** Engine memory after the job, reported to the pool (a gauge). */
  heapBytes?: number
}

export type JobHandler<I, O> = (input: I, ctx: JobContext) => Promise<O> | O

/** A kind's module: `handle`, and optionally `prepare` (one-time set-up not counted against the job's time limit). */
export interface JobModule<I = unknown, O = unknown> {
  handle: JobHandler<I, O>
  prepare?: (ctx: JobContext) => Promise<void>
}

/** A failure a handler reports cleanly (the worker stays usable); `reason` is the kind's own. */
export class JobFailure extends Error {
  constructor(readonly reason: string, message: string) {
    super(message)
    this.name = 'JobFailure'
  }
}

/** Thrown when a job needs `bytes` the worker does not hold: the pool resends with them once. */
export class MissingDocument extends Error {
  override readonly name = 'MissingDocument'
}

/** The job left the worker's state undefined (a WebAssembly trap): reported `fatal` with `reason`, the worker is replaced. */
export class WorkerTrap extends Error {
  constructor(readonly reason: string, message: string) {
    super(message)
    this.name = 'WorkerTrap'
  }
}

/** Keys of what this worker holds open (documents, parsed structures), for the pool's affinity. */
const holders: Array<() => Iterable<string>> = []

export function registerHeld(list: () => Iterable<string>): void {
  holders.push(list)
}

export function heldKeys(): string[] {
  return holders.flatMap((h) => [...h()])
}
