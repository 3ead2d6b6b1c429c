/**
 * GET /metrics (spec §8, issue #9): Prometheus text behind the API token; after traffic the
 * request, latency, auth-failure, database and blob-store metrics have moved.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { assertError, request } from '../helpers/http.js'
import { makePdf } from '../helpers/pdf-fixtures.js'
import { authHeader, dbKinds, startFolio, TEST_API_TOKEN, type TestFolio } from '../helpers/start-folio.js'

/** Parses the text exposition into series → value, checking every line's shape on the way. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('#')) {
      assert.match(line, /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*/, line)
      continue
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line)
    assert.ok(m, `a sample line: ${line}`)
    out.set(leLast(m[1]!), Number(m[2]))
  }
  return out
}

/**
 * Label order carries no meaning in the exposition format (prom-client writes a histogram's
 * `le` first): the series are keyed with `le` last, as the assertions spell them.
 */
function leLast(series: string): string {
  const m = /^([^{]+)\{(.*)\}$/.exec(series)
  if (!m) return series
  const pairs = m[2]!.split(/,(?=[a-zA-Z_]+=")/)
  const le = pairs.filter((p) => p.startsWith('le='))
  return `${m[1]}{${[...pairs.filter((p) => !p.startsWith('le=')), ...le].join(',')}}`
}

for (const db of dbKinds()) {
  describe(`/metrics (${db})`, () => {
    let f: TestFolio
    const scrape = async () => {
      const res = await fetch(`${f.url}/metrics`, { headers: authHeader() })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
      return parse(await res.text())
    }
    before(async () => {
      f = await startFolio({ db })
    })
    after(async () => {
      await f.destroy()
    })

    test('needs the API token, and refusals are counted by reason', async () => {
      assertError(await request(`${f.url}/metrics`), 401, 'unauthorized')
      assertError(await request(`${f.url}/metrics`, { headers: { authorization: 'Token token="wrong-token-0123456789abcdef0123"' } }), 401, 'unauthorized')
      assertError(await request(`${f.url}/metrics`, { headers: { authorization: `Bearer ${TEST_API_TOKEN}` } }), 401, 'unauthorized')
      const s = await scrape()
      assert.equal(s.get('folio_auth_failures_total{surface="metrics",reason="missing"}'), 2) // a Bearer header carries no API token
      assert.equal(s.get('folio_auth_failures_total{surface="metrics",reason="invalid"}'), 1)
    })

    test('JWT refusals on the client surfaces are counted by reason; render and JWT-cache gauges are exposed', async () => {
      await request(`${f.url}/i/d/x/document_info`)
      await request(`${f.url}/documents/x/document_info`, { headers: { authorization: 'Bearer not.a.jwt' } })
      const m = await scrape()
      assert.ok((m.get('folio_auth_failures_total{surface="client",reason="missing_token"}') ?? 0) >= 1, 'a missing token is counted')
      const malformed = [...m.entries()].filter(([k]) => k.startsWith('folio_auth_failures_total{surface="client"') && !k.includes('missing_token'))
      assert.ok(malformed.some(([, v]) => v >= 1), `a bad token is counted by its reason: ${malformed.map(([k]) => k).join(', ')}`)
      for (const name of ['folio_render_queue_length', 'folio_render_workers_busy', 'folio_render_cache_bytes', 'folio_jwt_cache{stat="entries"}']) {
        assert.ok(m.has(name), `${name} is exposed`)
      }
    })

    test('after traffic the counters, histograms and gauges have moved', async () => {
      const before = await scrape()
      const route = 'method="GET",route="/api/documents",status="200"'
      for (let i = 0; i < 3; i++) assert.equal((await request(`${f.url}/api/documents`, { headers: authHeader() })).status, 200)
      await request(`${f.url}/api/documents`) // 401
      await request(`${f.url}/no/such/path`)
      const up = await request(`${f.url}/api/documents`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: makePdf() })
      assert.equal(up.status, 200)
      const s = await scrape()
      const moved = (k: string) => (s.get(k) ?? 0) - (before.get(k) ?? 0)
      assert.equal(moved(`folio_http_requests_total{${route}}`), 3)
      assert.equal(moved(`folio_http_request_duration_seconds_count{${route}}`), 3)
      assert.equal(moved(`folio_http_request_duration_seconds_bucket{${route},le="+Inf"}`), 3)
      assert.ok(moved(`folio_http_request_duration_seconds_sum{${route}}`) > 0)
      assert.equal(moved('folio_http_requests_total{method="GET",route="/api/documents",status="401"}'), 1)
      assert.equal(moved('folio_http_requests_total{method="GET",route="unmatched",status="404"}'), 1, 'unknown paths share one label')
      assert.equal(moved('folio_http_requests_total{method="POST",route="/api/documents",status="200"}'), 1)
      assert.equal(moved('folio_auth_failures_total{surface="api",reason="missing"}'), 1)
      assert.equal(moved('folio_blob_operation_duration_seconds_count{backend="filesystem",operation="put",outcome="ok"}'), 1)
      assert.ok(moved('folio_db_query_duration_seconds_count{outcome="ok"}') >= 5)
      assert.ok(moved('folio_db_transaction_duration_seconds_count{outcome="ok"}') >= 1)
      assert.equal(s.get('folio_db_connections_max'), db === 'pglite' ? 1 : 10)
      assert.equal(s.get('folio_http_requests_in_flight'), 1, 'the scrape itself')
      assert.equal(s.get('folio_cluster_nodes{status="up"}'), 1)
      assert.ok((s.get('process_resident_memory_bytes') ?? 0) > 10_000_000)
      assert.ok([...s.keys()].every((k) => !k.includes('/no/such/path')))
    })
  })
}
