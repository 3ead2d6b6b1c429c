/**
 * Disk cache of rendered pages and page text: files under
 * DATA_DIR/render-cache/<ab>/<key>.<ext>, content-addressed (the key is a sha256 of everything
 * that decides the bytes: engine, document blob, page, size, format, annotation version), so an
 * entry never goes stale; it only stops being asked for. Total size is bounded; the least
 * recently used entries go first. The LRU order lives in memory and is rebuilt at start from
 * the files' modification times, which hits refresh (at most once a minute per entry).
 *
 * Writes are a temp file + rename, so a reader sees a whole file or none; a file evicted while
 * being read stays readable through its open handle.
 *
 * The most recently used small entries are also kept in memory (`memoryBytes`), so a hot page
 * is answered without a file read (bench/render, cached throughput).
 */
import { createHash, randomUUID } from 'node:crypto'
import { mkdir, open, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import type { Logger } from '../log.js'

interface Entry {
  file: string
  size: number
  touched: number
}

export interface CacheHit {
  size: number
  /** Small entries are read whole; larger ones stream from an open handle. */
  body: Buffer | Readable
}

const STREAM_ABOVE = 1024 * 1024
const TOUCH_EVERY_MS = 60_000
const KEY_RE = /^[0-9a-f]{64}$/

export function cacheKey(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex')
}

export class RenderCache {
  private readonly entries = new Map<string, Entry>() // insertion order = least recently used first
  private total = 0
  private readonly hot = new Map<string, Buffer>() // same order rule
  private hotTotal = 0

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly log: Logger,
    private readonly memoryBytes = 0,
  ) {}

  get enabled(): boolean {
    return this.maxBytes > 0
  }

  get sizeBytes(): number {
    return this.total
  }

  /** Entries on disk, and bytes and entries of the in-memory hot tier (metrics). */
  get stats(): { entries: number; memoryBytes: number; memoryEntries: number } {
    return { entries: this.entries.size, memoryBytes: this.hotTotal, memoryEntries: this.hot.size }
  }

  /** Loads the index from disk, drops temp files left by a crash, and trims to the bound. */
  async init(): Promise<void> {
    if (!this.enabled) return
    await mkdir(this.dir, { recursive: true })
    const found: Array<{ key: string; entry: Entry }> = []
    for (const shard of await readdir(this.dir)) {
      const shardDir = join(this.dir, shard)
      let names: string[]
      try {
        names = await readdir(shardDir)
      } catch {
        continue
      }
      for (const name of names) {
        const file = join(shardDir, name)
        const key = name.split('.')[0]!
        if (name.endsWith('.tmp') || !KEY_RE.test(key)) {
          await rm(file, { force: true })
          continue
        }
        const st = await stat(file).catch(() => undefined)
        if (st) found.push({ key, entry: { file, size: st.size, touched: st.mtimeMs } })
      }
    }
    found.sort((a, b) => a.entry.touched - b.entry.touched)
    for (const { key, entry } of found) {
      this.entries.set(key, entry)
      this.total += entry.size
    }
    await this.evict()
  }

  async get(key: string): Promise<CacheHit | undefined> {
    const entry = this.entries.get(key)
    if (!entry) return undefined
    const hot = this.hot.get(key)
    if (hot) {
      this.hot.delete(key)
      this.hot.set(key, hot)
      this.entries.delete(key)
      this.entries.set(key, entry)
      return { size: hot.length, body: hot }
    }
    let fh
    try {
      fh = await open(entry.file, 'r')
    } catch {
      this.forget(key) // removed behind our back
      return undefined
    }
    this.entries.delete(key)
    this.entries.set(key, entry)
    const now = Date.now()
    if (now - entry.touched > TOUCH_EVERY_MS) {
      entry.touched = now
      utimes(entry.file, now / 1000, now / 1000).catch(() => {})
    }
    if (entry.size > STREAM_ABOVE) return { size: entry.size, body: fh.createReadStream({ autoClose: true }) }
    try {
      const body = await fh.readFile()
      this.keepHot(key, body)
      return { size: entry.size, body }
    } finally {
      await fh.close()
    }
  }

  /** Entries up to an eighth of the memory budget, so one large image cannot flush the rest. */
  private keepHot(key: string, bytes: Buffer): void {
    if (bytes.length > this.memoryBytes / 8 || this.hot.has(key)) return
    this.hot.set(key, bytes)
    this.hotTotal += bytes.length
    for (const [k, b] of this.hot) {
      if (this.hotTotal <= this.memoryBytes) break
      this.hot.delete(k)
      this.hotTotal -= b.length
    }
  }

  async put(key: string, ext: string, bytes: Uint8Array): Promise<void> {
    if (!this.enabled || bytes.length > this.maxBytes || this.entries.has(key)) return
    const shard = join(this.dir, key.slice(0, 2))
    const file = join(shard, `${key}.${ext}`)
    const tmp = join(shard, `${key}.${randomUUID()}.tmp`)
    try {
      await mkdir(shard, { recursive: true })
      await writeFile(tmp, bytes)
      await rename(tmp, file)
    } catch (e) {
      // A full disk must not fail the request that produced the image: it just is not cached.
      this.log.warn({ err: { type: (e as Error).name, code: (e as NodeJS.ErrnoException).code } }, 'render cache write failed')
      await rm(tmp, { force: true })
      return
    }
    if (this.entries.has(key)) return // a concurrent put of the same bytes won
    this.entries.set(key, { file, size: bytes.length, touched: Date.now() })
    this.total += bytes.length
    this.keepHot(key, Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes))
    await this.evict()
  }

  private forget(key: string): void {
    const entry = this.entries.get(key)
    if (!entry) return
    this.entries.delete(key)
    this.total -= entry.size
    const hot = this.hot.get(key)
    if (hot) {
      this.hot.delete(key)
      this.hotTotal -= hot.length
    }
  }

  private async evict(): Promise<void> {
    for (const [key, entry] of this.entries) {
      if (this.total <= this.maxBytes) break
      this.forget(key)
      await rm(entry.file, { force: true })
    }
  }
}
