/**
 * Structured JSON logs (pino, which fastify ships with). Credentials never reach a log line:
 * known header and field names are redacted by pino, URLs are logged without their query string
 * values for `jwt`/`token` (the cover route takes `?jwt=`), and errors are logged as
 * type + message + code, never with a stack trace (spec §0).
 */
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino'
import type { LogLevel } from './config.js'

export type Logger = PinoLogger

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["pspdfkit-pdf-password"]',
  'headers.authorization',
  'headers.cookie',
  'headers["pspdfkit-pdf-password"]',
  '*.authorization',
  '*.token',
  '*.jwt',
  '*.secret',
  '*.password',
  '*.apiAuthToken',
  '*.secretKeyBase',
]

const SECRET_QUERY_KEYS = new Set(['jwt', 'token', 'access_token', 'api_token'])

/**
 * A URL safe to log: the values of credential-carrying query parameters are replaced. Keys are
 * compared decoded, as the query parser reads them: `%6Awt=` is `jwt=` to the route.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?')
  if (q < 0) return url
  const pairs = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=')
    const key = eq < 0 ? pair : pair.slice(0, eq)
    return SECRET_QUERY_KEYS.has(decodeKey(key)) ? `${key}=[redacted]` : pair
  })
  return `${url.slice(0, q)}?${pairs.join('&')}`
}

function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' ')).toLowerCase()
  } catch {
    return key.toLowerCase() // not valid percent-encoding: the parser keeps it literally
  }
}

/** An error as a log field: what and where it was, without a stack (spec §0) or a secret. */
export function errorFields(e: unknown): Record<string, unknown> {
  if (!(e instanceof Error)) return { type: typeof e }
  const out: Record<string, unknown> = { type: e.name, message: e.message }
  const code = (e as { code?: unknown }).code
  if (typeof code === 'string') out.code = code
  if (e.cause !== undefined) out.cause = errorFields(e.cause)
  return out
}

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: errorFields, error: errorFields },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS }),
  )
}

/**
 * stdout is written in blocks of this many bytes (or every LOG_FLUSH_MS, whichever first)
 * instead of one write per line: at tens of thousands of requests per second a write(2) per
 * line costs more than the request. pino flushes what is left when the process exits.
 */
const LOG_BUFFER_BYTES = 8 * 1024 // sonic-boom needs it below its 16 KiB maxWrite
const LOG_FLUSH_MS = 250

export interface RequestLine {
  reqId: string
  method: string
  url: string
  status: number
  ms: number
  ip: string
}

/**
 * The one log line per request, in the shape pino writes (`level`, `time`, `reqId`, fields,
 * `msg`), built by hand and handed to the logger's own destination, so it interleaves with
 * every other line. Why not `req.log.info(…)`: pino's generic path (child bindings, redaction
 * walk over wildcard paths, serializers, a fresh ISO timestamp) cost about as much as the rest
 * of a cached request (bench/jwt, --cpu-prof). Nothing here needs redaction: the URL is
 * redacted by `redactUrl`, the other fields carry no credential, and every string is
 * JSON-escaped.
 */
export function createRequestLogger(log: Logger): (line: RequestLine) => void {
  const stream = (log as unknown as Record<symbol, { write(s: string): unknown }>)[pino.symbols.streamSym]!
  let lastMs = 0
  let lastTime = ''
  return (l) => {
    if (!log.isLevelEnabled('info')) return
    const now = Date.now()
    if (now !== lastMs) {
      lastMs = now
      lastTime = new Date(now).toISOString()
    }
    stream.write(`{"level":"info","time":"${lastTime}","reqId":${JSON.stringify(l.reqId)},"method":${JSON.stringify(l.method)},"url":${JSON.stringify(redactUrl(l.url))},"status":${l.status},"ms":${l.ms},"ip":${JSON.stringify(l.ip)},"msg":"request"}\n`)
  }
}
