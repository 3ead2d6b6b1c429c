/** SQL for the node registry; imported only by nodes/service.ts. */
import type { Queryable } from '../db/db.js'

export interface NodeRow {
  id: string
  version: string
  address: string
  started_at: Date
  last_seen_at: Date
  stale: boolean
}

/** Inserts the node, or refreshes it when its row is there (a beat after a long outage). */
export async function upsertNode(db: Queryable, n: { id: string; version: string; address: string }): Promise<void> {
  await db.query(
    `insert into nodes (id, version, address, started_at, last_seen_at) values ($1, $2, $3, now(), now())
     on conflict (id) do update set last_seen_at = now(), address = excluded.address`,
    [n.id, n.version, n.address],
  )
}

export async function beat(db: Queryable, id: string): Promise<boolean> {
  const rows = await db.query('update nodes set last_seen_at = now() where id = $1 returning id', [id])
  return rows.length === 1
}

export async function removeNode(db: Queryable, id: string): Promise<void> {
  await db.query('delete from nodes where id = $1', [id])
}

/** Forgets nodes not seen for `ms` milliseconds; returns how many. */
export async function forgetSilent(db: Queryable, ms: number): Promise<number> {
  const rows = await db.query(`delete from nodes where last_seen_at < now() - ($1::bigint * interval '1 millisecond') returning id`, [ms])
  return rows.length
}

/** Every registered node, `stale` when silent for more than `staleMs`; oldest first. */
export async function listNodes(db: Queryable, staleMs: number): Promise<NodeRow[]> {
  return db.query<NodeRow & Record<string, unknown>>(
    `select id, version, address, started_at, last_seen_at,
            last_seen_at < now() - ($1::bigint * interval '1 millisecond') as stale
       from nodes order by started_at, id`,
    [staleMs],
  )
}
