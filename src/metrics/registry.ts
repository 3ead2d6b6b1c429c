/**
 * A small metrics registry with Prometheus text exposition (format 0.0.4), for GET /metrics
 * (spec §8, issue #9). Own code instead of prom-client: counters, gauges and histograms with
 * labels are all Folio needs, and each app (tests run several in one process) gets its own
 * registry rather than a process-wide default. Other rooms register their metrics here:
 *
 *   const failures = metrics.counter('folio_auth_failures_total', 'Refused credentials', ['surface', 'reason'])
 *   failures.inc({ surface: 'client', reason: 'expired' })
 *
 * Registering the same name again returns the same metric (so rooms need not coordinate), as
 * long as the type and label names agree. Label values are free text, escaped on output; a
 * metric stops taking new series past MAX_SERIES so a bug cannot exhaust memory.
 */
export type Labels = Record<string, string | number>

export interface Counter { inc(labels?: Labels, value?: number): void }
export interface Gauge { set(value: number, labels?: Labels): void; inc(labels?: Labels, value?: number): void; dec(labels?: Labels, value?: number): void }
export interface Histogram {
  observe(value: number, labels?: Labels): void
  /** Starts a timer; calling the result observes the seconds elapsed. */
  startTimer(labels?: Labels): (more?: Labels) => number
}

type Kind = 'counter' | 'gauge' | 'histogram'

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/
export const MAX_SERIES = 2000
/** Seconds, for request and operation latencies (1 ms … 60 s). */
export const DEFAULT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

interface Series { labels: string[]; value: number; buckets?: number[]; sum?: number }

class Metric {
  readonly series = new Map<string, Series>()
  dropped = 0
  constructor(
    readonly name: string,
    readonly help: string,
    readonly kind: Kind,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[] = [],
  ) {}

  get(labels: Labels = {}): Series | undefined {
    const values = this.labelNames.map((n) => {
      const v = labels[n]
      if (v === undefined) throw new Error(`metric ${this.name}: label ${n} is missing`)
      return String(v)
    })
    for (const k of Object.keys(labels)) {
      if (!this.labelNames.includes(k)) throw new Error(`metric ${this.name}: unknown label ${k}`)
    }
    const key = values.join('\u0000')
    let s = this.series.get(key)
    if (!s) {
      if (this.series.size >= MAX_SERIES) {
        this.dropped++
        return undefined
      }
      s = { labels: values, value: 0 }
      if (this.kind === 'histogram') {
        s.buckets = this.buckets.map(() => 0)
        s.sum = 0
      }
      this.series.set(key, s)
    }
    return s
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>()
  private readonly collectors: Array<() => void | Promise<void>> = []

  counter(name: string, help: string, labelNames: string[] = []): Counter {
    const m = this.register(name, help, 'counter', labelNames)
    return {
      inc(labels, value = 1) {
        if (value < 0) throw new Error(`counter ${name} cannot decrease`)
        const s = m.get(labels)
        if (s) s.value += value
      },
    }
  }

  gauge(name: string, help: string, labelNames: string[] = []): Gauge {
    const m = this.register(name, help, 'gauge', labelNames)
    return {
      set(value, labels) {
        const s = m.get(labels)
        if (s) s.value = value
      },
      inc(labels, value = 1) {
        const s = m.get(labels)
        if (s) s.value += value
      },
      dec(labels, value = 1) {
        const s = m.get(labels)
        if (s) s.value -= value
      },
    }
  }

  histogram(name: string, help: string, labelNames: string[] = [], buckets: number[] = DEFAULT_BUCKETS): Histogram {
    const sorted = [...buckets].sort((a, b) => a - b)
    const m = this.register(name, help, 'histogram', labelNames, sorted)
    const observe = (value: number, labels?: Labels) => {
      const s = m.get(labels)
      if (!s) return
      s.value++ // count
      s.sum! += value
      for (let i = 0; i < m.buckets.length; i++) if (value <= m.buckets[i]!) s.buckets![i]!++
    }
    return {
      observe,
      startTimer(labels = {}) {
        const t0 = process.hrtime.bigint()
        return (more = {}) => {
          const seconds = Number(process.hrtime.bigint() - t0) / 1e9
          observe(seconds, { ...labels, ...more })
          return seconds
        }
      },
    }
  }

  /** Runs before each exposition: for gauges read from elsewhere (pools, caches, queues). */
  onCollect(fn: () => void | Promise<void>): void {
    this.collectors.push(fn)
  }

  /** The Prometheus text exposition of every metric. */
  async expose(): Promise<string> {
    await Promise.all(this.collectors.map(async (c) => {
      try {
        await c()
      } catch {
        // A failing collector leaves its gauges at their last values; the scrape still works.
      }
    }))
    const out: string[] = []
    for (const m of this.metrics.values()) {
      out.push(`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.kind}`)
      for (const s of m.series.values()) {
        const pairs = m.labelNames.map((n, i) => `${n}="${escapeLabel(s.labels[i]!)}"`)
        if (m.kind !== 'histogram') {
          out.push(`${m.name}${braces(pairs)} ${num(s.value)}`)
          continue
        }
        m.buckets.forEach((b, i) => out.push(`${m.name}_bucket${braces([...pairs, `le="${num(b)}"`])} ${s.buckets![i]}`))
        out.push(`${m.name}_bucket${braces([...pairs, 'le="+Inf"'])} ${s.value}`)
        out.push(`${m.name}_sum${braces(pairs)} ${num(s.sum!)}`)
        out.push(`${m.name}_count${braces(pairs)} ${s.value}`)
      }
    }
    const dropped = [...this.metrics.values()].reduce((a, m) => a + m.dropped, 0)
    out.push('# HELP folio_metrics_series_dropped_total Observations dropped because a metric reached its series limit',
      '# TYPE folio_metrics_series_dropped_total counter', `folio_metrics_series_dropped_total ${dropped}`)
    return out.join('\n') + '\n'
  }

  private register(name: string, help: string, kind: Kind, labelNames: string[], buckets?: number[]): Metric {
    if (!NAME_RE.test(name)) throw new Error(`invalid metric name ${name}`)
    for (const l of labelNames) {
      if (!LABEL_RE.test(l) || l.startsWith('__') || (kind === 'histogram' && l === 'le')) throw new Error(`invalid label name ${l} on ${name}`)
    }
    const existing = this.metrics.get(name)
    if (existing) {
      if (existing.kind !== kind || existing.labelNames.join() !== labelNames.join()) {
        throw new Error(`metric ${name} is already registered as a ${existing.kind} with labels [${existing.labelNames.join(', ')}]`)
      }
      return existing
    }
    const m = new Metric(name, help, kind, labelNames, buckets)
    this.metrics.set(name, m)
    return m
  }
}

export function createMetricsRegistry(): MetricsRegistry {
  return new MetricsRegistry()
}

function braces(pairs: string[]): string {
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

// Exposition format: label values escape \, " and newline; HELP escapes \ and newline.
function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}
