/** SQL for the audit log; imported only by audit/service.ts. */
import type { Queryable } from '../db/db.js'

export interface AuditRow {
  id: number
  at: Date
  action: string
  secret_type: string | null
  target_id: number | null
  fingerprint: string | null
  actor_type: string
  actor_id: string | null
  actor_fingerprint: string | null
  details: Record<string, unknown>
}

export interface AuditInsert {
  at: Date
  action: string
  secretType: string | null
  targetId: number | null
  fingerprint: string | null
  actorType: string
  actorId: string | null
  actorFingerprint: string | null
  details: Record<string, unknown>
}

/** Inserts many entries with one statement (a revoke of 1000 tokens writes 1000 entries). */
export async function insertEntries(q: Queryable, rows: AuditInsert[]): Promise<void> {
  if (rows.length === 0) return
  await q.query(
    `insert into audit_log (at, action, secret_type, target_id, fingerprint, actor_type, actor_id, actor_fingerprint, details)
     select at, action, secret_type, target_id, fingerprint, actor_type, actor_id, actor_fingerprint, details::jsonb
     from unnest($1::timestamptz[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
       as u(at, action, secret_type, target_id, fingerprint, actor_type, actor_id, actor_fingerprint, details)`,
    [
      rows.map((r) => r.at.toISOString()),
      rows.map((r) => r.action),
      rows.map((r) => r.secretType),
      rows.map((r) => r.targetId),
      rows.map((r) => r.fingerprint),
      rows.map((r) => r.actorType),
      rows.map((r) => r.actorId),
      rows.map((r) => r.actorFingerprint),
      rows.map((r) => JSON.stringify(r.details)), // text, cast in SQL: drivers differ on jsonb[]
    ],
  )
}

export async function findEntries(
  q: Queryable,
  f: { limit: number; beforeId?: number; action?: string; secretType?: string },
): Promise<AuditRow[]> {
  return q.query<AuditRow & Record<string, unknown>>(
    `select * from audit_log
     where ($1::bigint is null or id < $1) and ($2::text is null or action = $2) and ($3::text is null or secret_type = $3)
     order by id desc limit $4`,
    [f.beforeId ?? null, f.action ?? null, f.secretType ?? null, f.limit],
  )
}
