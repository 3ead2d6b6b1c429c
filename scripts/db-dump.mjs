// Rewrites test/db/schema.sql from the migrations (npm run db:dump; needs PostgreSQL and pg_dump).
// DATABASE_URL names the server (any database on it; a fresh one is created and dropped),
// default postgres://postgres@127.0.0.1:5432/test.
import { writeFile } from 'node:fs/promises'
import { dumpMigratedSchema, SNAPSHOT_PATH } from '../dist/test/helpers/schema-dump.js'

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schema = await dumpMigratedSchema(url)
await writeFile(SNAPSHOT_PATH, schema)
console.log(`wrote ${SNAPSHOT_PATH} (${schema.split('\n').length} lines)`)
