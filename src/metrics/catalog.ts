/**
 * Folio's metrics that more than one room uses or that are read from another room's state,
 * declared here once (name, help, labels), so the surfaces and app.ts cannot drift apart.
 * The HTTP metrics are in http/metrics.ts, the database and blob-store ones in instrument.ts.
 */
import type { Counter, MetricsRegistry } from './registry.js'

const authFailureCounters = new WeakMap<MetricsRegistry, Counter>()

/** Refused credentials, by surface (`api`, `client`, `metrics`, …) and reason. */
export function authFailures(metrics: MetricsRegistry): Counter {
  let c = authFailureCounters.get(metrics)
  if (c === undefined) {
    c = metrics.counter('folio_auth_failures_total', 'Refused credentials, by surface and reason', ['surface', 'reason'])
    authFailureCounters.set(metrics, c)
  }
  return c
}

export interface RenderStats { queued: number; busy: number; workers: number; replaced: number; cacheBytes: number; hotBytes?: number; cacheEntries?: number }
export interface JwtCacheStats { size: number; hits: number; misses: number }

/** The render queue, workers and page cache, and the JWT verification cache, read at each scrape. */
export function registerRenderAndJwtMetrics(metrics: MetricsRegistry, src: { render: () => RenderStats; jwtCache: () => JwtCacheStats }): void {
  const renderQueue = metrics.gauge('folio_render_queue_length', 'Pages waiting for a render worker')
  const renderBusy = metrics.gauge('folio_render_workers_busy', 'Render workers rendering now')
  const renderWorkers = metrics.gauge('folio_render_workers', 'Render workers running')
  const renderReplaced = metrics.gauge('folio_render_workers_replaced', 'Render workers replaced since start (timeout, crash, memory)')
  const renderCacheBytes = metrics.gauge('folio_render_cache_bytes', 'Bytes of rendered pages in the disk cache')
  const jwtCache = metrics.gauge('folio_jwt_cache', 'JWT verification cache: entries, hits and misses since start', ['stat'])
  const jwtEntries = jwtCache.labels('entries')
  const jwtHits = jwtCache.labels('hits')
  const jwtMisses = jwtCache.labels('misses')
  metrics.onCollect(() => {
    const r = src.render()
    renderQueue.set(r.queued)
    renderBusy.set(r.busy)
    renderWorkers.set(r.workers)
    renderReplaced.set(r.replaced)
    renderCacheBytes.set(r.cacheBytes)
    const j = src.jwtCache()
    jwtEntries.set(j.size)
    jwtHits.set(j.hits)
    jwtMisses.set(j.misses)
  })
}

export interface CacheState { cache: string; entries?: number; bytes?: number; maxEntries?: number; maxBytes?: number }

/**
 * Every in-memory or on-disk cache by name: what it holds and its configured bound, read at
 * each scrape, so a dashboard shows a cache filling towards its cap (and never past it).
 */
export function registerCacheMetrics(metrics: MetricsRegistry, read: () => CacheState[]): void {
  const entries = metrics.gauge('folio_cache_entries', 'Entries held by each cache', ['cache'])
  const bytes = metrics.gauge('folio_cache_bytes', 'Bytes held by each cache that is bounded by size', ['cache'])
  const maxEntries = metrics.gauge('folio_cache_max_entries', 'Configured entry bound of each cache', ['cache'])
  const maxBytes = metrics.gauge('folio_cache_max_bytes', 'Configured byte bound of each cache', ['cache'])
  metrics.onCollect(() => {
    for (const c of read()) {
      if (c.entries !== undefined) entries.labels(c.cache).set(c.entries)
      if (c.bytes !== undefined) bytes.labels(c.cache).set(c.bytes)
      if (c.maxEntries !== undefined) maxEntries.labels(c.cache).set(c.maxEntries)
      if (c.maxBytes !== undefined) maxBytes.labels(c.cache).set(c.maxBytes)
    }
  })
}
