/**
 * The schema snapshot (HOUSE-STYLE §5, graphile-worker's `db:dump`): a fresh PostgreSQL
 * database, every migration applied, `pg_dump --schema-only`, normalised so that the file only
 * changes when the schema does. test/db/schema.test.ts compares it with test/db/schema.sql;
 * `npm run db:dump` rewrites that file (scripts/db-dump.mjs).
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { migrate } from '../../src/db/migrate.js'
import { connectPostgres } from '../../src/db/postgres.js'
import { withDatabase } from './global-setup.js'

/** The committed snapshot, from the compiled file's place (dist/test/helpers → test/db). */
export const SNAPSHOT_PATH = fileURLToPath(new URL('../../../test/db/schema.sql', import.meta.url))

/**
 * Drops what varies between runs and tools but is not schema: comments, `SET` and
 * `set_config` lines, pg_dump's per-run `\restrict` keys, runs of blank lines.
 */
export function normaliseSchema(dump: string): string {
  const lines = dump
    .split('\n')
    .filter((l) => !l.startsWith('--'))
    .filter((l) => !/^SET\s/.test(l) && !/^SELECT pg_catalog\.set_config/.test(l))
    .filter((l) => !/^\\(un)?restrict\s/.test(l))
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`
}

/** Migrates a new database on the server of `adminUrl`, dumps its schema, drops it. */
export async function dumpMigratedSchema(adminUrl: string): Promise<string> {
  const name = `folio_schema_${randomBytes(5).toString('hex')}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  try {
    const url = withDatabase(adminUrl, name)
    const db = connectPostgres({ url }, { max: 1 })
    try {
      await migrate(db)
    } finally {
      await db.close()
    }
    const { stdout } = await promisify(execFile)('pg_dump', ['--schema-only', '--no-owner', '--no-privileges', `--dbname=${url}`], {
      maxBuffer: 16 * 1024 * 1024,
    })
    return normaliseSchema(stdout)
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {})
    await admin.end()
  }
}
