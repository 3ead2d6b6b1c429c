/**
 * Cluster bus over PostgreSQL itself (HOUSE-STYLE §5): several nodes
 * share one database and keep in-memory views (secrets, revocations) that must follow every
 * change within a second, with no broker besides PostgreSQL.
 *
 * - A change runs in a transaction that bumps its topic's version in `cluster_changes` and
 *   queues `pg_notify('folio_changes', {t, v, ops})`, which PostgreSQL delivers at commit only,
 *   to every listening node, in commit order. The row lock on the version serialises changes of
 *   one topic, so versions commit in order.
 * - A node applies the ops of each version in order (`apply(ops)`), holding one that arrives
 *   ahead of a missing one; a change without ops (the payload was too large) or a topic without
 *   `apply` makes it reload the topic from one consistent snapshot, as does a gap that the
 *   reconcile still sees one interval later.
 * - The node that made a change applies it locally before the request returns (read your own
 *   writes), through the same ordered queue; its own notification then finds nothing to do.
 * - A reconcile timer compares the versions in the database with the loaded ones, so a missed
 *   notification (connection lost, node paused) heals within two intervals; a periodic ping on
 *   the channel detects a subscription that postgres.js failed to re-establish and renews it.
 *
 * On PGlite (one node, in process) the same code runs: LISTEN/NOTIFY works there too.
 */
import { randomBytes } from 'node:crypto'
import type { Db, Queryable } from './db.js'

export const CHANNEL = 'folio_changes'
/**
 * PostgreSQL refuses NOTIFY payloads of 8000 bytes or more: a larger change is sent as up to
 * MAX_PARTS notifications of the same transaction (delivered together, in order, at commit),
 * so that a bulk change (1,000 revocations from one POST /api/revoke) reaches the other nodes
 * as ops, not as a reload of the whole topic per change; only beyond that, without ops.
 */
const MAX_PAYLOAD_BYTES = 7000
const MAX_PARTS = 64
/** Changes being assembled from their parts, at most; older ones are left to the reconcile. */
const MAX_PARTIAL = 16
/** Every this many reconcile ticks, a ping checks that the subscription still delivers. */
const PING_EVERY_TICKS = 10

export interface Topic<Op> {
  /** Replaces the in-memory view with the state read through `q` (one repeatable-read snapshot). */
  load(q: Queryable): Promise<void>
  /** Applies the ops of exactly the next change. Without it, every change reloads the topic. */
  apply?(ops: Op[]): void
}

export interface BusLog {
  warn(obj: object, msg: string): void
  info(obj: object, msg: string): void
}

export interface ClusterBus {
  /** Random id of this node, also its PostgreSQL application_name suffix (app.ts). */
  readonly nodeId: string
  register<Op>(topic: string, t: Topic<Op>): void
  /**
   * Runs `fn` in a transaction. When it returns ops (non-empty), the topic's version is bumped
   * and the change announced at commit; the local view has applied it when this resolves.
   */
  change<T, Op>(topic: string, fn: (tx: Queryable) => Promise<{ result: T; ops: Op[] }>): Promise<T>
  /** Loads every registered topic, subscribes, and starts the reconcile timer. */
  start(): Promise<void>
  /** Compares versions with the database now and reloads what differs. */
  reconcile(): Promise<void>
  /** Version of the topic this node has loaded (-1 before the first load). */
  loadedVersion(topic: string): number
  close(): Promise<void>
}

interface TopicState {
  topic: Topic<unknown>
  loaded: number
  chain: Promise<void>
  reloadQueued: boolean
  /** Changes that arrived ahead of a missing one (another node's NOTIFY can overtake our own apply). */
  early: Map<number, unknown[]>
  /** A version the database had that this node had not loaded at the last tick. */
  behind?: number
}

interface Message { t?: unknown; v?: unknown; ops?: unknown; ping?: unknown; p?: unknown; n?: unknown }

/** The NOTIFY payloads of one change: whole, in parts `{t, v, p, n, ops}`, or without ops. */
export function encodeChange(t: string, v: number, ops: unknown[]): string[] {
  const whole = JSON.stringify({ t, v, ops })
  if (Buffer.byteLength(whole) <= MAX_PAYLOAD_BYTES) return [whole]
  const budget = MAX_PAYLOAD_BYTES - Buffer.byteLength(JSON.stringify({ t, v, p: MAX_PARTS, n: MAX_PARTS, ops: [] }))
  const chunks: unknown[][] = []
  let chunk: unknown[] = []
  let size = 0
  for (const op of ops) {
    const len = Buffer.byteLength(JSON.stringify(op)) + 1
    if (len > budget) return [JSON.stringify({ t, v })]
    if (size + len > budget) {
      chunks.push(chunk)
      chunk = []
      size = 0
    }
    chunk.push(op)
    size += len
  }
  chunks.push(chunk)
  if (chunks.length > MAX_PARTS) return [JSON.stringify({ t, v })]
  return chunks.map((c, p) => JSON.stringify({ t, v, p, n: chunks.length, ops: c }))
}

export function createClusterBus(db: Db, opts: { log: BusLog; reconcileMs?: number; nodeId?: string }): ClusterBus {
  const { log } = opts
  const nodeId = opts.nodeId ?? randomBytes(6).toString('hex')
  const reconcileMs = opts.reconcileMs ?? 250
  const topics = new Map<string, TopicState>()
  let unlisten: (() => Promise<void>) | undefined
  let timer: NodeJS.Timeout | undefined
  let started = false
  let closed = false
  let ticks = 0
  let pendingPing: string | undefined
  let failing = false
  let ticking = false
  let checking = false
  const partial = new Map<string, { parts: unknown[][]; got: number }>()

  function enqueue(s: TopicState, job: () => Promise<void>): Promise<void> {
    const run = s.chain.then(job)
    s.chain = run.catch(() => {}) // keep the queue going; the caller sees the error
    return run
  }

  /** Applies the early changes that now follow on. */
  function drain(s: TopicState): void {
    for (const v of [...s.early.keys()]) if (v <= s.loaded) s.early.delete(v)
    for (let ops = s.early.get(s.loaded + 1); ops !== undefined; ops = s.early.get(s.loaded + 1)) {
      s.early.delete(s.loaded + 1)
      s.topic.apply!(ops)
      s.loaded++
    }
  }

  async function reload(name: string, s: TopicState): Promise<void> {
    await db.transaction(async (tx) => {
      // One snapshot for the version and the rows, so the two always match.
      await tx.query('set transaction isolation level repeatable read')
      const rows = await tx.query<{ version: number }>('select version from cluster_changes where topic = $1', [name])
      const version = Number(rows[0]?.version ?? 0)
      await s.topic.load(tx)
      s.loaded = version
    })
    drain(s)
  }

  function queueReload(name: string, s: TopicState): Promise<void> {
    if (s.reloadQueued) return s.chain
    s.reloadQueued = true
    return enqueue(s, async () => {
      s.reloadQueued = false
      await reload(name, s)
    })
  }

  function deliver(name: string, s: TopicState, version: number, ops: unknown[] | undefined): Promise<void> {
    return enqueue(s, async () => {
      if (version <= s.loaded) return // already part of what was loaded
      if (ops !== undefined && s.topic.apply) {
        // In order, or kept until the missing one arrives (or the reconcile gives up on it).
        s.early.set(version, ops)
        drain(s)
        return
      }
      await reload(name, s) // no ops (too large for a NOTIFY) or a topic that always reloads
    })
  }

  function onPayload(payload: string): void {
    let m: Message
    try {
      m = JSON.parse(payload) as Message
    } catch {
      return // not ours
    }
    if (typeof m.ping === 'string') {
      if (m.ping === pendingPing) pendingPing = undefined
      return
    }
    if (typeof m.t !== 'string' || typeof m.v !== 'number') return
    const s = topics.get(m.t)
    if (!s) return
    let ops = Array.isArray(m.ops) ? m.ops : undefined
    if (ops !== undefined && typeof m.n === 'number' && m.n > 1 && typeof m.p === 'number') {
      const whole = assemble(m.t, m.v, m.p, m.n, ops)
      if (whole === undefined) return // more parts to come
      ops = whole
    }
    deliver(m.t, s, m.v, ops).catch((e: unknown) =>
      log.warn({ err: e, topic: m.t }, 'cluster bus: applying a change failed; the reconcile will retry'),
    )
  }

  /** Collects the parts of one change; the whole ops once every part is in. */
  function assemble(t: string, v: number, p: number, n: number, ops: unknown[]): unknown[] | undefined {
    const key = `${t}\u0000${v}`
    let e = partial.get(key)
    if (e === undefined) {
      if (partial.size >= MAX_PARTIAL) partial.delete(partial.keys().next().value as string) // the reconcile heals it
      partial.set(key, (e = { parts: new Array<unknown[]>(n), got: 0 }))
    }
    if (p < 0 || p >= e.parts.length || e.parts[p] !== undefined) return undefined
    e.parts[p] = ops
    if (++e.got < e.parts.length) return undefined
    partial.delete(key)
    return e.parts.flat()
  }

  async function subscribe(): Promise<void> {
    unlisten = await db.listen(CHANNEL, onPayload, () => {
      // (Re)subscribed: whatever was announced while we were not listening is found by a reconcile.
      if (started && !closed) void reconcileQuietly()
    })
  }

  /**
   * Compares the versions in the database with the loaded ones. `patient` (the timer): a node
   * that is behind reloads only if it is still behind that version at the next tick, since a
   * change in flight (committed, its NOTIFY or local apply moments away) looks the same for an
   * instant; reloading 100,000 revocations for it would be waste. Otherwise it reloads at once.
   */
  async function reconcile(patient = false): Promise<void> {
    const rows = await db.query<{ topic: string; version: number }>('select topic, version from cluster_changes')
    const inDb = new Map(rows.map((r) => [r.topic, Number(r.version)]))
    await Promise.all([...topics].map(([name, s]) => {
      const v = inDb.get(name) ?? 0
      if (v === s.loaded) {
        s.behind = undefined
        return undefined
      }
      if (patient && v > s.loaded && (s.behind === undefined || s.loaded >= s.behind)) {
        s.behind = v
        return undefined
      }
      s.behind = undefined
      return queueReload(name, s)
    }))
  }

  async function reconcileQuietly(patient = false): Promise<void> {
    try {
      await reconcile(patient)
      if (failing) log.info({}, 'cluster bus: database reachable again; views reconciled')
      failing = false
    } catch (e) {
      if (!failing) log.warn({ err: e }, 'cluster bus: reconcile failed; serving the last loaded views')
      failing = true
    }
  }

  async function tick(): Promise<void> {
    if (ticking) return // a slow database must not pile up reconciles
    ticking = true
    try {
      await tickOnce()
    } finally {
      ticking = false
    }
  }

  async function tickOnce(): Promise<void> {
    await reconcileQuietly(true)
    if (failing || closed || ++ticks % PING_EVERY_TICKS !== 0) return
    // Not awaited: a re-LISTEN waiting for a reconnecting driver must not hold up the reconciles.
    void checkSubscription()
  }

  async function checkSubscription(): Promise<void> {
    if (checking) return
    checking = true
    try {
      if (pendingPing !== undefined) {
        // The last ping never came back: the subscription is gone. Renew it. The old handle is
        // dropped first (postgres.js forgets the channel synchronously), so a fresh LISTEN is
        // sent; its own UNLISTEN may wait for a dead connection and is not awaited.
        log.warn({}, 'cluster bus: notifications stopped arriving; subscribing again')
        const old = unlisten
        unlisten = undefined
        void old?.().catch(() => {})
        await subscribe()
        await reconcile()
      }
      pendingPing = `${nodeId}:${ticks}`
      await db.notify(CHANNEL, JSON.stringify({ ping: pendingPing }))
    } catch (e) {
      log.warn({ err: e }, 'cluster bus: ping failed')
    } finally {
      checking = false
    }
  }

  return {
    nodeId,
    register(name, topic) {
      if (started) throw new Error(`cluster bus: register ${name} before start()`)
      topics.set(name, { topic: topic as Topic<unknown>, loaded: -1, chain: Promise.resolve(), reloadQueued: false, early: new Map() })
    },

    async change(name, fn) {
      const s = topics.get(name)
      if (!s) throw new Error(`cluster bus: unknown topic ${name}`)
      const { result, ops, version } = await db.transaction(async (tx) => {
        const out = await fn(tx)
        if (out.ops.length === 0) return { ...out, version: undefined }
        const bumped = await tx.query<{ version: number }>(
          `insert into cluster_changes (topic, version) values ($1, 1)
           on conflict (topic) do update set version = cluster_changes.version + 1 returning version`,
          [name],
        )
        const v = Number(bumped[0]!.version)
        const payloads = encodeChange(name, v, out.ops)
        if (payloads.length === 1) await tx.query('select pg_notify($1, $2)', [CHANNEL, payloads[0]])
        else await tx.query('select pg_notify($1, x) from unnest($2::text[]) with ordinality as u(x, i) order by i', [CHANNEL, payloads])
        return { ...out, version: v }
      })
      if (version !== undefined) await deliver(name, s, version, ops as unknown[])
      return result
    },

    async start() {
      if (started) return
      await subscribe() // first, so nothing committed after the loads below goes unseen
      for (const [name, s] of topics) await queueReload(name, s)
      started = true
      timer = setInterval(() => void tick(), reconcileMs)
      timer.unref()
    },

    reconcile: () => reconcile(false),

    loadedVersion: (name) => topics.get(name)?.loaded ?? -1,

    async close() {
      if (closed) return
      closed = true
      if (timer) clearInterval(timer)
      await unlisten?.().catch(() => {})
      await Promise.all([...topics.values()].map((s) => s.chain))
    },
  }
}
