/**
 * Live changes: fan-out of the change log to the viewers connected to this node.
 *
 * Every write commits its changes to `annotation_changes`, numbered per document, and a
 * `NOTIFY folio_annotations '<documentId>'` that PostgreSQL delivers at commit to every node
 * (PGlite: in-process). A node that hears it reads the document's changes after the lowest
 * position of its subscribers and hands each subscriber the ones after its own position, in
 * sequence order. The notification only says "look"; the rows are the truth, so a lost
 * notification (a LISTEN connection that dropped and came back) costs latency, not changes: a
 * slow backstop poll compares positions with `annotation_sequences`.
 *
 * Resume: a subscriber starts after a given sequence number (the SSE Last-Event-ID). If the
 * log no longer holds the changes right after it (pruned after CHANGE_RETENTION_MS), or the id
 * is from the future (another database), the subscriber is told to reload (`reset`) instead of
 * silently missing changes.
 */
import type { Db } from '../db/db.js'
import type { Logger } from '../log.js'
import * as store from './store.js'

export interface ChangeEvent {
  seq: number
  type: store.ChangeOp
  layer: string
  annotationId: string | null
  /** The annotation after the change (created/updated); null for deleted and reset. */
  annotation: Record<string, unknown> | null
}

export interface ChangeSink {
  /** The stream is live from `seq` on (the resume point to remember). */
  ready(seq: number): void
  /** The client must reload its state; the stream continues after `seq`. */
  reset(seq: number, reason: 'history_expired' | 'unknown_event_id'): void
  change(event: ChangeEvent): void
  /** The node is shutting down: end the stream (the client resumes elsewhere). */
  end?(): void
}

export interface Subscription { close(): void }

/** Changes are kept this long for resuming clients (docs/annotations.md). */
export const CHANGE_RETENTION_MS = 24 * 60 * 60 * 1000
const PRUNE_EVERY_MS = 60 * 60 * 1000
const BACKSTOP_POLL_MS = 5000
const PAGE = 500

interface Subscriber { layer: string; after: number; sink: ChangeSink }

export class ChangeHub {
  private readonly subs = new Map<string, Set<Subscriber>>()
  private readonly draining = new Set<string>()
  private readonly dirty = new Set<string>()
  private unlisten?: () => Promise<void>
  private timers: NodeJS.Timeout[] = []
  private closed = false

  /** `onNotify`: every notification, whether or not this node has subscribers (cache invalidation). */
  constructor(private readonly deps: { db: Db; log: Logger; now: () => Date; onNotify?: (documentId: string) => void }) {}

  async start(): Promise<void> {
    this.unlisten = await this.deps.db.listen(store.NOTIFY_CHANNEL, (documentId) => {
      this.deps.onNotify?.(documentId)
      this.poke(documentId)
    })
    this.timers.push(setInterval(() => void this.backstop(), BACKSTOP_POLL_MS).unref())
    this.timers.push(setInterval(() => void this.prune(), PRUNE_EVERY_MS).unref())
    void this.prune()
  }

  async close(): Promise<void> {
    this.closed = true
    for (const t of this.timers) clearInterval(t)
    this.timers = []
    for (const set of this.subs.values()) for (const sub of set) sub.sink.end?.()
    this.subs.clear()
    await this.unlisten?.().catch(() => {})
  }

  /** Starts delivering changes of `documentId`/`layer` after `lastEventId` (or from now). */
  async subscribe(documentId: string, layer: string, lastEventId: number | undefined, sink: ChangeSink): Promise<Subscription> {
    const current = await store.lastSeq(this.deps.db, documentId)
    let after = lastEventId ?? current
    if (lastEventId !== undefined && lastEventId > current) {
      sink.reset(current, 'unknown_event_id')
      after = current
    } else if (lastEventId !== undefined && lastEventId < current) {
      const oldest = await store.oldestSeq(this.deps.db, documentId)
      if (oldest === undefined || oldest > lastEventId + 1) {
        sink.reset(current, 'history_expired')
        after = current
      } else sink.ready(after)
    } else sink.ready(after)
    const sub: Subscriber = { layer, after, sink }
    let set = this.subs.get(documentId)
    if (!set) this.subs.set(documentId, (set = new Set()))
    set.add(sub)
    // Changes committed between reading `current` and registering are caught by this drain.
    this.poke(documentId)
    return {
      close: () => {
        set!.delete(sub)
        if (set!.size === 0 && this.subs.get(documentId) === set) this.subs.delete(documentId)
      },
    }
  }

  /** Number of live subscriptions (for tests and metrics). */
  get size(): number {
    let n = 0
    for (const s of this.subs.values()) n += s.size
    return n
  }

  private poke(documentId: string): void {
    if (this.closed || !this.subs.has(documentId)) return
    if (this.draining.has(documentId)) {
      this.dirty.add(documentId)
      return
    }
    void this.drain(documentId)
  }

  private async drain(documentId: string): Promise<void> {
    this.draining.add(documentId)
    try {
      do {
        this.dirty.delete(documentId)
        const set = this.subs.get(documentId)
        if (!set || set.size === 0) break
        const from = Math.min(...[...set].map((s) => s.after))
        const rows = await store.changesAfter(this.deps.db, documentId, from, PAGE)
        for (const row of rows) {
          for (const sub of set) {
            if (row.seq <= sub.after) continue
            sub.after = row.seq
            if (row.layer !== sub.layer && row.op !== 'reset') continue
            try {
              sub.sink.change({ seq: row.seq, type: row.op, layer: row.layer, annotationId: row.annotation_id, annotation: row.record })
            } catch (e) {
              this.deps.log.warn({ err: e }, 'annotation event sink failed')
            }
          }
        }
        if (rows.length === PAGE) this.dirty.add(documentId)
      } while (this.dirty.has(documentId) && !this.closed)
    } catch (e) {
      this.deps.log.warn({ err: e, document: documentId }, 'reading annotation changes failed; the backstop poll retries')
    } finally {
      this.draining.delete(documentId)
    }
  }

  private async backstop(): Promise<void> {
    if (this.subs.size === 0 || this.closed) return
    try {
      const ids = [...this.subs.keys()]
      const last = await store.lastSeqs(this.deps.db, ids)
      for (const id of ids) {
        const behind = [...(this.subs.get(id) ?? [])].some((s) => (last.get(id) ?? 0) > s.after)
        if (behind) this.poke(id)
      }
    } catch (e) {
      this.deps.log.warn({ err: e }, 'annotation events backstop poll failed')
    }
  }

  private async prune(): Promise<void> {
    if (this.closed) return
    try {
      const n = await store.pruneChanges(this.deps.db, new Date(this.deps.now().getTime() - CHANGE_RETENTION_MS))
      if (n > 0) this.deps.log.info({ changes: n }, 'pruned old annotation changes')
    } catch (e) {
      this.deps.log.warn({ err: e }, 'pruning annotation changes failed')
    }
  }
}
