/**
 * Migrations (HOUSE-STYLE §5): applied once in order, a second run is a no-op, several nodes
 * starting together apply each migration once, and a database newer than the code is refused.
 */
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import postgres from 'postgres'
import { loadMigrations, migrate, MigrationError } from '../../src/db/migrate.js'
import { openPglite } from '../../src/db/pglite.js'
import { connectPostgres } from '../../src/db/postgres.js'
import { withDatabase } from '../helpers/global-setup.js'

async function freshPgDatabase(): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const base = process.env.FOLIO_TEST_PG_URL
  if (!base) return undefined
  const name = `folio_t_${process.env.FOLIO_TEST_RUN_ID}_mig${Math.random().toString(36).slice(2, 8)}`
  const admin = postgres(base, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  return {
    url: withDatabase(base, name),
    async drop() {
      const a = postgres(base, { max: 1, onnotice: () => {} })
      await a.unsafe(`drop database if exists ${name} with (force)`)
      await a.end()
    },
  }
}

test('five nodes migrating one empty PostgreSQL at once apply each migration exactly once', async (t) => {
  const fresh = await freshPgDatabase()
  if (!fresh) return t.skip('no PostgreSQL in this run (never in CI)')
  const all = await loadMigrations()
  const nodes = Array.from({ length: 5 }, () => connectPostgres({ url: fresh.url }, { max: 2 }))
  try {
    const results = await Promise.all(nodes.map((db) => migrate(db)))
    const applied = results.flat()
    assert.deepEqual(applied.sort(), all.map((m) => m.name).sort(), 'every migration applied, none twice')
    const rows = await nodes[0]!.query<{ id: number }>('select id from folio_migrations order by id')
    assert.deepEqual(rows.map((r) => r.id), all.map((m) => m.id))
    assert.deepEqual(await migrate(nodes[0]!), [], 'a second run is a no-op')
    await nodes[0]!.query("insert into folio_migrations (id, name) values (9999, '9999_from_the_future')")
    await assert.rejects(migrate(nodes[1]!), MigrationError, 'a database newer than the code is refused')
  } finally {
    await Promise.all(nodes.map((n) => n.close()))
    await fresh.drop()
  }
})

test('PGlite: migrations apply, and a second run is a no-op', async () => {
  const dir = await mkdtemp(join(process.env.FOLIO_TEST_TMP!, 'mig-'))
  const db = await openPglite(join(dir, 'db'))
  try {
    const all = await loadMigrations()
    assert.deepEqual(await migrate(db), all.map((m) => m.name))
    assert.deepEqual(await migrate(db), [])
    const tables = await db.query<{ t: string }>("select table_name as t from information_schema.tables where table_schema = 'public' order by 1")
    // Each migration's tables are present (a superset check, so parallel branches' tables merge cleanly).
    const names = tables.map((r) => r.t)
    for (const t of ['blobs', 'documents', 'folio_migrations', 'secrets', 'cluster_changes', 'revocations', 'audit_log', 'annotations', 'annotation_layers', 'annotation_changes', 'blob_chunks', 'nodes']) {
      assert.ok(names.includes(t), `table ${t} exists`)
    }
  } finally {
    await db.close()
  }
})
