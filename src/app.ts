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
import { createDashboardSignouts } from './auth/dashboard-signouts.js'
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
import { readTlsPair, watchTls } from './net/tls.js'
import type { Server as TlsServer } from 'node:tls'
import { createLogger, type Logger } from './log.js'
import { createAddressPolicy } from './net/address-policy.js'
import type { Connector, Resolver } from './net/ssrf-guard.js'
import { RenderCache } from './render/cache.js'
import { PdfWorkPool } from './workers/pool.js'
import { createRenderService } from './render/service.js'
import { MatchPool } from './search/match-pool.js'
import { createBookmarkService } from './bookmarks/service.js'
import { createSearchService } from './search/service.js'
import { createRevocationService, type RevocationService } from './revocations/service.js'
import { createSecretsService, type SecretsService } from './secrets/service.js'
import { instrumentBlobStore, instrumentDb } from './metrics/instrument.js'
import { createMetricsRegistry, type MetricsRegistry } from './metrics/registry.js'
import { registerCacheMetrics, registerRenderAndJwtMetrics } from './metrics/catalog.js'
import { createNodeRegistry, type NodeRegistry, type NodeRegistryOptions } from './nodes/service.js'
import type { BlobStore } from './storage/blob-store.js'
import { createBlobStore } from './storage/from-config.js'
import { StagingArea } from './storage/staging.js'
import { startTracing } from './tracing/index.js'

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
  /** At close, how long PDF work in flight may still run before it is answered 503 (default 5000 ms). */
  drainMs?: number
}

/** Well inside a 30 s orchestrator grace period, with room for the database to close. */
const SHUTDOWN_DRAIN_MS = 5_000

/**
 * Shutdown that drains: fastify stops accepting (new requests get 503) and waits for those in
 * flight, which get `drainMs` to finish (their PDF work included). Then PDF work still running
 * or queued is answered 503 and every worker terminated, whatever it is doing, so the requests
 * waiting on it complete. Keep-alive connections that fall idle meanwhile are closed as they do
 * (fastify closes only those idle at the start), and after one more second any left are cut.
 */
async function drainHttp(http: { close(): Promise<unknown>; server: import('node:http').Server }, pdfWork: PdfWorkPool, drainMs: number): Promise<void> {
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref())
  const drained = http.close()
  const idle = setInterval(() => http.server.closeIdleConnections(), 100)
  idle.unref()
  try {
    await Promise.race([drained, sleep(drainMs)])
    await pdfWork.close()
    await Promise.race([drained, sleep(1000)])
    http.server.closeAllConnections()
    await drained
  } finally {
    clearInterval(idle)
  }
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
  /** The valid `jwt` keys, for JWT verification. */
  readonly keyRing: KeyRing
  /** The in-memory revocation check, consulted before the verification cache. */
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
  let stopPdfWork = async () => {}
  const nodeId = randomBytes(6).toString('hex')
  let closeViews = async () => {}
  const metrics = createMetricsRegistry()
  // Tracing (ENABLE_OPENTELEMETRY): without it no OpenTelemetry module is loaded, no wrapper installed.
  const tracing = config.tracing ? await startTracing(config.tracing, log) : undefined
  const rawDb = await openDatabase(config, { applicationName: `folio/${nodeId}` })
  const db = instrumentDb(tracing ? tracing.wrapDb(rawDb) : rawDb, metrics)
  // The built-in backend lives in the database, so the store comes after the migrations.
  let blobStore: BlobStore | undefined
  try {
    const applied = await migrate(db)
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated')
    const rawBlobs = createBlobStore(config, db)
    const blobs = instrumentBlobStore(tracing ? tracing.wrapBlobStore(rawBlobs) : rawBlobs, metrics)
    blobStore = blobs
    await blobs.check()

    // Secrets and revocations live in memory on every node, kept current by the cluster bus.
    const bus = createClusterBus(db, { log, nodeId, reconcileMs: opts.reconcileMs })
    const jwtPolicy = { algorithm: config.jwt.algorithm, maxLifetimeSeconds: config.jwt.maxLifetimeSeconds, clockToleranceSeconds: config.jwt.clockToleranceSeconds }
    const secrets = createSecretsService({ db, bus, log, jwt: jwtPolicy, limits: config.secrets, now: opts.now })
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
    // All PDF work (inspection, annotation import/export, rendering, text) runs in these worker
    // threads, never on the main thread (docs/architecture.md "PDF work in workers").
    const pool = new PdfWorkPool({
      workers: config.render.workers ?? availableParallelism(),
      queueMax: config.render.queueMax,
      timeoutMs: { render: config.render.timeoutMs, pdf: config.render.pdfJobTimeoutMs },
      memoryBytes: config.render.workerMemoryMb * 1024 * 1024,
      recycleBytes: config.render.workerRecycleMb * 1024 * 1024,
      log,
    })
    const pdfWork = tracing ? tracing.wrapJobRunner(pool) : pool
    stopPdfWork = () => pdfWork.close()
    const documents = createDocumentService({
      db, blobs, staging, log, maxUploadBytes: config.maxUploadBytes, remote, now: opts.now, onUpload: createUploadImport(pdfWork), pdfWork, versionsKept: config.build.versionsKept,
      cacheMaxEntries: config.documentCacheMaxEntries,
    })
    // Client JWTs are verified with the valid `jwt` secrets, several at once, and checked
    // against the in-memory revocation index before the verification cache.
    const jwt = createJwtVerifier({ keyRing: secrets.keyRing, revocations: revocations.check, policy: config.jwt, now: opts.now, cacheSize: config.jwtCacheMaxEntries })
    const bookmarks = createBookmarkService({ db, documents, now: opts.now })
    const annotations = createAnnotationService({ db, documents, log, now: opts.now, pdfWork, cacheMaxEntries: config.documentCacheMaxEntries, bookmarks })
    stopAnnotations = async () => {
      await annotations.close()
      await documents.close()
    }
    await documents.start()
    await annotations.start()
    const swept = await documents.sweep()
    if (swept > 0) log.info({ blobs: swept }, 'finished interrupted blob deletes')

    // The dashboard: any valid dashboard_password secret for DASHBOARD_USERNAME, and
    // session cookies signed with the current secret_key_base (verified with any valid one).
    const dashboardCredentials = createSecretCredentials(config.dashboard.username, secrets)
    const sessionSigner = secrets.signer('dashboard-session')
    const dashboardSignouts = createDashboardSignouts(db)

    // Hot pages also in memory: RENDER_CACHE_MEMORY_BYTES, or the disk bound when that is smaller.
    const renderCache = new RenderCache(join(config.dataDir, 'render-cache'), config.render.cacheMaxBytes, log, Math.min(config.render.cacheMemoryBytes, config.render.cacheMaxBytes))
    await renderCache.init()
    const render = createRenderService({
      documents,
      pool: pdfWork,
      cache: renderCache,
      maxPixels: config.render.maxPixels,
      annotations: annotations.overlaySource,
      log,
      textMemoryBytes: config.search.textMemoryBytes,
    })
    const matcher = new MatchPool({ workers: config.search.workers, timeoutMs: config.search.timeoutMs, queueMax: config.search.queueMax, log })
    const search = createSearchService({ render, annotations, matcher, maxResults: config.search.maxResults })
    registerRenderAndJwtMetrics(metrics, { render: () => render.stats(), jwtCache: () => jwt.cacheStats() })
    registerCacheMetrics(metrics, () => {
      const r = render.stats()
      const d = documents.cacheSizes()
      return [
        { cache: 'render_disk', entries: r.cacheEntries, bytes: r.cacheBytes, maxEntries: undefined, maxBytes: config.render.cacheMaxBytes },
        { cache: 'render_memory', entries: r.cacheMemoryEntries, bytes: r.cacheMemoryBytes, maxBytes: Math.min(config.render.cacheMemoryBytes, config.render.cacheMaxBytes) },
        { cache: 'jwt_verification', entries: jwt.cacheStats().size, maxEntries: config.jwtCacheMaxEntries },
        { cache: 'document_sources', entries: d.sources, maxEntries: config.documentCacheMaxEntries },
        { cache: 'annotation_versions', entries: annotations.cacheSize(), maxEntries: config.documentCacheMaxEntries },
        { cache: 'render_engine', bytes: r.engineBytes, maxBytes: config.render.workerRecycleMb * 1024 * 1024 * r.workers },
      ]
    })
    // Document editing and the Build API: PDF work in build workers (qpdf children), image and
    // text outputs through the render pool.
    const build = createBuildService({
      documents,
      annotations,
      runner: createBuildRunner({ concurrency: config.build.concurrency, queueMax: config.build.queueMax, log }),
      renderer: { pool: pdfWork, maxPixels: config.render.maxPixels },
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
      dashboardSignouts,
      render,
      search,
      bookmarks,
      annotations,
      secrets,
      revocations,
      audit,
      nodes,
      metrics,
      tracing,
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
        await drainHttp(http, pdfWork, opts.drainMs ?? SHUTDOWN_DRAIN_MS)
        await matcher.close()
        await documents.close()
        await closeViews()
        blobStore?.close?.()
        metrics.close()
        await db.close()
        await tracing?.shutdown() // last: the spans of the shutdown itself are exported too
      },
    }
  } catch (e) {
    await stopPdfWork().catch(() => {})
    await stopAnnotations().catch(() => {})
    await closeViews().catch(() => {})
    metrics.close()
    blobStore?.close?.()
    await db.close().catch(() => {})
    await tracing?.shutdown().catch(() => {})
    throw e
  }
}
