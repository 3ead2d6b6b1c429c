/**
 * The one bounded in-memory map of Folio: entries expire after a time to live (or at a time
 * given per entry) and the least recently used goes first once `maxEntries` is reached. Every
 * memo and cache that must not grow with what clients send is one of these, instead of a Map
 * with its own eviction loop.
 *
 * LoadingCache adds the read-through memo used for rows other nodes may change: a load that
 * raced with an invalidation returns its result but does not store it.
 */
export interface TtlMapOptions {
  /** 0 or less: nothing is kept. */
  maxEntries: number
  /** Default time to live; without it entries live until evicted or deleted. */
  ttlMs?: number
  now?: () => number
}

export class TtlMap<K, V> {
  // A Map iterates in insertion order: re-inserting on each hit keeps the most recent last.
  private readonly entries = new Map<K, { value: V; expiresAt: number }>()
  private readonly now: () => number

  constructor(private readonly opts: TtlMapOptions) {
    this.now = opts.now ?? Date.now
  }

  get size(): number {
    return this.entries.size
  }

  /** The live value, refreshed as most recently used; expired entries are dropped. */
  get(key: K, nowMs: number = this.now()): V | undefined {
    const e = this.entries.get(key)
    if (e === undefined) return undefined
    if (nowMs >= e.expiresAt) {
      this.entries.delete(key)
      return undefined
    }
    this.entries.delete(key)
    this.entries.set(key, e)
    return e.value
  }

  /** `expiresAt` (ms since epoch) overrides the default time to live for this entry. */
  set(key: K, value: V, expiresAt?: number): void {
    if (this.opts.maxEntries <= 0) return
    const at = expiresAt ?? (this.opts.ttlMs === undefined ? Infinity : this.now() + this.opts.ttlMs)
    this.entries.delete(key)
    this.entries.set(key, { value, expiresAt: at })
    while (this.entries.size > this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value as K)
  }

  delete(key: K): void {
    this.entries.delete(key)
  }

  clear(): void {
    this.entries.clear()
  }

  /** Live and expired entries alike, least recently used first (for sweeps such as retainKeys). */
  *[Symbol.iterator](): IterableIterator<[K, V]> {
    for (const [k, e] of this.entries) yield [k, e.value]
  }
}

export class LoadingCache<V> {
  private readonly map: TtlMap<string, V>
  private epoch = 0

  constructor(ttlMs: number, maxEntries: number, now: () => number = Date.now) {
    this.map = new TtlMap({ ttlMs, maxEntries, now })
  }

  async get(id: string, load: () => Promise<V>): Promise<V> {
    const hit = this.map.get(id)
    if (hit !== undefined) return hit
    const started = this.epoch
    const value = await load()
    if (this.epoch === started) this.map.set(id, value)
    return value
  }

  /** Entries held (some may have expired and wait to be replaced or evicted): a metric. */
  get size(): number {
    return this.map.size
  }

  /** After a write to `id` commits, here or on another node. */
  invalidate(id: string): void {
    this.epoch++
    this.map.delete(id)
  }
}
