/**
 * Mounts the surfaces by path prefix (spec §0) and the cross-cutting pieces: body limits,
 * timeouts, request ids, one log line per request, media-type checks, the error handler and
 * the not-found answer. Each surface is an encapsulated fastify scope with its own credential
 * hook (HOUSE-STYLE §2): a route cannot exist outside one.
 */
import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { FolioError } from '../errors.js'
import { createRequestLogger, type Logger } from '../log.js'
import { apiSurface, type ApiDeps } from './api/index.js'
import { dashboardSurface, type DashboardDeps } from './dashboard/index.js'
import { CLIENT_MOUNT, clientSurface, INTERNAL_MOUNT, type ClientDeps } from './client/index.js'
import { applyConnectionLimits, listenerOptions } from './connection-limits.js'
import { createErrorHandler } from './error-handler.js'
import { EventStreams } from './event-streams.js'
import { applyInputGuard } from './input-guard.js'
import { healthRoutes, type HealthDeps } from './health.js'
import { checkMediaType } from './media.js'
import { instrumentHttp, metricsRoutes, type MetricsDeps } from './metrics.js'
import { openApiRoutes, registerOpenApi } from './openapi.js'
import type { Tracing } from '../tracing/index.js'
import type { TlsPair } from '../net/tls.js'
import { validatorCompiler } from './validation.js'
import { viewerSurface } from './viewer.js'

/** JSON bodies (annotations, secrets...) are small; file uploads stream past this limit. */
export const JSON_BODY_LIMIT = 1024 * 1024

export interface HttpDeps extends ApiDeps, ClientDeps, DashboardDeps, HealthDeps, MetricsDeps {
  log: Logger
  version: string
  /** Native HTTPS (TLS_CERT_FILE / TLS_KEY_FILE); reloaded later through http/tls.ts. */
  tls?: TlsPair
  /** Present only with ENABLE_OPENTELEMETRY: a span per request. */
  tracing?: Pick<Tracing, 'instrumentHttp'>
}

export async function createHttpServer(config: Config, deps: HttpDeps): Promise<FastifyInstance> {
  const limits = listenerOptions(config)
  const handleError = createErrorHandler(JSON_BODY_LIMIT)
  const app = Fastify({
    loggerInstance: deps.log,
    // One line per request, written by the onResponse hook below, not fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    requestIdHeader: false, // a client-chosen id could forge log correlation
    bodyLimit: JSON_BODY_LIMIT,
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    clientErrorHandler: limits.clientErrorHandler,
    http: limits.serverOptions,
    // A URL that does not decode (e.g. a lone surrogate's bytes) gets Folio's error shape too.
    frameworkErrors: handleError,
    routerOptions: { maxParamLength: 512 },
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    return503OnClosing: true,
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key, ...limits.serverOptions } } : {}),
  }) as unknown as FastifyInstance // pino's Logger type is wider than FastifyBaseLogger
  // text/plain is not a body type of this API: answer 415 instead of parsing it as a string.
  app.removeContentTypeParser('text/plain')

  // First hook of all, so every later hook and handler runs inside the request's span.
  deps.tracing?.instrumentHttp(app)
  app.setValidatorCompiler(validatorCompiler)
  app.setErrorHandler(handleError)
  app.setNotFoundHandler(async () => {
    throw new FolioError('not_found')
  })
  instrumentHttp(app, deps.metrics)
  applyConnectionLimits(app, config)
  applyInputGuard(app)
  const eventStreams = new EventStreams(config.eventStreams)
  app.decorate('eventStreams', eventStreams)
  app.decorateRequest('streamCredential', undefined)
  app.addHook('onClose', async () => eventStreams.close())
  app.addHook('preParsing', (req, _reply, payload, done) => {
    try {
      checkMediaType(req)
    } catch (e) {
      return done(e as Error)
    }
    done(null, payload)
  })
  const requestLine = createRequestLogger(deps.log)
  // Callback-style hooks on the hot path: an async hook costs a promise and a microtask turn.
  app.addHook('onResponse', (req, reply, done) => {
    requestLine({ reqId: req.id, method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, ip: req.ip })
    done()
  })

  await registerOpenApi(app, deps.version)
  await app.register(healthRoutes, deps)
  await app.register(metricsRoutes, deps)
  await app.register(openApiRoutes)
  await app.register(async (api) => {
    await apiSurface(api, deps)
    // Inside the scope, so that probing unknown /api paths needs the token too.
    api.setNotFoundHandler(async () => {
      throw new FolioError('not_found')
    })
  }, { prefix: '/api' })
  // The client surfaces (JWT, spec §7): one implementation, two mounts, the same rights.
  await app.register(clientSurface(INTERNAL_MOUNT, deps), { prefix: '/i' })
  await app.register(clientSurface(CLIENT_MOUNT, deps), { prefix: '/documents' })
  // The dashboard: 404 on every path unless a username and a dashboard password exist.
  await app.register(dashboardSurface(deps), { prefix: '/dashboard' })
  await app.register(viewerSurface(deps), { prefix: '/viewer' })
  return app
}
