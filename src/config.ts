/**
 * Configuration: read once from the environment (spec §1), validated as a whole, deep-frozen.
 * `loadConfig` is pure; only `main.ts` passes it the process environment (a test greps for other readers).
 * Every problem names its variable; all problems are reported together; nothing is clamped.
 */
import { isIP } from 'node:net'
import { isAbsolute, resolve } from 'node:path'
import { isValidCidr } from './net/address-policy.js'
import { algorithmProblem, deriveAlgorithm, isJwtAlgorithm, JWT_ALGORITHMS, parsePublicKeyPem, type JwtAlgorithm } from './auth/jwt-key.js'

// The allow-list lives with the key rules (auth/jwt-key.ts); re-exported because Config carries it.
export { JWT_ALGORITHMS, type JwtAlgorithm }

export const ASSET_BACKENDS = ['filesystem', 'built-in', 's3', 'azure'] as const
export type AssetBackend = (typeof ASSET_BACKENDS)[number]

export const FETCH_POLICIES = ['public_only', 'allowlist_only', 'allow_private', 'allow_all'] as const
export type FetchPolicy = (typeof FETCH_POLICIES)[number]

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Defaults, with units. docs/configuration.md and the README table are checked against this. */
export const DEFAULTS = {
  PORT: 5000,
  HOST: '0.0.0.0',
  DATA_DIR: './data',
  ASSET_STORAGE_BACKEND: 'filesystem',
  JWT_ALGORITHM: 'RS256',
  JWT_MAX_LIFETIME: 86_400, // seconds
  JWT_CLOCK_TOLERANCE: 30, // seconds
  REPLACE_SECRETS_FROM_ENV: true,
  ALLOW_REMOTE_DOCUMENTS: false,
  REMOTE_URL_FETCH_POLICY: 'public_only',
  REMOTE_URL_FETCH_TIMEOUT: 30_000, // ms
  DASHBOARD_RATE_LIMITING_MAX_REQUESTS: 5, // failed logins per window and client IP
  DASHBOARD_RATE_LIMITING_WINDOW_MS: 60_000, // ms
  SERVER_REQUEST_TIMEOUT: 60_000, // ms
  SERVER_HEADERS_TIMEOUT: 10_000, // ms to receive a request's headers (slowloris)
  SERVER_KEEP_ALIVE_TIMEOUT: 5_000, // ms an idle keep-alive socket is kept between requests
  SERVER_MAX_CONNECTIONS: 2048, // open sockets; more are closed on accept
  EVENT_STREAMS_MAX: 1000, // open event streams on this node
  EVENT_STREAMS_MAX_PER_TOKEN: 4, // open event streams per JWT
  EVENT_STREAMS_MAX_PER_CLIENT: 32, // open event streams per client address
  DASHBOARD_LOGIN_CONCURRENCY: 2, // password verifications (scrypt) in flight on this node
  SECRETS_MAX_LIFETIME: 31_536_000, // seconds a non-current secret may stay valid (1 year)
  SECRETS_MAX_VALID_PER_TYPE: 100, // valid secrets of one type
  LOG_LEVEL: 'info',
  MAX_UPLOAD_SIZE_BYTES: 104_857_600, // bytes (100 MiB)
  // Page rendering. RENDER_WORKERS has no fixed default: unset → the number of cores.
  RENDER_TIMEOUT_MS: 20_000, // ms one render or text extraction may run in a worker
  RENDER_QUEUE_MAX: 64, // renders waiting for a worker; more → 429
  RENDER_MAX_PIXELS: 40_000_000, // width × height of one image (a 5000 px wide A4 page is 35 M)
  RENDER_WORKER_MEMORY_MB: 1024, // MiB of engine (WebAssembly) memory per worker
  RENDER_CACHE_MAX_BYTES: 1_073_741_824, // bytes of rendered pages on disk (1 GiB); 0 = no cache
  // Tracing (OpenTelemetry), off unless ENABLE_OPENTELEMETRY=true.
  ENABLE_OPENTELEMETRY: false,
  OTEL_SERVICE_NAME: 'folio',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318', // + /v1/traces
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  OTEL_EXPORTER_OTLP_TIMEOUT: 10_000, // ms per export
  OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  PDF_JOB_TIMEOUT_MS: 10_000, // ms one PDF structure job (inspection, annotation import/export) may run in a worker
  RENDER_CACHE_MEMORY_BYTES: 67_108_864, // bytes of the hottest rendered pages also kept in memory (64 MiB)
  JWT_CACHE_MAX_ENTRIES: 10_000, // verified tokens kept (LRU); 0 = verify every request
  DOCUMENT_CACHE_MAX_ENTRIES: 10_000, // per cache: document sources, document_info, annotation versions (1 s each)
  // Search (docs/search.md).
  SEARCH_TIMEOUT_MS: 500, // ms a regular expression or preset may run in a match worker
  SEARCH_WORKERS: 2, // match worker threads
  SEARCH_QUEUE_MAX: 16, // pattern searches waiting for a match worker; more → 429
  SEARCH_MAX_RESULTS: 1000, // results of one search; more are cut (header folio-search-truncated)
  SEARCH_TEXT_MEMORY_BYTES: 67_108_864, // bytes of decoded document text kept in memory (64 MiB)
  // Document editing and the Build API (docs/build.md)
  BUILD_TIMEOUT_MS: 120_000, // ms one build or edit may run (worker and qpdf children killed past it)
  BUILD_CONCURRENCY: 2, // builds running at once on this node; more wait
  BUILD_QUEUE_MAX: 16, // builds waiting; more → 429
  BUILD_MAX_PARTS: 50, // parts (and importDocument operations) in one instruction
  BUILD_MAX_PAGES: 10_000, // pages of one built document
  BUILD_MAX_OUTPUT_BYTES: 524_288_000, // bytes of one built file (500 MiB)
  DOCUMENT_VERSIONS_KEPT: 10, // previous versions kept per document after an edit; 0 = none
} as const

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const
export const TRACE_SAMPLERS = [
  'always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio',
] as const

export interface PostgresConfig {
  /** A connection URL, or undefined when the discrete PG* variables are used. */
  url?: string
  host?: string
  port?: number
  user?: string
  password?: string
  database?: string
  ssl?: 'disable' | 'require' | 'verify-full'
}

export interface S3Config {
  bucket: string
  region: string
  host?: string
  port?: number
  scheme: 'http' | 'https'
  accessKeyId?: string
  secretAccessKey?: string
  /** Path-style (`/bucket/key`) or virtual-hosted (`bucket.host/key`) requests. */
  forcePathStyle?: boolean
}

/** `azure` backend: Document Engine's AZURE_STORAGE_* variables. */
export interface AzureConfig {
  container: string
  /** Either a connection string, or an account name and key (with an optional API URL). */
  connectionString?: string
  accountName?: string
  accountKey?: string
  /** The Blob service URL, e.g. Azurite's http://127.0.0.1:10000/devstoreaccount1. */
  apiUrl?: string
}

/** OpenTelemetry tracing; present only when ENABLE_OPENTELEMETRY=true (and OTEL_SDK_DISABLED is not). */
export interface TracingConfig {
  serviceName: string
  /** The full URL spans are POSTed to (…/v1/traces). */
  url: string
  protocol: (typeof OTLP_PROTOCOLS)[number]
  headers: Record<string, string>
  timeoutMs: number
  sampler: (typeof TRACE_SAMPLERS)[number]
  /** For the traceidratio samplers, 0–1. */
  samplerRatio: number
  resourceAttributes: Record<string, string>
}

export interface Config {
  port: number
  host: string
  dataDir: string
  /** undefined → embedded PGlite under dataDir */
  postgres?: PostgresConfig
  assetBackend: AssetBackend
  s3?: S3Config
  azure?: AzureConfig
  /** undefined → tracing off, and no OpenTelemetry code is loaded. */
  tracing?: TracingConfig
  apiAuthToken?: string
  secretKeyBase?: string
  jwt: {
    publicKey?: string
    algorithm: JwtAlgorithm
    maxLifetimeSeconds: number
    clockToleranceSeconds: number
    audience?: string
    issuer?: string
  }
  dashboard: { username?: string; password?: string; rateLimitMax: number; rateLimitWindowMs: number }
  replaceSecretsFromEnv: boolean
  remote: {
    allowed: boolean
    policy: FetchPolicy
    allowedHosts: string[]
    allowedCidrs: string[]
    timeoutMs: number
  }
  trustedProxies: string[]
  /** Native HTTPS: both files or neither; reloaded when they change. */
  tls?: { certFile: string; keyFile: string }
  requestTimeoutMs: number
  /** Socket limits of the listener (slowloris, idle sockets, connection floods). */
  server: { headersTimeoutMs: number; keepAliveTimeoutMs: number; maxConnections: number }
  /** Caps on live event streams (each holds a socket and a subscription). */
  eventStreams: { max: number; maxPerToken: number; maxPerClient: number }
  dashboardLoginConcurrency: number
  secrets: { maxLifetimeSeconds: number; maxValidPerType: number }
  logLevel: LogLevel
  /** undefined → any origin */
  allowedOrigins?: string[]
  maxUploadBytes: number
  render: {
    /** undefined → the number of cores (decided by app.ts, which may ask the OS). */
    workers?: number
    timeoutMs: number
    queueMax: number
    maxPixels: number
    workerMemoryMb: number
    workerRecycleMb: number
    cacheMaxBytes: number
    /** Wall-clock limit of a PDF structure job (inspection, annotation import/export), ms. */
    pdfJobTimeoutMs: number
    cacheMemoryBytes: number
  }
  jwtCacheMaxEntries: number
  documentCacheMaxEntries: number
  search: {
    timeoutMs: number
    workers: number
    queueMax: number
    maxResults: number
    textMemoryBytes: number
  }
  build: {
    timeoutMs: number
    concurrency: number
    queueMax: number
    maxParts: number
    maxPages: number
    maxOutputBytes: number
    versionsKept: number
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

/** Collects problems instead of throwing at the first, so an operator fixes them in one go. */
class Reader {
  readonly problems: string[] = []
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const v = this.env[name]
    return v === undefined || v.trim() === '' ? undefined : v.trim()
  }

  str(name: string): string | undefined {
    return this.raw(name)
  }

  int(name: string, def: number, min: number, max: number): number {
    const v = this.raw(name)
    if (v === undefined) return def
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      this.problems.push(`${name}: "${v}" is not a whole number from ${min} to ${max}`)
      return def
    }
    return Number(v)
  }

  bool(name: string, def: boolean): boolean {
    const v = this.raw(name)?.toLowerCase()
    if (v === undefined) return def
    if (['true', '1', 'yes', 'on'].includes(v)) return true
    if (['false', '0', 'no', 'off'].includes(v)) return false
    this.problems.push(`${name}: "${v}" is not a boolean; use true or false`)
    return def
  }

  oneOf<T extends string>(name: string, def: T, allowed: readonly T[]): T {
    const v = this.raw(name)
    if (v === undefined) return def
    if (!(allowed as readonly string[]).includes(v)) {
      this.problems.push(`${name}: "${v}" is not allowed; use one of ${allowed.join(' ')}`)
      return def
    }
    return v as T
  }

  list(name: string): string[] | undefined {
    const v = this.raw(name)
    if (v === undefined) return undefined
    return v.split(',').map((s) => s.trim()).filter((s) => s !== '')
  }

  problem(text: string): void {
    this.problems.push(text)
  }
}

const ORIGIN_RE = /^https?:\/\/[^/\s]+$/i
// Host names for the remote allow-list: labels, optionally a leading `*.` wildcard.
const HOSTNAME_RE = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i

function parsePostgres(r: Reader): PostgresConfig | undefined {
  const url = r.str('DATABASE_URL')
  if (url !== undefined) {
    let u: URL | undefined
    try {
      u = new URL(url)
    } catch {
      // Never echo the URL: it may carry a password.
      r.problem('DATABASE_URL: is not a valid URL (expected postgres://user:password@host:port/database)')
    }
    if (u && u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
      r.problem('DATABASE_URL: must start with postgres:// or postgresql://')
    }
    return { url }
  }
  const host = r.str('PGHOST')
  if (host === undefined) return undefined
  const ssl = r.oneOf('PGSSL', 'disable', ['disable', 'require', 'verify-full'] as const)
  return {
    host,
    port: r.int('PGPORT', 5432, 1, 65535),
    user: r.str('PGUSER'),
    password: r.str('PGPASSWORD'),
    database: r.str('PGDATABASE'),
    ssl,
  }
}

function parseS3(r: Reader, backend: AssetBackend): S3Config | undefined {
  // Also read when the bucket is named with another backend: `folio migrate-storage` uses it.
  if (backend !== 's3' && r.raw('ASSET_STORAGE_S3_BUCKET') === undefined) return undefined
  const bucket = r.str('ASSET_STORAGE_S3_BUCKET')
  if (bucket === undefined) r.problem('ASSET_STORAGE_S3_BUCKET: is required when ASSET_STORAGE_BACKEND=s3')
  const port = r.raw('ASSET_STORAGE_S3_PORT') === undefined ? undefined : r.int('ASSET_STORAGE_S3_PORT', 443, 1, 65535)
  const accessKeyId = r.str('ASSET_STORAGE_S3_ACCESS_KEY_ID')
  const secretAccessKey = r.raw('ASSET_STORAGE_S3_SECRET_ACCESS_KEY')
  // Both or neither: with neither, the AWS credential chain is used; one alone is a mistake.
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    const [set, unset] = accessKeyId === undefined
      ? ['ASSET_STORAGE_S3_SECRET_ACCESS_KEY', 'ASSET_STORAGE_S3_ACCESS_KEY_ID']
      : ['ASSET_STORAGE_S3_ACCESS_KEY_ID', 'ASSET_STORAGE_S3_SECRET_ACCESS_KEY']
    r.problem(`${unset}: is required when ${set} is set (or unset both to use the AWS credential chain)`)
  }
  const host = r.str('ASSET_STORAGE_S3_HOST')
  return {
    bucket: bucket ?? '',
    region: r.str('ASSET_STORAGE_S3_REGION') ?? 'us-east-1',
    host,
    port,
    scheme: r.oneOf('ASSET_STORAGE_S3_SCHEME', 'https', ['http', 'https'] as const),
    accessKeyId,
    secretAccessKey,
    forcePathStyle: r.bool('ASSET_STORAGE_S3_FORCE_PATH_STYLE', host !== undefined || (bucket ?? '').includes('.')),
  }
}

function parseAzure(r: Reader, backend: AssetBackend): AzureConfig | undefined {
  // Also read when the container is named with another backend: `folio migrate-storage` uses it.
  if (backend !== 'azure' && r.raw('AZURE_STORAGE_DEFAULT_CONTAINER') === undefined) return undefined
  const container = r.str('AZURE_STORAGE_DEFAULT_CONTAINER')
  // Azure's rule: 3–63 lowercase letters, digits and single hyphens, starting with a letter or digit.
  if (container === undefined) r.problem('AZURE_STORAGE_DEFAULT_CONTAINER: is required when ASSET_STORAGE_BACKEND=azure')
  else if (!/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(container)) {
    r.problem(`AZURE_STORAGE_DEFAULT_CONTAINER: "${container}" is not a container name (3–63 lowercase letters, digits and single hyphens)`)
  }
  const connectionString = r.raw('AZURE_STORAGE_ACCOUNT_CONNECTION_STRING')
  const accountName = r.str('AZURE_STORAGE_ACCOUNT_NAME')
  const accountKey = r.raw('AZURE_STORAGE_ACCOUNT_KEY')
  const apiUrl = r.str('AZURE_STORAGE_API_URL')
  if (apiUrl !== undefined && !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/i.test(apiUrl)) {
    r.problem('AZURE_STORAGE_API_URL: is not an http(s) URL like http://127.0.0.1:10000/devstoreaccount1')
  }
  if (connectionString !== undefined) {
    // Never echo it: it carries the account key.
    if (!/(^|;)\s*(AccountName|BlobEndpoint|SharedAccessSignature|UseDevelopmentStorage)\s*=/i.test(connectionString)) {
      r.problem('AZURE_STORAGE_ACCOUNT_CONNECTION_STRING: is not a connection string (DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…)')
    }
    if (apiUrl !== undefined) r.problem('AZURE_STORAGE_API_URL: cannot be combined with AZURE_STORAGE_ACCOUNT_CONNECTION_STRING; put the endpoint in its BlobEndpoint=')
  } else if (accountName === undefined || accountKey === undefined) {
    r.problem(`${accountName === undefined ? 'AZURE_STORAGE_ACCOUNT_NAME' : 'AZURE_STORAGE_ACCOUNT_KEY'}: is required for the azure backend, unless AZURE_STORAGE_ACCOUNT_CONNECTION_STRING is set`)
  }
  return { container: container ?? '', connectionString, accountName, accountKey, apiUrl }
}

/** `k=v,k2=v2` with percent-encoded values (the OTEL_EXPORTER_OTLP_HEADERS / OTEL_RESOURCE_ATTRIBUTES form). */
function keyValues(r: Reader, name: string, opts: { secret?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {}
  const v = r.raw(name)
  if (v === undefined) return out
  for (const pair of v.split(',')) {
    if (pair.trim() === '') continue
    const i = pair.indexOf('=')
    let value: string | undefined
    try {
      value = i > 0 ? decodeURIComponent(pair.slice(i + 1).trim()) : undefined
    } catch {
      value = undefined
    }
    if (i <= 0 || value === undefined) {
      // Header values may be credentials: name the variable, never echo the value.
      r.problem(`${name}: is not a list of key=value pairs separated by commas${opts.secret ? '' : ` (at "${pair.trim()}")`}`)
      continue
    }
    out[pair.slice(0, i).trim()] = value
  }
  return out
}

/** OpenTelemetry's standard variables (opentelemetry.io "SDK configuration"), read only when enabled. */
function parseTracing(r: Reader): TracingConfig | undefined {
  if (!r.bool('ENABLE_OPENTELEMETRY', DEFAULTS.ENABLE_OPENTELEMETRY) || r.bool('OTEL_SDK_DISABLED', false)) return undefined
  const protocol = r.oneOf('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    r.oneOf('OTEL_EXPORTER_OTLP_PROTOCOL', DEFAULTS.OTEL_EXPORTER_OTLP_PROTOCOL, OTLP_PROTOCOLS), OTLP_PROTOCOLS)
  // The signal-specific URL is used as is; the general one gets the signal's path appended.
  let url = r.str('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
  let from = 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
  if (url === undefined) {
    from = 'OTEL_EXPORTER_OTLP_ENDPOINT'
    url = `${(r.str('OTEL_EXPORTER_OTLP_ENDPOINT') ?? DEFAULTS.OTEL_EXPORTER_OTLP_ENDPOINT).replace(/\/+$/, '')}/v1/traces`
  }
  if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/i.test(url)) r.problem(`${from}: is not an http(s) URL like http://collector:4318`)
  const sampler = r.oneOf('OTEL_TRACES_SAMPLER', DEFAULTS.OTEL_TRACES_SAMPLER, TRACE_SAMPLERS)
  let samplerRatio = 1
  const arg = r.raw('OTEL_TRACES_SAMPLER_ARG')
  if (arg !== undefined && sampler.endsWith('traceidratio')) {
    samplerRatio = Number(arg)
    if (!/^\d*\.?\d+$/.test(arg) || samplerRatio > 1) {
      r.problem(`OTEL_TRACES_SAMPLER_ARG: "${arg}" is not a ratio from 0 to 1`)
      samplerRatio = 1
    }
  }
  return {
    serviceName: r.str('OTEL_SERVICE_NAME') ?? DEFAULTS.OTEL_SERVICE_NAME,
    url,
    protocol,
    headers: { ...keyValues(r, 'OTEL_EXPORTER_OTLP_HEADERS', { secret: true }), ...keyValues(r, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', { secret: true }) },
    timeoutMs: r.int('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', r.int('OTEL_EXPORTER_OTLP_TIMEOUT', DEFAULTS.OTEL_EXPORTER_OTLP_TIMEOUT, 1, 600_000), 1, 600_000),
    sampler,
    samplerRatio,
    resourceAttributes: keyValues(r, 'OTEL_RESOURCE_ATTRIBUTES'),
  }
}

export function loadConfig(env: Env, opts: { cwd?: string } = {}): Config {
  const r = new Reader(env)
  const cwd = opts.cwd ?? '.'

  const dataDirRaw = r.str('DATA_DIR') ?? DEFAULTS.DATA_DIR
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw)

  const assetBackend = r.oneOf('ASSET_STORAGE_BACKEND', DEFAULTS.ASSET_STORAGE_BACKEND, ASSET_BACKENDS)

  const apiAuthToken = r.raw('API_AUTH_TOKEN')
  if (apiAuthToken !== undefined && apiAuthToken.length < 32) {
    r.problem('API_AUTH_TOKEN: must be at least 32 characters (generate one with `openssl rand -hex 32`)')
  }
  const secretKeyBase = r.raw('SECRET_KEY_BASE')
  if (secretKeyBase !== undefined && secretKeyBase.length < 64) {
    r.problem('SECRET_KEY_BASE: must be at least 64 characters (generate one with `openssl rand -hex 64`)')
  }

  const algorithmRaw = r.raw('JWT_ALGORITHM')
  let algorithm: JwtAlgorithm = DEFAULTS.JWT_ALGORITHM
  if (algorithmRaw !== undefined) {
    if (isJwtAlgorithm(algorithmRaw)) algorithm = algorithmRaw
    else r.problem(`JWT_ALGORITHM: "${algorithmRaw}" is not allowed; use one of ${JWT_ALGORITHMS.join(' ')}`)
  }
  // A PEM in an environment variable often arrives with literal "\n" sequences.
  const publicKey = r.raw('JWT_PUBLIC_KEY')?.replace(/\\n/g, '\n')
  if (publicKey !== undefined) {
    try {
      const key = parsePublicKeyPem(publicKey)
      // spec §4: without JWT_ALGORITHM the key decides (RSA → RS256, P-256 → ES256, Ed25519 → EdDSA...).
      if (algorithmRaw === undefined) algorithm = deriveAlgorithm(key) ?? algorithm
      const misfit = algorithmRaw === undefined || algorithmRaw === algorithm ? algorithmProblem(key, algorithm) : undefined
      if (misfit) r.problem(`JWT_PUBLIC_KEY: does not fit JWT_ALGORITHM=${algorithm}: ${misfit}`)
    } catch (e) {
      r.problem(`JWT_PUBLIC_KEY: ${(e as Error).message}`)
    }
  }

  const username = r.str('DASHBOARD_USERNAME')
  const password = r.raw('DASHBOARD_PASSWORD')
  if (password !== undefined && password.length < 8) r.problem('DASHBOARD_PASSWORD: must be at least 8 characters')

  const allowedOrigins = r.list('ALLOWED_ORIGINS')
  for (const o of allowedOrigins ?? []) {
    if (!ORIGIN_RE.test(o)) r.problem(`ALLOWED_ORIGINS: "${o}" is not an origin like https://app.example.com`)
  }
  const allowedHosts = r.list('REMOTE_URL_FETCH_ALLOWED_HOSTS') ?? []
  for (const h of allowedHosts) {
    if (!HOSTNAME_RE.test(h)) r.problem(`REMOTE_URL_FETCH_ALLOWED_HOSTS: "${h}" is not a host name`)
  }
  const allowedCidrs = r.list('REMOTE_URL_FETCH_ALLOWED_CIDRS') ?? []
  for (const c of allowedCidrs) {
    // Parsed as the guard will use it (four-part IPv4 or IPv6, prefix in range), not by pattern.
    if (!isValidCidr(c)) r.problem(`REMOTE_URL_FETCH_ALLOWED_CIDRS: "${c}" is not a CIDR like 10.0.0.0/8`)
  }
  // The spec's name (§1); some deployments call it TRUST_PROXY. Addresses, CIDRs, or the range names
  // fastify's proxy-addr knows. Never "trust everyone": a client could then forge its address.
  const trustedProxies = r.list('TRUSTED_PROXIES') ?? []
  for (const p of trustedProxies) {
    if (!isProxyEntry(p)) r.problem(`TRUSTED_PROXIES: "${p}" is not an IP address, a CIDR like 10.0.0.0/8, or one of loopback linklocal uniquelocal`)
  }
  const certFile = r.str('TLS_CERT_FILE')
  const keyFile = r.str('TLS_KEY_FILE')
  if ((certFile === undefined) !== (keyFile === undefined)) {
    r.problem(`${certFile === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE'}: is required when ${certFile === undefined ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE'} is set`)
  }

  const config: Config = {
    port: r.int('PORT', DEFAULTS.PORT, 0, 65535),
    host: r.str('HOST') ?? DEFAULTS.HOST,
    dataDir,
    postgres: parsePostgres(r),
    assetBackend,
    s3: parseS3(r, assetBackend),
    azure: parseAzure(r, assetBackend),
    tracing: parseTracing(r),
    apiAuthToken,
    secretKeyBase,
    jwt: {
      publicKey,
      algorithm,
      maxLifetimeSeconds: r.int('JWT_MAX_LIFETIME', DEFAULTS.JWT_MAX_LIFETIME, 1, 31_536_000),
      clockToleranceSeconds: r.int('JWT_CLOCK_TOLERANCE', DEFAULTS.JWT_CLOCK_TOLERANCE, 0, 3600),
      audience: r.str('JWT_AUDIENCE'),
      issuer: r.str('JWT_ISSUER'),
    },
    dashboard: {
      username,
      password,
      rateLimitMax: r.int('DASHBOARD_RATE_LIMITING_MAX_REQUESTS', DEFAULTS.DASHBOARD_RATE_LIMITING_MAX_REQUESTS, 1, 1_000_000),
      rateLimitWindowMs: r.int('DASHBOARD_RATE_LIMITING_WINDOW_MS', DEFAULTS.DASHBOARD_RATE_LIMITING_WINDOW_MS, 1000, 86_400_000),
    },
    replaceSecretsFromEnv: r.bool('REPLACE_SECRETS_FROM_ENV', DEFAULTS.REPLACE_SECRETS_FROM_ENV),
    remote: {
      allowed: r.bool('ALLOW_REMOTE_DOCUMENTS', DEFAULTS.ALLOW_REMOTE_DOCUMENTS),
      policy: r.oneOf('REMOTE_URL_FETCH_POLICY', DEFAULTS.REMOTE_URL_FETCH_POLICY, FETCH_POLICIES),
      allowedHosts,
      allowedCidrs,
      timeoutMs: r.int('REMOTE_URL_FETCH_TIMEOUT', DEFAULTS.REMOTE_URL_FETCH_TIMEOUT, 100, 600_000),
    },
    trustedProxies,
    tls: certFile !== undefined && keyFile !== undefined
      ? { certFile: isAbsolute(certFile) ? certFile : resolve(cwd, certFile), keyFile: isAbsolute(keyFile) ? keyFile : resolve(cwd, keyFile) }
      : undefined,
    requestTimeoutMs: r.int('SERVER_REQUEST_TIMEOUT', DEFAULTS.SERVER_REQUEST_TIMEOUT, 1000, 3_600_000),
    server: {
      headersTimeoutMs: r.int('SERVER_HEADERS_TIMEOUT', DEFAULTS.SERVER_HEADERS_TIMEOUT, 1000, 600_000),
      keepAliveTimeoutMs: r.int('SERVER_KEEP_ALIVE_TIMEOUT', DEFAULTS.SERVER_KEEP_ALIVE_TIMEOUT, 100, 600_000),
      maxConnections: r.int('SERVER_MAX_CONNECTIONS', DEFAULTS.SERVER_MAX_CONNECTIONS, 1, 1_000_000),
    },
    eventStreams: {
      max: r.int('EVENT_STREAMS_MAX', DEFAULTS.EVENT_STREAMS_MAX, 1, 1_000_000),
      maxPerToken: r.int('EVENT_STREAMS_MAX_PER_TOKEN', DEFAULTS.EVENT_STREAMS_MAX_PER_TOKEN, 1, 1_000_000),
      maxPerClient: r.int('EVENT_STREAMS_MAX_PER_CLIENT', DEFAULTS.EVENT_STREAMS_MAX_PER_CLIENT, 1, 1_000_000),
    },
    dashboardLoginConcurrency: r.int('DASHBOARD_LOGIN_CONCURRENCY', DEFAULTS.DASHBOARD_LOGIN_CONCURRENCY, 1, 64),
    secrets: {
      maxLifetimeSeconds: r.int('SECRETS_MAX_LIFETIME', DEFAULTS.SECRETS_MAX_LIFETIME, 60, 315_360_000),
      maxValidPerType: r.int('SECRETS_MAX_VALID_PER_TYPE', DEFAULTS.SECRETS_MAX_VALID_PER_TYPE, 2, 100_000),
    },
    logLevel: r.oneOf('LOG_LEVEL', DEFAULTS.LOG_LEVEL, LOG_LEVELS),
    allowedOrigins,
    maxUploadBytes: r.int('MAX_UPLOAD_SIZE_BYTES', DEFAULTS.MAX_UPLOAD_SIZE_BYTES, 1, Number.MAX_SAFE_INTEGER),
    render: {
      workers: r.raw('RENDER_WORKERS') === undefined ? undefined : r.int('RENDER_WORKERS', 1, 1, 256),
      timeoutMs: r.int('RENDER_TIMEOUT_MS', DEFAULTS.RENDER_TIMEOUT_MS, 100, 600_000),
      queueMax: r.int('RENDER_QUEUE_MAX', DEFAULTS.RENDER_QUEUE_MAX, 1, 100_000),
      maxPixels: r.int('RENDER_MAX_PIXELS', DEFAULTS.RENDER_MAX_PIXELS, 1, 400_000_000),
      // 2048: the engine's own ceiling (wasm32 build with a 2 GiB heap maximum).
      workerMemoryMb: r.int('RENDER_WORKER_MEMORY_MB', DEFAULTS.RENDER_WORKER_MEMORY_MB, 64, 2048),
      cacheMaxBytes: r.int('RENDER_CACHE_MAX_BYTES', DEFAULTS.RENDER_CACHE_MAX_BYTES, 0, Number.MAX_SAFE_INTEGER),
      pdfJobTimeoutMs: r.int('PDF_JOB_TIMEOUT_MS', DEFAULTS.PDF_JOB_TIMEOUT_MS, 100, 600_000),
      cacheMemoryBytes: r.int('RENDER_CACHE_MEMORY_BYTES', DEFAULTS.RENDER_CACHE_MEMORY_BYTES, 0, Number.MAX_SAFE_INTEGER),
      // No fixed default: half of RENDER_WORKER_MEMORY_MB (MiB of engine memory after which a
      // render worker is replaced), so lowering the cap alone stays a valid configuration.
      workerRecycleMb: r.raw('RENDER_WORKER_RECYCLE_MB') === undefined ? -1 : r.int('RENDER_WORKER_RECYCLE_MB', 0, 64, 2048),
    },
    jwtCacheMaxEntries: r.int('JWT_CACHE_MAX_ENTRIES', DEFAULTS.JWT_CACHE_MAX_ENTRIES, 0, 10_000_000),
    documentCacheMaxEntries: r.int('DOCUMENT_CACHE_MAX_ENTRIES', DEFAULTS.DOCUMENT_CACHE_MAX_ENTRIES, 1, 10_000_000),
    search: {
      timeoutMs: r.int('SEARCH_TIMEOUT_MS', DEFAULTS.SEARCH_TIMEOUT_MS, 10, 60_000),
      workers: r.int('SEARCH_WORKERS', DEFAULTS.SEARCH_WORKERS, 1, 64),
      queueMax: r.int('SEARCH_QUEUE_MAX', DEFAULTS.SEARCH_QUEUE_MAX, 1, 10_000),
      maxResults: r.int('SEARCH_MAX_RESULTS', DEFAULTS.SEARCH_MAX_RESULTS, 1, 100_000),
      textMemoryBytes: r.int('SEARCH_TEXT_MEMORY_BYTES', DEFAULTS.SEARCH_TEXT_MEMORY_BYTES, 0, Number.MAX_SAFE_INTEGER),
    },
    build: {
      timeoutMs: r.int('BUILD_TIMEOUT_MS', DEFAULTS.BUILD_TIMEOUT_MS, 1000, 3_600_000),
      concurrency: r.int('BUILD_CONCURRENCY', DEFAULTS.BUILD_CONCURRENCY, 1, 64),
      queueMax: r.int('BUILD_QUEUE_MAX', DEFAULTS.BUILD_QUEUE_MAX, 0, 10_000),
      maxParts: r.int('BUILD_MAX_PARTS', DEFAULTS.BUILD_MAX_PARTS, 1, 1000),
      maxPages: r.int('BUILD_MAX_PAGES', DEFAULTS.BUILD_MAX_PAGES, 1, 1_000_000),
      maxOutputBytes: r.int('BUILD_MAX_OUTPUT_BYTES', DEFAULTS.BUILD_MAX_OUTPUT_BYTES, 1, Number.MAX_SAFE_INTEGER),
      versionsKept: r.int('DOCUMENT_VERSIONS_KEPT', DEFAULTS.DOCUMENT_VERSIONS_KEPT, 0, 1000),
    },
  }

  if (config.render.workerRecycleMb === -1) config.render.workerRecycleMb = Math.floor(config.render.workerMemoryMb / 2)
  if (config.render.workerRecycleMb > config.render.workerMemoryMb) {
    r.problem(`RENDER_WORKER_RECYCLE_MB: ${config.render.workerRecycleMb} is above RENDER_WORKER_MEMORY_MB (${config.render.workerMemoryMb}); a worker could never reach it`)
  }
  if (config.render.maxPixels * 3 > (config.render.workerMemoryMb * 1024 * 1024) / 2) {
    r.problem(`RENDER_MAX_PIXELS: ${config.render.maxPixels} pixels need more than half of RENDER_WORKER_MEMORY_MB (${config.render.workerMemoryMb}) for one bitmap; lower it or raise RENDER_WORKER_MEMORY_MB`)
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems)
  return deepFreeze(config)
}

function isProxyEntry(p: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(p)) return true
  const [addr, bits, ...rest] = p.split('/')
  if (rest.length > 0) return false
  const family = isIP(addr ?? '')
  if (family === 0) return false
  if (bits === undefined) return true
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}
