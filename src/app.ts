/**
 * buildApp(config) → a ready Folio (database migrated, storage checked, routes mounted) that is
 * not yet listening. main.ts and the tests share it. Services get only what they use.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { DestinationStream } from 'pino'
import { createAnnotationService, createUploadImport, type AnnotationService } from './annotations/service.js'
import { createApiTokenVerifier } from './auth/api-token.js'
import { createSecretCredentials } from './auth/dashboard.js'
import { createJwtVerifier } from './auth/jwt.js'
import { createOriginPolicy } from './auth/origin.js'
import { createAuditService } from './audit/service.js'
import type { KeyRing, RevocationCheck } from './auth/keys.js'
import type { Config } from './config.js'
import type { Db } from './db/db.js'
import { migrate } from './db/migrate.js'
import { createClusterBus } from './db/notify.js'
import { openPglite } from './db/pglite.js'
import { connectPostgres } from './db/postgres.js'
import { createRemoteFetcher } from './documents/remote.js'
import { createDocumentService } from './documents/service.js'
import { createBuildService } from './build/service.js'
import { createBuildRunner } from './build/runner.js'
import { createHttpServer } from './http/server.js'
import { readTlsPair, watchTls } from './http/tls.js'
import type { Server as TlsServer } from 'node:tls'
import { createLogger, type Logger } from './log.js'
import { createAddressPolicy } from './net/address-policy.js'
import type { Connector, Resolver } from './net/ssrf-guard.js'
import { RenderCache } from './render/cache.js'
import { RenderPool } from './render/pool.js'
import { createRenderService } from './render/service.js'
import { createRevocationService, type RevocationService } from './revocations/service.js'
import { createSecretsService, type SecretsService } from './secrets/service.js'
import { instrumentBlobStore, instrumentDb } from './metrics/instrument.js'
import { createMetricsRegistry, type MetricsRegistry } from './metrics/registry.js'
import { registerRuntimeMetrics } from './metrics/runtime.js'
import { createNodeRegistry, type NodeRegistry, type NodeRegistryOptions } from './nodes/service.js'
import type { BlobStore } from './storage/blob-store.js'
import { createBlobStore } from './storage/from-config.js'
import { StagingArea } from './storage/staging.js'

export interface AppOptions {
  log?: Logger
  logStream?: DestinationStream
  now?: () => Date
  /** The outside world of remote fetches (DNS, socket connect); tests replace it. */
  remoteNet?: { resolve?: Resolver; connect?: Connector }
  /** How often each node compares its views with the database (cluster bus); default 250 ms. */
  reconcileMs?: number
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
  readonly annotations: AnnotationService
  readonly nodes: NodeRegistry
  /** Where other rooms register their metrics (GET /metrics exposes them). */
  readonly metrics: MetricsRegistry
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
  /** Reads TLS_CERT_FILE / TLS_KEY_FILE again (SIGHUP); false when TLS is off or they do not load. */
  reloadTls(): Promise<boolean>
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

export async function buildApp(config: Config, opts: AppOptions = {}): Promise<FolioApp> {
  const log = opts.log ?? createLogger(config.logLevel, opts.logStream)
  const version = await readVersion()
  await mkdir(config.dataDir, { recursive: true })
  const staging = new StagingArea(join(config.dataDir, 'tmp'))
  await staging.init()

  let stopAnnotations = async () => {}
  const nodeId = randomBytes(6).toString('hex')
  let closeViews = async () => {}
  const metrics = createMetricsRegistry()
  const stopRuntimeMetrics = registerRuntimeMetrics(metrics)
  const db = instrumentDb(await openDatabase(config, { applicationName: `folio/${nodeId}` }), metrics)
  // The built-in backend lives in the database, so the store comes after the migrations.
  let blobStore: BlobStore | undefined
  try {
    const applied = await migrate(db)
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated')
    const blobs = instrumentBlobStore(createBlobStore(config, db), metrics)
    blobStore = blobs
    await blobs.check()

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
      db, blobs, staging, log, maxUploadBytes: config.maxUploadBytes, remote, now: opts.now, onUpload: createUploadImport(), versionsKept: config.build.versionsKept,
    })
    // Client JWTs (#3) are verified with the valid `jwt` secrets, several at once, and checked
    // against the in-memory revocation index before the verification cache (#4).
    const jwt = createJwtVerifier({ keyRing: secrets.keyRing, revocations: revocations.check, policy: config.jwt, now: opts.now })
    const annotations = createAnnotationService({ db, documents, log, now: opts.now })
    stopAnnotations = () => annotations.close()
    await annotations.start()
    const swept = await documents.sweep()
    if (swept > 0) log.info({ blobs: swept }, 'finished interrupted blob deletes')

    // The dashboard (issue #7): any valid dashboard_password secret for DASHBOARD_USERNAME, and
    // session cookies signed with the current secret_key_base (verified with any valid one).
    const dashboardCredentials = createSecretCredentials(config.dashboard.username, secrets)
    const sessionSigner = secrets.signer('dashboard-session')

    // Hot pages also in memory: 64 MiB, or the disk bound when that is smaller.
    const renderCache = new RenderCache(join(config.dataDir, 'render-cache'), config.render.cacheMaxBytes, log, Math.min(64 * 1024 * 1024, config.render.cacheMaxBytes))
    await renderCache.init()
    const renderPool = new RenderPool({
      workers: config.render.workers ?? availableParallelism(),
      queueMax: config.render.queueMax,
      timeoutMs: config.render.timeoutMs,
      memoryBytes: config.render.workerMemoryMb * 1024 * 1024,
      log,
    })
    const render = createRenderService({
      documents,
      pool: renderPool,
      cache: renderCache,
      maxPixels: config.render.maxPixels,
      annotations: annotations.overlaySource,
      log,
    })
    // Issue #9 §5: render queue and cache, and the JWT verification cache, read at each scrape.
    const renderQueue = metrics.gauge('folio_render_queue_length', 'Pages waiting for a render worker')
    const renderBusy = metrics.gauge('folio_render_workers_busy', 'Render workers rendering now')
    const renderWorkers = metrics.gauge('folio_render_workers', 'Render workers running')
    const renderReplaced = metrics.gauge('folio_render_workers_replaced', 'Render workers replaced since start (timeout, crash, memory)')
    const renderCacheBytes = metrics.gauge('folio_render_cache_bytes', 'Bytes of rendered pages in the disk cache')
    const jwtCache = metrics.gauge('folio_jwt_cache', 'JWT verification cache: entries, hits and misses since start', ['stat'])
    metrics.onCollect(() => {
      const r = render.stats()
      renderQueue.set(r.queued)
      renderBusy.set(r.busy)
      renderWorkers.set(r.workers)
      renderReplaced.set(r.replaced)
      renderCacheBytes.set(r.cacheBytes)
      const j = jwt.cacheStats()
      jwtCache.set(j.size, { stat: 'entries' })
      jwtCache.set(j.hits, { stat: 'hits' })
      jwtCache.set(j.misses, { stat: 'misses' })
    })
    // Document editing and the Build API: PDF work in build workers (qpdf children), image and
    // text outputs through the render pool.
    const build = createBuildService({
      documents,
      annotations,
      runner: createBuildRunner({ concurrency: config.build.concurrency, queueMax: config.build.queueMax, log }),
      renderer: { pool: renderPool, maxPixels: config.render.maxPixels },
      workRoot: join(config.dataDir, 'tmp'),
      limits: config.build,
      log,
    })
    const nodes = createNodeRegistry({ db, log, version, metrics, ...opts.nodes })
    const tls = config.tls ? await readTlsPair(config.tls) : undefined

    const http = await createHttpServer(config, {
      log,
      version,
      config,
      apiTokens,
      jwt,
      origins: createOriginPolicy(config.allowedOrigins),
      documents,
      dashboardCredentials,
      sessionSigner,
      render,
      annotations,
      secrets,
      revocations,
      audit,
      nodes,
      metrics,
      build,
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
      annotations,
      nodes,
      metrics,
      generatedApiToken: generated,
      nodeId,
      secrets,
      revocations,
      keyRing: secrets.keyRing,
      revocationCheck: revocations.check,
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
        await annotations.close() // ends event streams, which would otherwise hold http.close()
        await http.close() // waits for in-flight requests
        await render.close()
        await closeViews()
        blobStore?.close?.()
        stopRuntimeMetrics()
        await db.close()
      },
    }
  } catch (e) {
    await stopAnnotations().catch(() => {})
    await closeViews().catch(() => {})
    stopRuntimeMetrics()
    blobStore?.close?.()
    await db.close().catch(() => {})
    throw e
  }
}
