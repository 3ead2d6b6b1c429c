/**
 * GET /metrics (spec §8: Prometheus text, API token required) and the HTTP metrics (issue #9):
 * requests per route template and status, their latency, and requests in flight. Routes are
 * labelled by their template (`/api/documents/:documentId`), never the raw path, and unmatched
 * paths share one label, so a scan of random URLs cannot grow the series without bound.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { parseApiTokenHeader, type ApiTokenVerifier } from '../auth/api-token.js'
import { FolioError } from '../errors.js'
import type { MetricsRegistry } from '../metrics/registry.js'
import { mediaResponse } from './openapi.js'
import { errors } from './reply.js'

export interface MetricsDeps { metrics: MetricsRegistry; apiTokens: ApiTokenVerifier }

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
const START = Symbol('folioMetricsStart')

function routeOf(req: FastifyRequest): string {
  return req.routeOptions.url ?? 'unmatched'
}

/** Adds the hooks on the root instance: every surface is measured. */
export function instrumentHttp(app: FastifyInstance, metrics: MetricsRegistry): void {
  const requests = metrics.counter('folio_http_requests_total', 'HTTP requests answered, by method, route template and status', ['method', 'route', 'status'])
  const duration = metrics.histogram('folio_http_request_duration_seconds', 'Time from request to the end of the response, by method, route template and status', ['method', 'route', 'status'], HTTP_BUCKETS)
  const inFlight = metrics.gauge('folio_http_requests_in_flight', 'HTTP requests being handled now')
  inFlight.set(0)
  app.addHook('onRequest', async (req, reply) => {
    ;(req as unknown as Record<symbol, bigint>)[START] = process.hrtime.bigint()
    inFlight.inc()
    // 'close' comes for finished and for aborted responses alike (onResponse only for the first).
    reply.raw.once('close', () => inFlight.dec())
  })
  app.addHook('onResponse', async (req, reply) => {
    const start = (req as unknown as Record<symbol, bigint | undefined>)[START]
    const labels = { method: req.method, route: routeOf(req), status: String(reply.statusCode) }
    requests.inc(labels)
    if (start !== undefined) duration.observe(Number(process.hrtime.bigint() - start) / 1e9, labels)
  })
}

export async function metricsRoutes(app: FastifyInstance, deps: MetricsDeps) {
  const authFailures = deps.metrics.counter('folio_auth_failures_total', 'Refused credentials, by surface and reason', ['surface', 'reason'])
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
      authFailures.inc({ surface: 'metrics', reason: token === undefined ? 'missing' : 'invalid' })
      throw new FolioError('unauthorized')
    }
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').header('cache-control', 'no-store')
    return deps.metrics.expose()
  })
}
