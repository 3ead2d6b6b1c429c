/** SQL for the revocations table; imported only by revocations/service.ts. */
import type { Queryable } from '../db/db.js'
import type { RevocationKind } from './cache.js'

export interface RevocationRow {
  id: number
  kind: RevocationKind
  value: string
  issued_before: Date | null
  expires_at: Date
  created_at: Date
}

export interface NewRevocation {
  kind: RevocationKind
  value: string
  issuedBefore: Date | null
  expiresAt: Date
}

type R = RevocationRow & Record<string, unknown>

/** Inserts many with one statement (a batch of 1000 tokens is one round trip). */
export async function insertRevocations(tx: Queryable, rows: NewRevocation[], now: Date): Promise<RevocationRow[]> {
  if (rows.length === 0) return []
  return tx.query<R>(
    `insert into revocations (kind, value, issued_before, expires_at, created_at)
     select kind, value, issued_before, expires_at, $5 from unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])
       as u(kind, value, issued_before, expires_at)
     returning *`,
    [
      rows.map((r) => r.kind),
      rows.map((r) => r.value),
      rows.map((r) => r.issuedBefore?.toISOString() ?? null),
      rows.map((r) => r.expiresAt.toISOString()),
      now.toISOString(),
    ],
  )
}

export async function findActive(q: Queryable, now: Date): Promise<RevocationRow[]> {
  return q.query<R>('select * from revocations where expires_at > $1 order by id', [now.toISOString()])
}

/** Deletes an active revocation; undefined when there is none with this id. */
export async function deleteActive(tx: Queryable, id: number, now: Date): Promise<RevocationRow | undefined> {
  const rows = await tx.query<R>('delete from revocations where id = $1 and expires_at > $2 returning *', [id, now.toISOString()])
  return rows[0]
}

/** Removes revocations that can no longer cover a valid token; returns how many. */
export async function deleteExpired(q: Queryable, now: Date): Promise<number> {
  const rows = await q.query<{ n: number }>(
    'with d as (delete from revocations where expires_at <= $1 returning 1) select count(*)::int as n from d',
    [now.toISOString()],
  )
  return Number(rows[0]?.n ?? 0)
}
