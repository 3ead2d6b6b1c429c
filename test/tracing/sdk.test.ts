/**
 * Tracing (ENABLE_OPENTELEMETRY + the standard OTEL_* variables): a real Folio exports its spans
 * over OTLP/HTTP to a small receiver on 127.0.0.1, and the spans form one trace per request:
 * HTTP server span → database, storage and worker (render) spans, continuing the caller's W3C
 * traceparent. Without ENABLE_OPENTELEMETRY nothing is exported.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { loadConfig } from '../../src/config.js'
import { request } from '../helpers/http.js'
import { makePdf } from '../helpers/pdf-fixtures.js'
import { authHeader, startFolio, TEST_API_TOKEN } from '../helpers/start-folio.js'

interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes: Array<{ key: string; value: Record<string, unknown> }>
}
interface Export { contentType: string; path: string; body: Buffer; headers: Record<string, unknown> }

let receiver: Server
let receiverUrl: string
const exports: Export[] = []

before(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (d: Buffer) => chunks.push(d))
    req.on('end', () => {
      exports.push({ contentType: String(req.headers['content-type']), path: req.url ?? '', body: Buffer.concat(chunks), headers: req.headers })
      const json = String(req.headers['content-type']).includes('json')
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '')
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
})
after(() => {
  receiver.close()
})

/** OTLP/JSON ids are hex; some encoders send base64: accept both. */
const hex = (id: string | undefined) => (id === undefined || id === '' || /^[0-9a-f]+$/.test(id) ? id || undefined : Buffer.from(id, 'base64').toString('hex'))

function spansOf(list: Export[]): { spans: OtlpSpan[]; serviceNames: string[] } {
  const spans: OtlpSpan[] = []
  const serviceNames: string[] = []
  for (const e of list) {
    const doc = JSON.parse(e.body.toString()) as { resourceSpans: Array<{ resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }> }
    for (const rs of doc.resourceSpans) {
      serviceNames.push(String(rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue))
      for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, traceId: hex(s.traceId)!, spanId: hex(s.spanId)!, parentSpanId: hex(s.parentSpanId) })
    }
  }
  return { spans, serviceNames }
}

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value
  return v === undefined ? undefined : (v.stringValue ?? v.intValue ?? v.boolValue)
}

test('with ENABLE_OPENTELEMETRY, requests export HTTP → database, storage and render spans in one trace, continuing the caller’s traceparent', async () => {
  exports.length = 0
  const traceId = randomBytes(16).toString('hex')
  const callerSpan = randomBytes(8).toString('hex')
  const f = await startFolio({
    env: {
      ENABLE_OPENTELEMETRY: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'folio-under-test', OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=abc%20def',
    },
  })
  let closed = false
  try {
    const up = await request(`${f.url}/api/documents`, {
      method: 'POST',
      headers: { ...authHeader(), 'content-type': 'application/pdf', traceparent: `00-${traceId}-${callerSpan}-01` },
      body: makePdf({ pages: [{ width: 200, height: 200, text: 'traced' }] }),
    })
    assert.equal(up.status, 200)
    const id = up.body.data.document_id as string
    const img = await fetch(`${f.url}/api/documents/${id}/pages/0/image?width=100`, { headers: authHeader() })
    assert.equal(img.status, 200)
    await img.arrayBuffer()
    const health = await fetch(`${f.url}/healthcheck?jwt=secret-in-the-query-string`)
    await health.arrayBuffer()
    await f.close() // flushes the batch
    closed = true

    assert.ok(exports.length > 0, 'the receiver got spans')
    assert.ok(exports.every((e) => e.path === '/v1/traces' && e.contentType.startsWith('application/json')))
    assert.equal(exports[0]!.headers['x-collector-key'], 'abc def', 'OTEL_EXPORTER_OTLP_HEADERS are sent')
    const { spans, serviceNames } = spansOf(exports)
    assert.ok(serviceNames.every((n) => n === 'folio-under-test'), serviceNames.join())
    const byId = new Map(spans.map((s) => [s.spanId, s]))
    const rootOf = (s: OtlpSpan): OtlpSpan => {
      let cur = s
      while (cur.parentSpanId && byId.has(cur.parentSpanId)) cur = byId.get(cur.parentSpanId)!
      return cur
    }

    const upload = spans.find((s) => s.name === 'POST /api/documents')
    assert.ok(upload, `an upload span among ${spans.map((s) => s.name).join(', ')}`)
    assert.equal(upload.kind, 2, 'SERVER')
    assert.equal(upload.traceId, traceId, 'the caller’s trace is continued')
    assert.equal(upload.parentSpanId, callerSpan)
    assert.equal(attr(upload, 'http.response.status_code'), 200)
    const inUpload = spans.filter((s) => s !== upload && rootOf(s) === upload)
    assert.ok(inUpload.some((s) => s.name.startsWith('db.query') && attr(s, 'db.system.name') === 'postgresql'), 'database spans in the upload')
    assert.ok(inUpload.some((s) => s.name === 'db.transaction'), 'a transaction span in the upload')
    assert.ok(inUpload.some((s) => s.name === 'storage.put' && attr(s, 'folio.storage.backend') === 'filesystem'), 'a storage span in the upload')

    const page = spans.find((s) => s.name === 'GET /api/documents/:documentId/pages/:pageIndex/image')
    assert.ok(page, `a page image span among ${[...new Set(spans.map((s) => s.name))].join(', ')}`)
    assert.notEqual(page.traceId, traceId, 'a request without traceparent starts its own trace')
    const inPage = spans.filter((s) => s !== page && rootOf(s) === page)
    assert.ok(inPage.some((s) => s.name === 'worker.render' && attr(s, 'folio.job.op') === 'render'), 'the render job in the page request')
    assert.ok(inPage.some((s) => s.name === 'storage.get'), 'the read of the document bytes')

    const raw = exports.map((e) => e.body.toString()).join('\n')
    assert.ok(raw.includes('"/healthcheck"'), 'the health check is traced, by its path')
    for (const secret of ['secret-in-the-query-string', TEST_API_TOKEN, 'Token token=']) assert.ok(!raw.includes(secret), `no ${secret} in spans`)
  } finally {
    if (!closed) await f.close()
    await f.storage.drop()
  }
})

test('the default protocol is OTLP/HTTP protobuf at OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', async () => {
  exports.length = 0
  const f = await startFolio({ env: { ENABLE_OPENTELEMETRY: 'true', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiverUrl}/custom/traces` } })
  try {
    await (await fetch(`${f.url}/healthcheck`)).arrayBuffer()
  } finally {
    await f.destroy()
  }
  assert.ok(exports.length > 0)
  assert.equal(exports[0]!.path, '/custom/traces')
  assert.equal(exports[0]!.contentType, 'application/x-protobuf')
  const bytes = Buffer.concat(exports.map((e) => e.body)).toString('latin1')
  assert.ok(bytes.includes('GET /healthcheck') && bytes.includes('folio'), 'span name and service name in the protobuf')
})

test('tracing is off by default: OTEL_* variables alone export nothing, and OTEL_SDK_DISABLED wins', async () => {
  assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl }).tracing, undefined)
  assert.equal(loadConfig({ ENABLE_OPENTELEMETRY: 'true', OTEL_SDK_DISABLED: 'true' }).tracing, undefined)
  exports.length = 0
  const f = await startFolio({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } })
  try {
    await (await fetch(`${f.url}/healthcheck`)).arrayBuffer()
  } finally {
    await f.destroy()
  }
  assert.equal(exports.length, 0)
})

test('OTEL_* values are validated like every variable, naming it and never echoing header values', () => {
  const bad = {
    ENABLE_OPENTELEMETRY: 'true', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_TRACES_SAMPLER: 'sometimes',
    OTEL_EXPORTER_OTLP_HEADERS: 'authorization', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
  }
  assert.throws(() => loadConfig(bad), (e: Error) => {
    assert.match(e.message, /OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not allowed; use one of http\/protobuf http\/json/)
    assert.match(e.message, /OTEL_TRACES_SAMPLER: "sometimes"/)
    assert.match(e.message, /OTEL_EXPORTER_OTLP_HEADERS: is not a list of key=value pairs/)
    assert.match(e.message, /OTEL_EXPORTER_OTLP_ENDPOINT: is not an http\(s\) URL/)
    assert.doesNotMatch(e.message, /authorization/)
    return true
  })
  const ok = loadConfig({ ENABLE_OPENTELEMETRY: 'true', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=staging' })
  assert.deepEqual({ ...ok.tracing, headers: { ...ok.tracing!.headers }, resourceAttributes: { ...ok.tracing!.resourceAttributes } }, {
    serviceName: 'folio', url: 'http://localhost:4318/v1/traces', protocol: 'http/protobuf', headers: {}, timeoutMs: 10000,
    sampler: 'parentbased_traceidratio', samplerRatio: 0.25, resourceAttributes: { 'deployment.environment': 'staging' },
  })
})
