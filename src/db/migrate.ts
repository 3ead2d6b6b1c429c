/**
 * Plain numbered SQL migrations (HOUSE-STYLE §5, graphile-worker's model): files
 * `migrations/NNNN_name.sql`, applied in order in one transaction that first takes a
 * transaction-scoped advisory lock, so N nodes starting together apply each migration once.
 * A database that has migrations this code does not know is refused (it is newer than the code).
 */
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Db } from './db.js'

export interface Migration { id: number; name: string; sql: string }

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url))
// Arbitrary constant key for pg_advisory_xact_lock; "folio" in ASCII.
const LOCK_KEY = 0x666f6c696f

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort()
  const out: Migration[] = []
  for (const f of files) {
    const id = Number(f.slice(0, 4))
    if (out.length > 0 && out[out.length - 1]!.id === id) throw new Error(`duplicate migration number ${id}`)
    out.push({ id, name: f.replace(/\.sql$/, ''), sql: await readFile(dir + f, 'utf8') })
  }
  return out
}

export class MigrationError extends Error {}

/** Applies pending migrations; returns the names applied by this call (empty when up to date). */
export async function migrate(db: Db, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? (await loadMigrations())
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [LOCK_KEY])
    await tx.exec(`create table if not exists folio_migrations (
      id integer primary key,
      name text not null,
      applied_at timestamptz not null default now()
    )`)
    const done = await tx.query<{ id: number }>('select id from folio_migrations order by id')
    const known = new Set(all.map((m) => m.id))
    const unknown = done.filter((d) => !known.has(d.id))
    if (unknown.length > 0) {
      throw new MigrationError(
        `the database has migration ${unknown[0]!.id}, which this version of Folio does not know: it was written by a newer version`,
      )
    }
    const applied = new Set(done.map((d) => d.id))
    const names: string[] = []
    for (const m of all) {
      if (applied.has(m.id)) continue
      await tx.exec(m.sql)
      await tx.query('insert into folio_migrations (id, name) values ($1, $2)', [m.id, m.name])
      names.push(m.name)
    }
    return names
  })
}
