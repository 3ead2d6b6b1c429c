import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MAX_SERIES, MetricsRegistry } from '../../src/metrics/registry.js'

describe('metrics registry', () => {
  test('counters, gauges and histograms come out in the Prometheus text format', async () => {
    const m = new MetricsRegistry()
    const c = m.counter('t_requests_total', 'Requests\nby "kind"', ['kind'])
    c.inc({ kind: 'a' })
    c.inc({ kind: 'a' }, 2)
    c.inc({ kind: 'quote " back \\ nl \n' })
    m.gauge('t_queue', 'Queue length').set(7)
    const h = m.histogram('t_seconds', 'Latency', [], [0.1, 1])
    h.observe(0.05)
    h.observe(0.5)
    h.observe(5)
    const text = await m.expose()
    assert.match(text, /^# HELP t_requests_total Requests\\nby "kind"$/m)
    assert.match(text, /^# TYPE t_requests_total counter$/m)
    assert.match(text, /^t_requests_total\{kind="a"\} 3$/m)
    assert.match(text, /^t_requests_total\{kind="quote \\" back \\\\ nl \\n"\} 1$/m)
    assert.match(text, /^t_queue 7$/m)
    assert.match(text, /^t_seconds_bucket\{le="0.1"\} 1$/m)
    assert.match(text, /^t_seconds_bucket\{le="1"\} 2$/m)
    assert.match(text, /^t_seconds_bucket\{le="\+Inf"\} 3$/m)
    assert.match(text, /^t_seconds_sum 5.55$/m)
    assert.match(text, /^t_seconds_count 3$/m)
  })

  test('registering a name again returns the same metric; a conflicting type or labels is refused', async () => {
    const m = new MetricsRegistry()
    m.counter('t_total', 'x', ['a']).inc({ a: '1' })
    m.counter('t_total', 'x', ['a']).inc({ a: '1' })
    assert.match(await m.expose(), /^t_total\{a="1"\} 2$/m)
    assert.throws(() => m.gauge('t_total', 'x', ['a']), /already registered/)
    assert.throws(() => m.counter('t_total', 'x', ['b']), /already registered/)
    assert.throws(() => m.counter('bad-name', 'x'), /invalid metric name/)
    assert.throws(() => m.histogram('t_h', 'x', ['le']), /invalid label name/)
    assert.throws(() => m.counter('t_total', 'x', ['a']).inc({ b: '1' } as never), /label a is missing|unknown label/)
    assert.throws(() => m.counter('t_total', 'x', ['a']).inc({ a: '1' }, -1), /cannot decrease/)
  })

  test('a metric stops taking new series at its limit, and the drops are counted', async () => {
    const m = new MetricsRegistry()
    const c = m.counter('t_many_total', 'x', ['id'])
    for (let i = 0; i < MAX_SERIES + 5; i++) c.inc({ id: String(i) })
    const text = await m.expose()
    assert.equal(text.split('\n').filter((l) => l.startsWith('t_many_total{')).length, MAX_SERIES)
    assert.match(text, /^folio_metrics_series_dropped_total 5$/m)
  })
})
