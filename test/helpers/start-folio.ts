/**
 * Starts a real Folio for a test: buildApp + listen on an ephemeral port, on the embedded
 * database (a copy of the migrated PGlite template) or on the real PostgreSQL (a database
 * cloned from the migrated template), with its own temp DATA_DIR. Logs are captured so tests
 * can assert on them (e.g. that no token appears).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { buildApp, type AppOptions, type FolioApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { ENV_PG_TEMPLATE, ENV_PG_URL, ENV_PGLITE_TEMPLATE, ENV_TMP, withDatabase } from './global-setup.js'
import { assertNoTokenInLogs } from './jwt.js'

export type DbKind = 'pglite' | 'postgres'

/** The databases this run can test against: both, unless no PostgreSQL was found (never in CI). */
export function dbKinds(): DbKind[] {
  return process.env[ENV_PG_URL] ? ['pglite', 'postgres'] : ['pglite']
}

export const TEST_API_TOKEN = 'test-api-token-0123456789abcdef0123456789abcdef'

export function authHeader(token = TEST_API_TOKEN): Record<string, string> {
  return { authorization: `Token token="${token}"` }
}

export interface Storage {
  kind: DbKind
  dataDir: string
  /** DATABASE_URL for postgres; undefined for PGlite (embedded under dataDir). */
  databaseUrl?: string
  drop(): Promise<void>
}

function tmpRoot(): string {
  const t = process.env[ENV_TMP]
  if (!t) throw new Error('run the tests through `npm test` (scripts/run-tests.mjs prepares the databases)')
  return t
}

/**
 * A fresh data folder and database of the given kind, for one or more Folio starts.
 * `empty: true` (PostgreSQL only) creates a database with no migrations applied.
 */
export async function createStorage(kind: DbKind, opts: { empty?: boolean } = {}): Promise<Storage> {
  const dataDir = await mkdtemp(join(tmpRoot(), 'data-'))
  if (kind === 'pglite') {
    await cp(process.env[ENV_PGLITE_TEMPLATE]!, join(dataDir, 'pglite'), { recursive: true })
    return { kind, dataDir, drop: () => rm(dataDir, { recursive: true, force: true }) }
  }
  const url = process.env[ENV_PG_URL]
  if (!url) throw new Error('no PostgreSQL for this run')
  const name = `folio_t_${process.env.FOLIO_TEST_RUN_ID}_${randomBytes(5).toString('hex')}`
  const admin = postgres(url, { max: 1, onnotice: () => {} })
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.unsafe(opts.empty ? `create database ${name}` : `create database ${name} template ${process.env[ENV_PG_TEMPLATE]}`)
        break
      } catch (e) {
        // 55006: the template is busy with another clone at this instant; try again.
        if ((e as { code?: string }).code !== '55006' || attempt > 20) throw e
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100))
      }
    }
  } finally {
    await admin.end()
  }
  return {
    kind,
    dataDir,
    databaseUrl: withDatabase(url, name),
    async drop() {
      const a = postgres(url, { max: 1, onnotice: () => {} })
      await a.unsafe(`drop database if exists ${name} with (force)`).catch(() => {})
      await a.end()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

export function storageEnv(s: Storage): Record<string, string> {
  return { DATA_DIR: s.dataDir, ...(s.databaseUrl ? { DATABASE_URL: s.databaseUrl } : {}) }
}

export interface TestFolio {
  url: string
  app: FolioApp
  storage: Storage
  logs: string[]
  close(): Promise<void>
  /** Closes and starts again on the same storage (and env). */
  restart(): Promise<TestFolio>
  /** Closes and drops the database and data folder. */
  destroy(): Promise<void>
}

export interface StartOptions {
  db?: DbKind
  storage?: Storage
  env?: Record<string, string>
  /**
   * A DATA_DIR of its own for this node while the database stays the storage's: a second node
   * of a cluster on one PostgreSQL and a shared (built-in or s3) blob store.
   */
  ownDataDir?: boolean
  /** Passed to buildApp: replacements for the outside world (`remoteNet`: DNS and socket
   * connect), a shorter node heartbeat, a faster TLS poll... */
  app?: Omit<AppOptions, 'logStream'>
}

const LOG_FILE = () => process.env.FOLIO_TEST_LOG_FILE

export async function startFolio(opts: StartOptions = {}): Promise<TestFolio> {
  const storage = opts.storage ?? (await createStorage(opts.db ?? 'pglite'))
  const ownDir = opts.ownDataDir ? await mkdtemp(join(tmpRoot(), 'node-')) : undefined
  const env = {
    API_AUTH_TOKEN: TEST_API_TOKEN, LOG_LEVEL: 'info', ...opts.env, ...storageEnv(storage),
    ...(ownDir ? { DATA_DIR: ownDir } : {}), PORT: '0', HOST: '127.0.0.1',
  }
  const config = loadConfig(env)
  const logs: string[] = []
  const logStream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = chunk.toString('utf8')
      logs.push(...text.split('\n').filter((l) => l !== ''))
      const f = LOG_FILE()
      if (f) appendFileSync(f, text)
      cb()
    },
  })
  const app = await buildApp(config, { ...opts.app, logStream })
  const address = await app.listen()
  const closeNode = async () => {
    await app.close()
    if (ownDir) await rm(ownDir, { recursive: true, force: true })
  }
  const t: TestFolio = {
    url: address,
    app,
    storage,
    logs,
    // Every test server's logs are scanned for every JWT the tests made (issue #3: no token or
    // signature in any log line), whichever test file started it.
    async close() {
      await closeNode()
      assertNoTokenInLogs(logs)
    },
    async restart() {
      await closeNode()
      assertNoTokenInLogs(logs)
      return startFolio({ ...opts, storage })
    },
    async destroy() {
      await closeNode()
      await storage.drop()
      assertNoTokenInLogs(logs)
    },
  }
  return t
}

/** The compiled entry point, for tests that need a real process (crash, signals, printing). */
export const MAIN_JS = fileURLToPath(new URL('../../src/main.js', import.meta.url))

export interface FolioProcess {
  child: ChildProcess
  url: string
  output: () => string
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Spawns `node dist/src/main.js` with the given env and waits until it listens. */
export async function spawnFolio(env: Record<string, string>, timeoutMs = 30_000): Promise<FolioProcess> {
  const child = spawn(process.execPath, [MAIN_JS], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`folio did not start in time:\n${out}`)), timeoutMs)
    const check = () => {
      const m = /Folio is listening on (https?:\/\/[^\s]+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    }
    child.stdout!.on('data', check)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`folio exited with ${code}:\n${out}`))
    })
  })
  return {
    child,
    url,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}
