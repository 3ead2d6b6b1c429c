/**
 * Metrics for the infrastructure that every request goes through (issue #9): the database
 * (queries, transactions, connections in use against the pool size) and the blob store
 * (operations per backend with their latency). Wrappers, so the adapters stay unchanged.
 */
import type { Db, Queryable } from '../db/db.js'
import type { BlobStore } from '../storage/blob-store.js'
import type { MetricsRegistry } from './registry.js'

const DB_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export function instrumentDb(db: Db, metrics: MetricsRegistry): Db {
  const queries = metrics.histogram('folio_db_query_duration_seconds', 'Time of each database query', ['outcome'], DB_BUCKETS)
  const txs = metrics.histogram('folio_db_transaction_duration_seconds', 'Time of each database transaction', ['outcome'], DB_BUCKETS)
  const busy = metrics.gauge('folio_db_connections_in_use', 'Database queries and transactions in progress: running, or waiting for one of folio_db_connections_max connections')
  const max = metrics.gauge('folio_db_connections_max', 'Connections the database pool may open (PGlite: 1)')
  max.set(db.maxConnections ?? 1)
  busy.set(0)
  let inUse = 0

  const timed = <T>(h: typeof queries, track: boolean, run: () => Promise<T>): Promise<T> => {
    const done = h.startTimer()
    if (track) busy.set(++inUse)
    return run().then(
      (v) => {
        done({ outcome: 'ok' })
        return v
      },
      (e: unknown) => {
        done({ outcome: 'error' })
        throw e
      },
    ).finally(() => {
      if (track) busy.set(--inUse)
    })
  }
  const wrapTx = <Q extends Queryable>(tx: Q): Q => ({
    ...tx,
    query: (text: string, params?: unknown[]) => timed(queries, false, () => tx.query(text, params)),
  }) as Q

  return {
    ...db,
    query: (text, params) => timed(queries, true, () => db.query(text, params)),
    transaction: (fn) => timed(txs, true, () => db.transaction((tx) => fn(wrapTx(tx)))),
    listen: (channel, onPayload) => db.listen(channel, onPayload),
    notify: (channel, payload) => db.notify(channel, payload),
    close: () => db.close(),
  }
}

export function instrumentBlobStore(store: BlobStore, metrics: MetricsRegistry): BlobStore {
  const ops = metrics.histogram('folio_blob_operation_duration_seconds',
    'Time of asset storage operations (get: until the first byte is ready)', ['backend', 'operation', 'outcome'])
  const time = <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    const done = ops.startTimer({ backend: store.type, operation })
    return run().then(
      (v) => {
        done({ outcome: 'ok' })
        return v
      },
      (e: unknown) => {
        done({ outcome: (e as Error).name === 'BlobNotFoundError' ? 'not_found' : 'error' })
        throw e
      },
    )
  }
  return {
    type: store.type,
    put: (key, staged, ctx) => time('put', () => store.put(key, staged, ctx)),
    get: (key, range, ctx) => time('get', () => store.get(key, range, ctx)),
    exists: (key, ctx) => time('exists', () => store.exists(key, ctx)),
    delete: (key, ctx) => time('delete', () => store.delete(key, ctx)),
    check: () => time('check', () => store.check()),
    close: () => store.close?.(),
  }
}
