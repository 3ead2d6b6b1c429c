/**
 * A short-lived memo of document id → source blob and pages, for the page routes (issue #6):
 * a cached page image is otherwise served at the speed of one database read per request
 * (PGlite answers a few thousand a second at best, all serialised; STACK-NOTES §1).
 *
 * Correctness: this node's own writes (overwrite, delete) invalidate the entry after they
 * commit, and a read that raced with such a write does not store its (older) result. Writes on
 * other nodes sharing the database are seen after at most `ttlMs`.
 */
export class SourceCache<T> {
  private readonly entries = new Map<string, { value: T; expires: number }>()
  private epoch = 0

  constructor(private readonly ttlMs: number, private readonly maxEntries: number, private readonly now: () => number = Date.now) {}

  /** Entries held (some may have expired and wait to be replaced or evicted). */
  get size(): number {
    return this.entries.size
  }

  async get(id: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(id)
    if (hit && hit.expires > this.now()) return hit.value
    const started = this.epoch
    const value = await load()
    if (this.epoch === started) {
      this.entries.delete(id)
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
      this.entries.set(id, { value, expires: this.now() + this.ttlMs })
    }
    return value
  }

  /** After a write to the document commits. */
  invalidate(id: string): void {
    this.epoch++
    this.entries.delete(id)
  }
}
