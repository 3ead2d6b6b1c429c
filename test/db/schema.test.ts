/**
 * Every schema change is visible in review: the migrated schema must equal the committed
 * snapshot test/db/schema.sql. After adding a migration, run `npm run db:dump` and commit the
 * file with it.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { dbKinds } from '../helpers/start-folio.js'
import { dumpMigratedSchema, normaliseSchema, SNAPSHOT_PATH } from '../helpers/schema-dump.js'

test('the migrated schema equals the committed snapshot test/db/schema.sql (npm run db:dump rewrites it)', { skip: !dbKinds().includes('postgres') && 'no PostgreSQL' }, async () => {
  const committed = await readFile(SNAPSHOT_PATH, 'utf8')
  const migrated = await dumpMigratedSchema(process.env.FOLIO_TEST_PG_URL!)
  assert.equal(migrated, committed, 'migrations and test/db/schema.sql disagree: run `npm run db:dump` and review the difference')
})

test('the snapshot is normalised: no comments, SET lines or per-run restrict keys', () => {
  const raw = '--\n-- PostgreSQL database dump\n--\n\\restrict abc123\nSET statement_timeout = 0;\nSELECT pg_catalog.set_config(\'search_path\', \'\', false);\n\n\n\nCREATE TABLE public.t (\n    id integer\n);\n\\unrestrict abc123\n'
  assert.equal(normaliseSchema(raw), 'CREATE TABLE public.t (\n    id integer\n);\n')
})
