/**
 * GET /metrics (spec §8: Prometheus text, API token required) and the HTTP metrics (issue #9):
 * requests per route template and status, their latency, and requests in flight. Routes are
 * labelled by their template (`/api/documents/:documentId`), never the raw path, and unmatched
 * paths share one label, so a scan of random URLs cannot grow the series without bound.
 */
import type { FastifyInstance } from 'fastify'
import { parseApiTokenHeader, type ApiTokenVerifier } from '../auth/api-token.js'
import { FolioError } from '../errors.js'
import { authFailures } from '../metrics/catalog.js'
import type { CounterChild, HistogramChild, MetricsRegistry } from '../metrics/registry.js'
import { mediaResponse } from './openapi.js'
import { errors } from './reply.js'

export interface MetricsDeps { metrics: MetricsRegistry; apiTokens: ApiTokenVerifier }

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
const START = Symbol('folioMetricsStart')

interface RequestSeries { requests: CounterChild; duration: HistogramChild }

/**
 * Adds the hooks on the root instance: every surface is measured. Per request this costs two
 * map lookups (route, then method + status) to reach pre-bound series, one clock read at each
 * end, and no label object: the hooks run for every request, so they must cost next to nothing.
 */
export function instrumentHttp(app: FastifyInstance, metrics: MetricsRegistry): void {
  const requests = metrics.counter('folio_http_requests_total', 'HTTP requests answered, by method, route template and status', ['method', 'route', 'status'])
  const duration = metrics.histogram('folio_http_request_duration_seconds', 'Time from request to the end of the response, by method, route template and status', ['method', 'route', 'status'], HTTP_BUCKETS)
  let inFlight = 0
  const inFlightGauge = metrics.gauge('folio_http_requests_in_flight', 'HTTP requests being handled now').labels()
  metrics.onCollect(() => inFlightGauge.set(inFlight))
  // route template → "METHOD status" → series. Both keys come from closed sets (registered
  // routes, HTTP methods the router accepts, three-digit statuses), so the maps stay small.
  const byRoute = new Map<string, Map<string, RequestSeries>>()
  const seriesOf = (method: string, route: string, status: number): RequestSeries => {
    let m = byRoute.get(route)
    if (m === undefined) byRoute.set(route, (m = new Map()))
    const key = method + status
    let s = m.get(key)
    if (s === undefined) {
      const st = String(status)
      s = { requests: requests.labels(method, route, st), duration: duration.labels(method, route, st) }
      m.set(key, s)
    }
    return s
  }
  const onClose = () => {
    inFlight--
  }
  app.addHook('onRequest', (req, reply, done) => {
    ;(req as unknown as Record<symbol, bigint>)[START] = process.hrtime.bigint()
    inFlight++
    // 'close' comes for finished and for aborted responses alike (onResponse only for the first).
    reply.raw.once('close', onClose)
    done()
  })
  app.addHook('onResponse', (req, reply, done) => {
    const start = (req as unknown as Record<symbol, bigint | undefined>)[START]
    const s = seriesOf(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode)
    s.requests.inc()
    if (start !== undefined) s.duration.observe(Number(process.hrtime.bigint() - start) / 1e9)
    done()
  })
}

export async function metricsRoutes(app: FastifyInstance, deps: MetricsDeps) {
  const failures = authFailures(deps.metrics)
  app.get('/metrics', {
    schema: {
      operationId: 'metrics',
      summary: 'Prometheus metrics of this node (text exposition format 0.0.4)',
      tags: ['Health'],
      // The text body is a string: fastify sends it as is, the schema only documents it.
      response: { 200: mediaResponse('Prometheus text exposition', { 'text/plain': { type: 'string' } }), ...errors(401) },
    },
  }, async (req, reply) => {
    const token = parseApiTokenHeader(req.headers.authorization)
    if (token === undefined || !deps.apiTokens.verify(token)) {
      failures.labels('metrics', token === undefined ? 'missing' : 'invalid').inc()
      throw new FolioError('unauthorized')
    }
    reply.header('content-type', deps.metrics.contentType).header('cache-control', 'no-store')
    return deps.metrics.expose()
  })
}
