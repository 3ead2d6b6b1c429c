/** SQL for the secrets table; imported only by secrets/service.ts. */
import type { Queryable } from '../db/db.js'

export type SecretType = 'jwt' | 'dashboard_password' | 'secret_key_base' | 'api_auth_token'

export interface SecretRow {
  id: number
  type: SecretType
  material: string
  algorithm: string | null
  fingerprint: string
  is_current: boolean
  expires_at: Date | null
  created_at: Date
}

export async function findValid(db: Queryable, type: SecretType, now: Date): Promise<SecretRow[]> {
  return db.query<SecretRow & Record<string, unknown>>(
    'select * from secrets where type = $1 and (is_current or expires_at > $2) order by id',
    [type, now.toISOString()],
  )
}

export async function findCurrent(db: Queryable, type: SecretType): Promise<SecretRow | undefined> {
  const rows = await db.query<SecretRow & Record<string, unknown>>(
    'select * from secrets where type = $1 and is_current',
    [type],
  )
  return rows[0]
}

/**
 * Makes `material` the current secret of `type`. The previous current one stays valid until
 * `previousExpiresAt`. Runs in the caller's transaction.
 */
export async function replaceCurrent(
  tx: Queryable,
  row: { type: SecretType; material: string; algorithm: string | null; fingerprint: string },
  previousExpiresAt: Date,
): Promise<number> {
  await tx.query(
    'update secrets set is_current = false, expires_at = $2 where type = $1 and is_current',
    [row.type, previousExpiresAt.toISOString()],
  )
  const inserted = await tx.query<{ id: number }>(
    `insert into secrets (type, material, algorithm, fingerprint, is_current, expires_at)
     values ($1, $2, $3, $4, true, null) returning id`,
    [row.type, row.material, row.algorithm, row.fingerprint],
  )
  return inserted[0]!.id
}
