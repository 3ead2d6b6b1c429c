/**
 * The metrics registry behind GET /metrics (spec §8): prom-client, one `Registry` per app
 * instance (tests run several apps in one process, so never prom-client's global default),
 * with prom-client's default process and runtime metrics (`process_cpu_seconds_total`,
 * `process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`, heap spaces, GC) under the
 * names stock dashboards expect.
 *
 * A thin face over prom-client, for two reasons:
 * - **series bound**: a metric stops taking new label combinations past MAX_SERIES (counted
 *   in `folio_metrics_series_dropped_total`), so a bug that puts a free value into a label
 *   cannot exhaust memory; prom-client itself has no such bound;
 * - **hot path**: `labels(...values)` returns a pre-bound child, resolved once and kept, so a
 *   per-request observation is a map lookup at most and allocates no label object (prom-client's
 *   `inc({ … })` hashes the label object on every call).
 *
 * Registering the same name again returns the same metric (type and label names must agree).
 * Metrics that several rooms share are declared once, in metrics/catalog.ts.
 */
import { Counter as PromCounter, Gauge as PromGauge, Histogram as PromHistogram, Registry, collectDefaultMetrics } from 'prom-client'

export type Labels = Record<string, string | number>

export interface CounterChild { inc(value?: number): void }
export interface GaugeChild { set(value: number): void; inc(value?: number): void; dec(value?: number): void }
export interface HistogramChild { observe(value: number): void }

export interface Counter {
  inc(labels?: Labels, value?: number): void
  /** The series for these label values (in the order of the label names), bound once. */
  labels(...values: string[]): CounterChild
}
export interface Gauge {
  set(value: number, labels?: Labels): void
  inc(labels?: Labels, value?: number): void
  dec(labels?: Labels, value?: number): void
  labels(...values: string[]): GaugeChild
}
export interface Histogram {
  observe(value: number, labels?: Labels): void
  /** Starts a timer; calling the result observes the seconds elapsed. */
  startTimer(labels?: Labels): (more?: Labels) => number
  labels(...values: string[]): HistogramChild
}

type Kind = 'counter' | 'gauge' | 'histogram'

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/
export const MAX_SERIES = 2000
/** Seconds, for request and operation latencies (1 ms … 60 s). */
export const DEFAULT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

type PromMetric = PromCounter<string> | PromGauge<string> | PromHistogram<string>

const noop = { inc() {}, dec() {}, set() {}, observe() {} }

/** One registered metric: its prom-client object and its bound children. */
class Entry<C> {
  private readonly children = new Map<string, C>()
  private readonly root: C | undefined

  constructor(
    readonly name: string,
    readonly kind: Kind,
    readonly labelNames: readonly string[],
    readonly prom: PromMetric,
    private readonly onDrop: () => void,
  ) {
    // An unlabelled metric is its own only series.
    this.root = labelNames.length === 0 ? (prom as unknown as C) : undefined
  }

  child(values: string[]): C {
    if (this.root !== undefined) return this.root
    const key = values.length === 1 ? values[0]! : values.join('\u0000')
    let c = this.children.get(key)
    if (c === undefined) {
      if (values.length !== this.labelNames.length) throw new Error(`metric ${this.name}: expected labels ${this.labelNames.join(', ')}`)
      if (this.children.size >= MAX_SERIES) {
        this.onDrop()
        return noop as C
      }
      c = (this.prom as PromCounter<string>).labels(...values) as unknown as C
      this.children.set(key, c)
    }
    return c
  }

  /** The label values of a label object, in label-name order; unknown or missing names throw. */
  values(labels: Labels = {}): string[] {
    const out = this.labelNames.map((n) => {
      const v = labels[n]
      if (v === undefined) throw new Error(`metric ${this.name}: label ${n} is missing`)
      return String(v)
    })
    for (const k in labels) if (!this.labelNames.includes(k)) throw new Error(`metric ${this.name}: unknown label ${k}`)
    return out
  }
}

export class MetricsRegistry {
  /** The prom-client registry of this app instance. */
  readonly registry = new Registry()
  private readonly entries = new Map<string, { face: Counter | Gauge | Histogram; entry: Entry<unknown> }>()
  private readonly collectors: Array<() => void | Promise<void>> = []
  private readonly dropped: PromCounter<string>

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    this.dropped = new PromCounter({ name: 'folio_metrics_series_dropped_total', help: 'Observations dropped because a metric reached its series limit', registers: [this.registry] })
    // prom-client's process and runtime metrics, on this registry only.
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 })
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter {
    return this.register(name, 'counter', labelNames, () => {
      const e = this.entry<CounterChild>('counter', labelNames, new PromCounter({ name, help, labelNames, registers: [this.registry] }))
      const check = (value: number) => {
        if (value < 0) throw new Error(`counter ${name} cannot decrease`)
      }
      return {
        face: {
          inc(labels, value = 1) {
            check(value)
            e.child(e.values(labels)).inc(value)
          },
          labels: (...values) => e.child(values),
        } satisfies Counter,
        entry: e,
      }
    })
  }

  gauge(name: string, help: string, labelNames: string[] = []): Gauge {
    return this.register(name, 'gauge', labelNames, () => {
      const e = this.entry<GaugeChild>('gauge', labelNames, new PromGauge({ name, help, labelNames, registers: [this.registry] }))
      return {
        face: {
          set: (value, labels) => e.child(e.values(labels)).set(value),
          inc: (labels, value = 1) => e.child(e.values(labels)).inc(value),
          dec: (labels, value = 1) => e.child(e.values(labels)).dec(value),
          labels: (...values) => e.child(values),
        } satisfies Gauge,
        entry: e,
      }
    })
  }

  histogram(name: string, help: string, labelNames: string[] = [], buckets: number[] = DEFAULT_BUCKETS): Histogram {
    return this.register(name, 'histogram', labelNames, () => {
      if (labelNames.includes('le')) throw new Error(`invalid label name le on ${name}`)
      const sorted = [...buckets].sort((a, b) => a - b)
      const e = this.entry<HistogramChild>('histogram', labelNames, new PromHistogram({ name, help, labelNames, buckets: sorted, registers: [this.registry] }))
      const observe = (value: number, labels?: Labels) => e.child(e.values(labels)).observe(value)
      return {
        face: {
          observe,
          startTimer(labels = {}) {
            const t0 = process.hrtime.bigint()
            return (more = {}) => {
              const seconds = Number(process.hrtime.bigint() - t0) / 1e9
              observe(seconds, { ...labels, ...more })
              return seconds
            }
          },
          labels: (...values) => e.child(values),
        } satisfies Histogram,
        entry: e,
      }
    })
  }

  /** Runs before each exposition: for gauges read from elsewhere (pools, caches, queues). */
  onCollect(fn: () => void | Promise<void>): void {
    this.collectors.push(fn)
  }

  /** The Prometheus text exposition (format 0.0.4) of every metric. */
  async expose(): Promise<string> {
    await Promise.all(this.collectors.map(async (c) => {
      try {
        await c()
      } catch {
        // A failing collector leaves its gauges at their last values; the scrape still works.
      }
    }))
    return this.registry.metrics()
  }

  /** Forgets every metric (the app is closing). */
  close(): void {
    this.registry.clear()
    this.entries.clear()
    this.collectors.length = 0
  }

  get contentType(): string {
    return this.registry.contentType
  }

  private entry<C>(kind: Kind, labelNames: string[], prom: PromMetric): Entry<C> {
    return new Entry<C>((prom as unknown as { name: string }).name, kind, labelNames, prom, () => this.dropped.inc())
  }

  private register<T>(name: string, kind: Kind, labelNames: string[], make: () => { face: unknown; entry: Entry<unknown> }): T {
    if (!NAME_RE.test(name)) throw new Error(`invalid metric name ${name}`)
    for (const l of labelNames) {
      if (!LABEL_RE.test(l) || l.startsWith('__') || (kind === 'histogram' && l === 'le')) throw new Error(`invalid label name ${l} on ${name}`)
    }
    const existing = this.entries.get(name)
    if (existing) {
      if (existing.entry.kind !== kind || existing.entry.labelNames.join() !== labelNames.join()) {
        throw new Error(`metric ${name} is already registered as a ${existing.entry.kind} with labels [${existing.entry.labelNames.join(', ')}]`)
      }
      return existing.face as T
    }
    const made = make() as { face: Counter | Gauge | Histogram; entry: Entry<unknown> }
    this.entries.set(name, made)
    return made.face as T
  }
}

export function createMetricsRegistry(opts: { defaultMetrics?: boolean } = {}): MetricsRegistry {
  return new MetricsRegistry(opts)
}
