/**
 * The OpenTelemetry side of tracing, loaded only when ENABLE_OPENTELEMETRY=true (see index.ts).
 * Spans are batched and exported over OTLP/HTTP (protobuf or JSON) to the configured collector.
 * Hand-made instrumentation of Folio's own seams (fastify hooks, the Db and BlobStore interfaces,
 * the worker pool) instead of the auto-instrumentation packages: three small wrappers, no
 * monkey-patching of libraries, and the span names and attributes stay Folio's.
 *
 * What never goes into a span: query parameters (the `jwt` and `token` of a URL), SQL
 * parameters, headers, bodies. SQL text is parameterised (`$1`), so it carries no values.
 */
import { context, diag, DiagLogLevel, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api'
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, NodeTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler,
} from '@opentelemetry/sdk-trace-node'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TracingConfig } from '../config.js'
import type { Db, Queryable } from '../db/db.js'
import type { Logger } from '../log.js'
import type { BlobStore } from '../storage/blob-store.js'
import type { JobRunner, Tracing } from './index.js'

const MAX_SQL_CHARS = 2000

function sampler(c: TracingConfig): Sampler {
  switch (c.sampler) {
    case 'always_on': return new AlwaysOnSampler()
    case 'always_off': return new AlwaysOffSampler()
    case 'traceidratio': return new TraceIdRatioBasedSampler(c.samplerRatio)
    case 'parentbased_always_on': return new ParentBasedSampler({ root: new AlwaysOnSampler() })
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(c.samplerRatio) })
  }
}

/** Runs `fn` inside a new span that ends when it settles; errors mark the span and pass on. */
function inSpan<T>(tracer: Tracer, name: string, kind: SpanKind, attributes: Record<string, string | number>, fn: () => Promise<T>, isError = (_e: unknown) => true): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn()
    } catch (e) {
      if (isError(e)) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).name })
        span.setAttribute('error.type', (e as Error).name ?? 'Error')
      }
      throw e
    } finally {
      span.end()
    }
  })
}

export function createTracing(c: TracingConfig, log: Logger): Tracing {
  // The SDK's own complaints (collector unreachable, export refused) go to Folio's log.
  diag.setLogger({
    error: (m) => log.warn({ component: 'opentelemetry' }, m),
    warn: (m) => log.warn({ component: 'opentelemetry' }, m),
    info: () => {}, debug: () => {}, verbose: () => {},
  }, DiagLogLevel.WARN)
  const exporterOptions = { url: c.url, headers: { ...c.headers }, timeoutMillis: c.timeoutMs }
  const exporter = c.protocol === 'http/json' ? new JsonExporter(exporterOptions) : new ProtoExporter(exporterOptions)
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ ...c.resourceAttributes, 'service.name': c.serviceName }),
    sampler: sampler(c),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  })
  // Installs the AsyncLocalStorage context manager and the W3C trace-context propagator (once
  // per process); the tracer itself is taken from this provider, not the global one, so two
  // Folio apps in one process (tests) keep their own exporters.
  provider.register()
  const tracer = provider.getTracer('folio')

  const spans = new WeakMap<FastifyRequest, Span>()
  const endRequest = (req: FastifyRequest, status?: number) => {
    const span = spans.get(req)
    if (!span) return
    spans.delete(req)
    const route = req.routeOptions?.url
    if (route) {
      span.updateName(`${req.method} ${route}`)
      span.setAttribute('http.route', route)
    }
    if (status === undefined) {
      span.setAttribute('error.type', 'request_aborted')
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'aborted' })
    } else {
      span.setAttribute('http.response.status_code', status)
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
    }
    span.end()
  }

  return {
    instrumentHttp(app: FastifyInstance) {
      app.addHook('onRequest', (req, _reply, done) => {
        const parent = propagation.extract(ROOT_CONTEXT, req.headers)
        const span = tracer.startSpan(req.method, {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': req.method,
            'url.path': req.url.split('?')[0]!, // never the query: it may carry a jwt or token
            'url.scheme': req.protocol,
            'network.peer.address': req.socket.remoteAddress ?? '',
          },
        }, parent)
        spans.set(req, span)
        // The rest of the request's lifecycle runs inside this context, so the database,
        // storage and render spans it causes become children of the request's span.
        context.with(trace.setSpan(parent, span), done)
      })
      app.addHook('onResponse', (req, reply, done) => {
        endRequest(req, reply.statusCode)
        done()
      })
      app.addHook('onRequestAbort', (req, done) => {
        endRequest(req)
        done()
      })
    },

    wrapDb(db: Db): Db {
      const attrs = (text: string) => ({
        'db.system.name': 'postgresql',
        'db.query.text': text.length > MAX_SQL_CHARS ? `${text.slice(0, MAX_SQL_CHARS)}…` : text,
        'db.operation.name': /^\s*(\w+)/.exec(text)?.[1]?.toLowerCase() ?? '',
      })
      const query = (q: Queryable) => <T extends Record<string, unknown>>(text: string, params?: unknown[]) =>
        inSpan(tracer, `db.query ${attrs(text)['db.operation.name']}`.trim(), SpanKind.CLIENT, attrs(text), () => q.query<T>(text, params))
      return {
        ...db,
        query: query(db),
        transaction: (fn) => inSpan(tracer, 'db.transaction', SpanKind.INTERNAL, { 'db.system.name': 'postgresql' },
          () => db.transaction((tx) => fn({ ...tx, query: query(tx) } as typeof tx))),
        listen: (channel, onPayload, onListen) => db.listen(channel, onPayload, onListen),
        notify: (channel, payload) => db.notify(channel, payload),
        close: () => db.close(),
      }
    },

    wrapBlobStore(store: BlobStore): BlobStore {
      const op = <T>(name: string, fn: () => Promise<T>) =>
        inSpan(tracer, `storage.${name}`, SpanKind.CLIENT, { 'folio.storage.backend': store.type }, fn,
          (e) => (e as Error).name !== 'BlobNotFoundError') // an absent blob is an answer, not a failure
      return {
        type: store.type,
        put: (key, staged, ctx) => op('put', () => store.put(key, staged, ctx)),
        get: (key, range, ctx) => op('get', () => store.get(key, range, ctx)),
        exists: (key, ctx) => op('exists', () => store.exists(key, ctx)),
        delete: (key, ctx) => op('delete', () => store.delete(key, ctx)),
        check: () => op('check', () => store.check()),
        close: () => store.close?.(),
      }
    },

    wrapJobRunner<P extends JobRunner>(pool: P): P {
      const run = pool.run.bind(pool)
      pool.run = ((kind: string, input: unknown, opts?: unknown) => {
        const attributes: Record<string, string | number> = { 'folio.job.op': kind }
        const page = (input as { pageIndex?: unknown } | null)?.pageIndex
        if (typeof page === 'number') attributes['folio.page_index'] = page
        return inSpan(tracer, `worker.${kind}`, SpanKind.INTERNAL, attributes, () => run(kind, input, opts))
      }) as P['run']
      return pool
    },

    async shutdown() {
      await provider.shutdown()
    },
  }
}
