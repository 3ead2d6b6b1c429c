/**
 * buildApp(config) → a ready Folio (database migrated, storage checked, routes mounted) that is
 * not yet listening. main.ts and the tests share it. Services get only what they use.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { DestinationStream } from 'pino'
import { createAnnotationService, createUploadImport, type AnnotationService } from './annotations/service.js'
import { createApiTokenVerifier } from './auth/api-token.js'
import { createJwtVerifier } from './auth/jwt.js'
import { noRevocations } from './auth/keys.js'
import { createOriginPolicy } from './auth/origin.js'
import { createStaticKeyRing } from './auth/static-key-ring.js'
import type { Config } from './config.js'
import type { Db } from './db/db.js'
import { migrate } from './db/migrate.js'
import { openPglite } from './db/pglite.js'
import { connectPostgres } from './db/postgres.js'
import { createRemoteFetcher } from './documents/remote.js'
import { createDocumentService } from './documents/service.js'
import { createHttpServer } from './http/server.js'
import { createLogger, type Logger } from './log.js'
import { createAddressPolicy } from './net/address-policy.js'
import type { Connector, Resolver } from './net/ssrf-guard.js'
import { RenderCache } from './render/cache.js'
import { RenderPool } from './render/pool.js'
import { createRenderService } from './render/service.js'
import { createSecretsService } from './secrets/service.js'
import type { BlobStore } from './storage/blob-store.js'
import { FilesystemBlobStore } from './storage/filesystem.js'
import { StagingArea } from './storage/staging.js'

export interface AppOptions {
  log?: Logger
  logStream?: DestinationStream
  now?: () => Date
  /** The outside world of remote fetches (DNS, socket connect); tests replace it. */
  remoteNet?: { resolve?: Resolver; connect?: Connector }
}

export interface FolioApp {
  readonly config: Config
  readonly http: FastifyInstance
  readonly db: Db
  readonly log: Logger
  readonly annotations: AnnotationService
  /** Set only on the start that generated the API token, so main.ts can print it once. */
  readonly generatedApiToken?: string
  listen(): Promise<string>
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

  const db = await openDatabase(config)
  let stopAnnotations = async () => {}
  try {
    const applied = await migrate(db)
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated')

    const secrets = createSecretsService({ db, now: opts.now })
    const { generated } = await secrets.seedApiToken(config.apiAuthToken)
    const apiTokens = createApiTokenVerifier(() => secrets.apiTokenDigests())

    // Remote documents (spec §6): no fetcher at all unless ALLOW_REMOTE_DOCUMENTS=true.
    const remote = config.remote.allowed
      ? createRemoteFetcher({
        policy: createAddressPolicy(config.remote),
        timeoutMs: config.remote.timeoutMs,
        maxBytes: config.maxUploadBytes,
        log,
        userAgent: `Folio/${version}`,
        resolve: opts.remoteNet?.resolve,
        connect: opts.remoteNet?.connect,
      })
      : undefined
    const documents = createDocumentService({
      db, blobs, staging, log, maxUploadBytes: config.maxUploadBytes, remote, now: opts.now, onUpload: createUploadImport(),
    })
    // TODO(#4): the key ring backed by the `jwt` secrets and the revocation index replace these two.
    const keyRing = createStaticKeyRing(config.jwt)
    const jwt = createJwtVerifier({ keyRing, revocations: noRevocations, policy: config.jwt, now: opts.now })
    const annotations = createAnnotationService({ db, documents, log, now: opts.now })
    stopAnnotations = () => annotations.close()
    await annotations.start()
    const swept = await documents.sweep()
    if (swept > 0) log.info({ blobs: swept }, 'finished interrupted blob deletes')

    // Hot pages also in memory: 64 MiB, or the disk bound when that is smaller.
    const renderCache = new RenderCache(join(config.dataDir, 'render-cache'), config.render.cacheMaxBytes, log, Math.min(64 * 1024 * 1024, config.render.cacheMaxBytes))
    await renderCache.init()
    const render = createRenderService({
      documents,
      pool: new RenderPool({
        workers: config.render.workers ?? availableParallelism(),
        queueMax: config.render.queueMax,
        timeoutMs: config.render.timeoutMs,
        memoryBytes: config.render.workerMemoryMb * 1024 * 1024,
        log,
      }),
      cache: renderCache,
      maxPixels: config.render.maxPixels,
      annotations: undefined, // TODO(#5): the annotation service's overlay source
      log,
    })

    const http = await createHttpServer(config, {
      log,
      version,
      config,
      apiTokens,
      jwt,
      origins: createOriginPolicy(config.allowedOrigins),
      documents,
      render,
      annotations,
      checks: [async () => void (await db.query('select 1')), () => blobs.check()],
    })
    await http.ready()

    let closed = false
    return {
      config,
      http,
      db,
      log,
      annotations,
      generatedApiToken: generated,
      async listen() {
        return http.listen({ port: config.port, host: config.host })
      },
      async close() {
        if (closed) return
        closed = true
        await annotations.close() // ends event streams, which would otherwise hold http.close()
        await http.close() // waits for in-flight requests
        await render.close()
        await db.close()
      },
    }
  } catch (e) {
    await stopAnnotations().catch(() => {})
    await db.close().catch(() => {})
    throw e
  }
}
