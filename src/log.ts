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

const SECRET_QUERY_RE = /([?&](?:jwt|token|access_token|api_token)=)[^&#]*/gi

/** A URL safe to log: the values of credential-carrying query parameters are replaced. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY_RE, '$1[redacted]')
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
    destination ?? pino.destination({ dest: 1, sync: false }),
  )
}
