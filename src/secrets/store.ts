/** SQL for the secrets table; imported only by the secrets room (service.ts, seed.ts). */
import type { Queryable } from '../db/db.js'

export const SECRET_TYPES = ['jwt', 'dashboard_password', 'secret_key_base', 'api_auth_token'] as const
export type SecretType = (typeof SECRET_TYPES)[number]

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

export interface NewSecret {
  type: SecretType
  material: string
  algorithm: string | null
  fingerprint: string
}

type R = SecretRow & Record<string, unknown>

/** Every secret valid at `now`, all types (what the in-memory view is built from). */
export async function findAllValid(db: Queryable, now: Date): Promise<SecretRow[]> {
  return db.query<R>('select * from secrets where is_current or expires_at > $1 order by id', [now.toISOString()])
}

/** The most recently expired secrets of `type` (newest first), for the env-revival warning. */
export async function findRecentlyExpired(db: Queryable, type: SecretType, now: Date, limit: number): Promise<SecretRow[]> {
  return db.query<R>(
    'select * from secrets where type = $1 and not is_current and expires_at <= $2 order by expires_at desc, id desc limit $3',
    [type, now.toISOString(), limit],
  )
}

/** How many secrets of `type` are valid at `now` (the SECRETS_MAX_VALID_PER_TYPE check). */
export async function countValid(db: Queryable, type: SecretType, now: Date): Promise<number> {
  const rows = await db.query<{ n: number | string }>(
    'select count(*) as n from secrets where type = $1 and (is_current or expires_at > $2)',
    [type, now.toISOString()],
  )
  return Number(rows[0]?.n ?? 0)
}

export async function findValid(db: Queryable, type: SecretType, now: Date): Promise<SecretRow[]> {
  return db.query<R>(
    'select * from secrets where type = $1 and (is_current or expires_at > $2) order by id',
    [type, now.toISOString()],
  )
}

export async function findCurrent(db: Queryable, type: SecretType): Promise<SecretRow | undefined> {
  const rows = await db.query<R>('select * from secrets where type = $1 and is_current', [type])
  return rows[0]
}

export async function findById(db: Queryable, type: SecretType, id: number): Promise<SecretRow | undefined> {
  const rows = await db.query<R>('select * from secrets where type = $1 and id = $2 for update', [type, id])
  return rows[0]
}

/** Adds a non-current secret valid until `expiresAt`. */
export async function insertSecret(tx: Queryable, row: NewSecret, expiresAt: Date, now: Date): Promise<SecretRow> {
  const rows = await tx.query<R>(
    `insert into secrets (type, material, algorithm, fingerprint, is_current, expires_at, created_at)
     values ($1, $2, $3, $4, false, $5, $6) returning *`,
    [row.type, row.material, row.algorithm, row.fingerprint, expiresAt.toISOString(), now.toISOString()],
  )
  return rows[0]!
}

/**
 * Makes `row` the current secret of its type. The previous current one stays valid until
 * `previousExpiresAt`; returns both. Runs in the caller's transaction, which holds the secrets
 * lock (service.ts), so two rotations cannot both find the same current one.
 */
export async function replaceCurrent(
  tx: Queryable,
  row: NewSecret,
  previousExpiresAt: Date,
  now: Date,
): Promise<{ current: SecretRow; previous?: SecretRow }> {
  const prev = await tx.query<R>(
    'update secrets set is_current = false, expires_at = $2 where type = $1 and is_current returning *',
    [row.type, previousExpiresAt.toISOString()],
  )
  const inserted = await tx.query<R>(
    `insert into secrets (type, material, algorithm, fingerprint, is_current, expires_at, created_at)
     values ($1, $2, $3, $4, true, null, $5) returning *`,
    [row.type, row.material, row.algorithm, row.fingerprint, now.toISOString()],
  )
  return { current: inserted[0]!, previous: prev[0] }
}

export async function setExpiry(tx: Queryable, id: number, expiresAt: Date): Promise<SecretRow> {
  const rows = await tx.query<R>('update secrets set expires_at = $2 where id = $1 and not is_current returning *', [id, expiresAt.toISOString()])
  return rows[0]!
}
