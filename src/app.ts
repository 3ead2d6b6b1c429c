/**
 * buildApp(config) → a ready Folio (database migrated, storage checked, routes mounted) that is
 * not yet listening. main.ts and the tests share it. Services get only what they use.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { DestinationStream } from 'pino'
import { createApiTokenVerifier } from './auth/api-token.js'
import type { Config } from './config.js'
import type { Db } from './db/db.js'
import { migrate } from './db/migrate.js'
import { openPglite } from './db/pglite.js'
import { connectPostgres } from './db/postgres.js'
import { createDocumentService } from './documents/service.js'
import { createHttpServer } from './http/server.js'
import { readTlsPair, watchTls } from './http/tls.js'
import type { Server as TlsServer } from 'node:tls'
import { createLogger, type Logger } from './log.js'
import { instrumentBlobStore, instrumentDb } from './metrics/instrument.js'
import { createMetricsRegistry, type MetricsRegistry } from './metrics/registry.js'
import { registerRuntimeMetrics } from './metrics/runtime.js'
import { createNodeRegistry, type NodeRegistry, type NodeRegistryOptions } from './nodes/service.js'
import { createSecretsService } from './secrets/service.js'
import type { BlobStore } from './storage/blob-store.js'
import { createBlobStore } from './storage/from-config.js'
import { StagingArea } from './storage/staging.js'

export interface AppOptions {
  log?: Logger
  logStream?: DestinationStream
  now?: () => Date
  /** Heartbeat timing of the node registry (tests shorten it). */
  nodes?: NodeRegistryOptions
  /** How often TLS_CERT_FILE / TLS_KEY_FILE are checked for changes (ms; default 5000). */
  tlsPollMs?: number
}

export interface FolioApp {
  readonly config: Config
  readonly http: FastifyInstance
  readonly db: Db
  readonly log: Logger
  readonly nodes: NodeRegistry
  /** Where other rooms register their metrics (GET /metrics exposes them). */
  readonly metrics: MetricsRegistry
  /** Set only on the start that generated the API token, so main.ts can print it once. */
  readonly generatedApiToken?: string
  listen(): Promise<string>
  /** Reads TLS_CERT_FILE / TLS_KEY_FILE again (SIGHUP); false when TLS is off or they do not load. */
  reloadTls(): Promise<boolean>
  close(): Promise<void>
}

export async function readVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

export async function openDatabase(config: Config): Promise<Db> {
  if (config.postgres) return connectPostgres(config.postgres)
  const dir = join(config.dataDir, 'pglite')
  await mkdir(dir, { recursive: true })
  return openPglite(dir)
}

export async function buildApp(config: Config, opts: AppOptions = {}): Promise<FolioApp> {
  const log = opts.log ?? createLogger(config.logLevel, opts.logStream)
  const version = await readVersion()
  await mkdir(config.dataDir, { recursive: true })
  const staging = new StagingArea(join(config.dataDir, 'tmp'))
  await staging.init()

  const metrics = createMetricsRegistry()
  const stopRuntimeMetrics = registerRuntimeMetrics(metrics)
  const db = instrumentDb(await openDatabase(config), metrics)
  // The built-in backend lives in the database, so the store comes after the migrations.
  let blobStore: BlobStore | undefined
  try {
    const applied = await migrate(db)
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated')
    const blobs = instrumentBlobStore(createBlobStore(config, db), metrics)
    blobStore = blobs
    await blobs.check()

    const secrets = createSecretsService({ db, now: opts.now })
    const { generated } = await secrets.seedApiToken(config.apiAuthToken)
    const apiTokens = createApiTokenVerifier(() => secrets.apiTokenDigests())

    const documents = createDocumentService({ db, blobs, staging, log, maxUploadBytes: config.maxUploadBytes, now: opts.now })
    const swept = await documents.sweep()
    if (swept > 0) log.info({ blobs: swept }, 'finished interrupted blob deletes')

    const nodes = createNodeRegistry({ db, log, version, metrics, ...opts.nodes })
    const tls = config.tls ? await readTlsPair(config.tls) : undefined

    const http = await createHttpServer(config, {
      log,
      version,
      config,
      apiTokens,
      documents,
      nodes,
      metrics,
      tls,
      checks: [async () => void (await db.query('select 1')), () => blobs.check()],
    })
    await http.ready()
    const tlsWatcher = config.tls ? watchTls(http.server as unknown as TlsServer, config.tls, log, { intervalMs: opts.tlsPollMs ?? 5000 }) : undefined

    let closed = false
    return {
      config,
      http,
      db,
      log,
      nodes,
      metrics,
      generatedApiToken: generated,
      async listen() {
        const address = await http.listen({ port: config.port, host: config.host })
        await nodes.register(address)
        return address
      },
      async reloadTls() {
        return tlsWatcher ? tlsWatcher.reload() : false
      },
      async close() {
        if (closed) return
        closed = true
        tlsWatcher?.stop()
        await nodes.stop() // leaves the registry first: peers and the dashboard see it going
        await http.close() // waits for in-flight requests
        blobStore?.close?.()
        stopRuntimeMetrics()
        await db.close()
      },
    }
  } catch (e) {
    stopRuntimeMetrics()
    blobStore?.close?.()
    await db.close().catch(() => {})
    throw e
  }
}
