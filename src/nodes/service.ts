/**
 * Node registry: each node registers itself (id, version, address, started, last
 * seen) in the shared database so that `GET /api/nodes` and the dashboard can list the cluster.
 * A node beats every `heartbeatMs`; one silent for three beats is reported `stale` (it died or
 * lost the database), and one silent for a day is forgotten. A clean stop removes the row.
 */
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Db } from '../db/db.js'
import type { Logger } from '../log.js'
import type { MetricsRegistry } from '../metrics/registry.js'
import * as store from './store.js'

export interface NodeInfo {
  id: string
  version: string
  address: string
  startedAt: string
  lastSeenAt: string
  status: 'up' | 'stale'
  /** The node that answered this request. */
  current: boolean
}

export interface NodeRegistry {
  readonly id: string
  /** Registers this node under its public address and starts beating. */
  register(listenAddress: string): Promise<void>
  list(): Promise<NodeInfo[]>
  /** Stops beating and removes this node's row. */
  stop(): Promise<void>
}

export interface NodeRegistryOptions {
  heartbeatMs?: number
  forgetAfterMs?: number
}

export const DEFAULT_HEARTBEAT_MS = 10_000
const DAY_MS = 86_400_000

export function createNodeRegistry(deps: { db: Db; log: Logger; version: string; metrics?: MetricsRegistry } & NodeRegistryOptions): NodeRegistry {
  const { db, log, version } = deps
  const heartbeatMs = deps.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  const staleMs = heartbeatMs * 3
  const forgetMs = deps.forgetAfterMs ?? DAY_MS
  const id = randomUUID()
  let address = ''
  let timer: NodeJS.Timeout | undefined
  let beating: Promise<void> = Promise.resolve()
  if (deps.metrics) {
    const gauge = deps.metrics.gauge('folio_cluster_nodes', 'Nodes registered in the shared database, by status', ['status'])
    deps.metrics.onCollect(async () => {
      const rows = await store.listNodes(db, staleMs)
      gauge.set(rows.filter((r) => !r.stale).length, { status: 'up' })
      gauge.set(rows.filter((r) => r.stale).length, { status: 'stale' })
    })
  }

  async function tick(): Promise<void> {
    try {
      if (!(await store.beat(db, id))) await store.upsertNode(db, { id, version, address })
      const forgotten = await store.forgetSilent(db, forgetMs)
      if (forgotten > 0) log.info({ nodes: forgotten }, 'forgot nodes silent for too long')
    } catch (e) {
      log.warn({ err: e }, 'node heartbeat failed')
    }
  }

  return {
    id,
    async register(listenAddress) {
      address = publicAddress(listenAddress)
      await store.upsertNode(db, { id, version, address })
      timer = setInterval(() => {
        beating = tick()
      }, heartbeatMs)
      timer.unref()
    },
    async list() {
      const rows = await store.listNodes(db, staleMs)
      return rows.map((r) => ({
        id: r.id,
        version: r.version,
        address: r.address,
        startedAt: r.started_at.toISOString(),
        lastSeenAt: r.last_seen_at.toISOString(),
        status: r.stale ? 'stale' : 'up',
        current: r.id === id,
      }))
    },
    async stop() {
      if (timer === undefined) return
      clearInterval(timer)
      timer = undefined
      await beating
      await store.removeNode(db, id).catch((e: unknown) => log.warn({ err: e }, 'could not remove this node from the registry'))
    },
  }
}

/** A wildcard listen address is replaced by the host name, which peers and operators can use. */
function publicAddress(listen: string): string {
  try {
    const u = new URL(listen)
    if (u.hostname === '0.0.0.0' || u.hostname === '[::]') u.hostname = hostname()
    return u.origin
  } catch {
    return listen
  }
}
