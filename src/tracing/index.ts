/**
 * Tracing (OpenTelemetry), optional and off by default (Document Engine's ENABLE_OPENTELEMETRY).
 * This file is the room's public face and imports nothing of OpenTelemetry: the SDK (sdk.ts) is
 * loaded with a dynamic import only when tracing is on, so a Folio without tracing loads no
 * OpenTelemetry module and pays nothing per request, query or storage call (the wrappers are
 * not installed at all).
 */
import type { FastifyInstance } from 'fastify'
import type { TracingConfig } from '../config.js'
import type { Db } from '../db/db.js'
import type { Logger } from '../log.js'
import type { BlobStore } from '../storage/blob-store.js'

/** Anything that runs jobs with an `op` in workers (the render pool today). */
/** The PDF work pool's face as tracing sees it: `run(kind, input, opts)` (workers/pool.ts). */
export interface JobRunner {
  run(kind: string, input: unknown, opts?: unknown): Promise<unknown>
}

export interface Tracing {
  /** One SERVER span per request, continuing an incoming W3C `traceparent`. Register first. */
  instrumentHttp(app: FastifyInstance): void
  /** A span per query and per transaction (the transaction's queries are its children). */
  wrapDb(db: Db): Db
  /** A span per storage operation (get: until the stream is ready). */
  wrapBlobStore(store: BlobStore): BlobStore
  /** A span per job run in a worker, queue wait included (patches `run` on the instance). */
  wrapJobRunner<P extends JobRunner>(pool: P): P
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>
}

export async function startTracing(config: TracingConfig, log: Logger): Promise<Tracing> {
  const { createTracing } = await import('./sdk.js')
  return createTracing(config, log)
}
