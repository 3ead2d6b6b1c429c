/**
 * Run-wide test setup, called by scripts/run-tests.mjs before any test file starts:
 *  - PostgreSQL: TEST_DATABASE_URL, else 127.0.0.1:5432 (database `test`), else a throwaway
 *    cluster started here when initdb is installed. In CI a missing PostgreSQL fails the run.
 *    A template database is migrated once; each test server gets its own database cloned from it.
 *  - PGlite: one migrated template folder (its first start costs ~6 s), copied per server.
 * The results travel to the test processes as environment variables.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { migrate } from '../../src/db/migrate.js'
import { openPglite } from '../../src/db/pglite.js'
import { connectPostgres } from '../../src/db/postgres.js'

export const ENV_PG_URL = 'FOLIO_TEST_PG_URL'
export const ENV_PG_TEMPLATE = 'FOLIO_TEST_PG_TEMPLATE'
export const ENV_PGLITE_TEMPLATE = 'FOLIO_TEST_PGLITE_TEMPLATE'
export const ENV_TMP = 'FOLIO_TEST_TMP'

async function canConnect(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} })
  try {
    await sql`select 1`
    return true
  } catch {
    return false
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {})
  }
}

function findPgBin(name: string): string | undefined {
  const base = '/usr/lib/postgresql'
  if (!existsSync(base)) return undefined
  for (const v of readdirSync(base).sort().reverse()) {
    const p = join(base, v, 'bin', name)
    if (existsSync(p)) return p
  }
  return undefined
}

/** initdb + pg_ctl start in a temp folder (about a second), as the postgres user when root. */
async function startThrowawayCluster(tmp: string): Promise<{ url: string; dir: string }> {
  const initdb = findPgBin('initdb')
  const pgctl = findPgBin('pg_ctl')
  if (!initdb || !pgctl) throw new Error('no PostgreSQL binaries')
  const dir = join(tmp, 'pgcluster')
  const port = 20000 + Math.floor(Math.random() * 20000)
  const asRoot = process.getuid?.() === 0
  const run = (cmd: string, args: string[]) => {
    if (asRoot) execFileSync('chown', ['-R', 'postgres', tmp])
    return asRoot
      ? execFileSync('su', ['postgres', '-c', [cmd, ...args].map((a) => `'${a}'`).join(' ')], { stdio: 'pipe' })
      : execFileSync(cmd, args, { stdio: 'pipe' })
  }
  run(initdb, ['-D', dir, '--auth=trust', '-U', 'postgres'])
  run(pgctl, ['-D', dir, '-w', '-o', `-p ${port} -k ${tmp} -c listen_addresses=127.0.0.1`, '-l', join(tmp, 'pg.log'), 'start'])
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, dir }
}

export async function prepareTestDatabases(): Promise<Record<string, string>> {
  const tmp = mkdtempSync(join(tmpdir(), 'folio-test-'))
  const runId = `${process.pid}${Date.now().toString(36)}`
  const env: Record<string, string> = { [ENV_TMP]: tmp, FOLIO_TEST_RUN_ID: runId }

  // PostgreSQL
  let url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  if (!(await canConnect(url))) {
    try {
      const started = await startThrowawayCluster(tmp)
      url = started.url
      env.FOLIO_TEST_PG_CLUSTER = started.dir
    } catch (e) {
      if (process.env.CI) throw new Error(`PostgreSQL is required in CI and none answered at ${url.replace(/:[^:@/]*@/, ':***@')}`)
      process.stderr.write(`run-tests: no PostgreSQL (${(e as Error).message}); PostgreSQL variants are skipped\n`)
      url = ''
    }
  }
  if (url) {
    const template = `folio_tpl_${runId}`
    const admin = postgres(url, { max: 1, onnotice: () => {} })
    await admin.unsafe(`create database ${template}`)
    await admin.end()
    const tplUrl = withDatabase(url, template)
    const db = connectPostgres({ url: tplUrl }, { max: 1 })
    await migrate(db)
    await db.close()
    env[ENV_PG_URL] = url
    env[ENV_PG_TEMPLATE] = template
  }

  // PGlite template folder
  const pgliteDir = join(tmp, 'pglite-template')
  const lite = await openPglite(pgliteDir)
  await migrate(lite)
  await lite.close()
  env[ENV_PGLITE_TEMPLATE] = pgliteDir
  env.FOLIO_TEST_CLEANUP = '1'
  return env
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

export async function cleanupTestDatabases(env: Record<string, string | undefined>): Promise<void> {
  const url = env[ENV_PG_URL]
  const cluster = env.FOLIO_TEST_PG_CLUSTER
  if (url && !cluster) {
    const admin = postgres(url, { max: 1, onnotice: () => {} })
    try {
      const runId = env.FOLIO_TEST_RUN_ID ?? 'none'
      const rows = await admin<{ datname: string }[]>`
        select datname from pg_database where starts_with(datname, ${`folio_t_${runId}_`}) or datname = ${`folio_tpl_${runId}`}`
      for (const r of rows) await admin.unsafe(`drop database if exists "${r.datname}" with (force)`)
    } finally {
      await admin.end()
    }
  }
  if (cluster) {
    const pgctl = findPgBin('pg_ctl')
    if (pgctl) {
      const asRoot = process.getuid?.() === 0
      await new Promise<void>((res) => {
        const p = asRoot
          ? spawn('su', ['postgres', '-c', `'${pgctl}' -D '${cluster}' -m immediate stop`], { stdio: 'ignore' })
          : spawn(pgctl, ['-D', cluster, '-m', 'immediate', 'stop'], { stdio: 'ignore' })
        p.on('close', () => res())
      })
    }
  }
  if (env[ENV_TMP]) await rm(env[ENV_TMP]!, { recursive: true, force: true })
}
