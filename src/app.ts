/**
 * buildApp(config) → a ready Folio (database migrated, storage checked, routes mounted) that is
 * not yet listening. main.ts and the tests share it. Services get only what they use.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { DestinationStream } from 'pino'
import { createAuditService } from './audit/service.js'
import { createApiTokenVerifier } from './auth/api-token.js'
import type { KeyRing, RevocationCheck } from './auth/keys.js'
import type { Config } from './config.js'
import type { Db } from './db/db.js'
import { migrate } from './db/migrate.js'
import { createClusterBus } from './db/notify.js'
import { openPglite } from './db/pglite.js'
import { connectPostgres } from './db/postgres.js'
import { createDocumentService } from './documents/service.js'
import { createHttpServer } from './http/server.js'
import { createLogger, type Logger } from './log.js'
import { createRevocationService, type RevocationService } from './revocations/service.js'
import { createSecretsService, type SecretsService } from './secrets/service.js'
import type { BlobStore } from './storage/blob-store.js'
import { FilesystemBlobStore } from './storage/filesystem.js'
import { StagingArea } from './storage/staging.js'

export interface AppOptions {
  log?: Logger
  logStream?: DestinationStream
  now?: () => Date
  /** How often each node compares its views with the database (cluster bus); default 250 ms. */
  reconcileMs?: number
}

export interface FolioApp {
  readonly config: Config
  readonly http: FastifyInstance
  readonly db: Db
  readonly log: Logger
  /** Set only on the start that generated the API token, so main.ts can print it once. */
  readonly generatedApiToken?: string
  /** Random id of this node; its PostgreSQL connections are named `folio/<nodeId>`. */
  readonly nodeId: string
  readonly secrets: SecretsService
  readonly revocations: RevocationService
  /** The valid `jwt` keys, for JWT verification (issue #3). */
  readonly keyRing: KeyRing
  /** The in-memory revocation check, consulted before the verification cache (issue #3). */
  readonly revocationCheck: RevocationCheck
  listen(): Promise<string>
  close(): Promise<void>
}

export async function readVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

export async function openDatabase(config: Config, opts: { applicationName?: string } = {}): Promise<Db> {
  if (config.postgres) return connectPostgres(config.postgres, opts)
  const dir = join(config.dataDir, 'pglite')
  await mkdir(dir, { recursive: true })
  return openPglite(dir)
}

function createBlobStore(config: Config): BlobStore {
  switch (config.assetBackend) {
    case 'filesystem':
      return new FilesystemBlobStore(join(config.dataDir, 'blobs'))
    default:
      // TODO(#9): built-in and s3 backends. Refused at start rather than silently replaced.
      throw new Error(`ASSET_STORAGE_BACKEND=${config.assetBackend} is not available in this version of Folio`)
  }
}

export async function buildApp(config: Config, opts: AppOptions = {}): Promise<FolioApp> {
  const log = opts.log ?? createLogger(config.logLevel, opts.logStream)
  const version = await readVersion()
  await mkdir(config.dataDir, { recursive: true })
  const blobs = createBlobStore(config)
  await blobs.check()
  const staging = new StagingArea(join(config.dataDir, 'tmp'))
  await staging.init()

  const nodeId = randomBytes(6).toString('hex')
  const db = await openDatabase(config, { applicationName: `folio/${nodeId}` })
  let closeViews = async () => {}
  try {
    const applied = await migrate(db)
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated')

    // Secrets and revocations live in memory on every node, kept current by the cluster bus (#4).
    const bus = createClusterBus(db, { log, nodeId, reconcileMs: opts.reconcileMs })
    const jwtPolicy = { algorithm: config.jwt.algorithm, maxLifetimeSeconds: config.jwt.maxLifetimeSeconds, clockToleranceSeconds: config.jwt.clockToleranceSeconds }
    const secrets = createSecretsService({ db, bus, log, jwt: jwtPolicy, now: opts.now })
    const revocations = createRevocationService({ db, bus, log, jwt: jwtPolicy, now: opts.now })
    const audit = createAuditService({ db })
    closeViews = async () => {
      await revocations.close()
      secrets.close()
      await bus.close()
    }
    const { generatedApiToken: generated } = await secrets.seedFromEnv({
      jwtPublicKey: config.jwt.publicKey,
      jwtAlgorithm: config.jwt.algorithm,
      secretKeyBase: config.secretKeyBase,
      dashboardPassword: config.dashboard.password,
      apiAuthToken: config.apiAuthToken,
    }, config.replaceSecretsFromEnv)
    await bus.start()
    revocations.start()
    const apiTokens = createApiTokenVerifier(() => secrets.apiTokens())

    const documents = createDocumentService({ db, blobs, staging, log, maxUploadBytes: config.maxUploadBytes, now: opts.now })
    const swept = await documents.sweep()
    if (swept > 0) log.info({ blobs: swept }, 'finished interrupted blob deletes')

    const http = await createHttpServer(config, {
      log,
      version,
      config,
      apiTokens,
      documents,
      secrets,
      revocations,
      audit,
      checks: [async () => void (await db.query('select 1')), () => blobs.check()],
    })
    await http.ready()

    let closed = false
    return {
      config,
      http,
      db,
      log,
      generatedApiToken: generated,
      nodeId,
      secrets,
      revocations,
      keyRing: secrets.keyRing,
      revocationCheck: revocations.check,
      async listen() {
        return http.listen({ port: config.port, host: config.host })
      },
      async close() {
        if (closed) return
        closed = true
        await http.close() // waits for in-flight requests
        await closeViews()
        await db.close()
      },
    }
  } catch (e) {
    await closeViews().catch(() => {})
    await db.close().catch(() => {})
    throw e
  }
}
