/**
 * The one place an error becomes a response (HOUSE-STYLE §3). FolioError → its catalog status
 * and `{"error": {"code", "message", ...details}}`. Framework errors for a client's mistake
 * (bad JSON, wrong media type, schema violations, limits) map to catalog codes. Anything else is
 * a 500 `internal_error` carrying only the request id; the log gets type and message, no stack.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ERRORS, FolioError, type ErrorCode } from '../errors.js'

// fastify and @fastify/multipart codes for mistakes that are the client's.
const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'empty_body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_TYPE: 'unsupported_media_type',
  FST_REQ_FILE_TOO_LARGE: 'payload_too_large',
  FST_PARTS_LIMIT: 'bad_request',
  FST_FILES_LIMIT: 'bad_request',
  FST_FIELDS_LIMIT: 'bad_request',
  FST_PROTO_VIOLATION: 'bad_request',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'unsupported_media_type',
  FST_ERR_BAD_URL: 'bad_request',
  FST_ERR_ASYNC_CONSTRAINT: 'bad_request',
}

export interface ErrorBody { error: { code: ErrorCode; message: string; [k: string]: unknown } }

export function toFolioError(err: unknown, bodyLimit: number): FolioError | undefined {
  if (err instanceof FolioError) return err
  const fe = err as Partial<FastifyError> & { validation?: Array<{ instancePath?: string; message?: string; params?: Record<string, unknown> }>; validationContext?: string }
  if (fe?.validation && fe.validation.length > 0) {
    const v = fe.validation[0]!
    const where = `${fe.validationContext ?? 'request'}${v.instancePath ?? ''}`
    const extra = v.params && 'additionalProperty' in v.params ? ` (${String(v.params.additionalProperty)})` : ''
    return new FolioError('bad_request', { field: where }, { message: `${where} ${v.message ?? 'is invalid'}${extra}` })
  }
  const code = typeof fe?.code === 'string' ? FRAMEWORK_CODES[fe.code] : undefined
  if (code === 'payload_too_large') {
    const limit = fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? bodyLimit : undefined
    return new FolioError(code, limit ? { limit } : {}, {
      message: limit ? `The request body exceeds the limit of ${limit} bytes` : ERRORS.payload_too_large.message,
    })
  }
  if (code) return new FolioError(code)
  // SQLSTATE class 22 (data exception: out of range, bad encoding, malformed text for a type)
  // is always about a value the client sent that no earlier check caught: a 400, not a fault.
  const sqlState = (err as { code?: unknown })?.code
  if (typeof sqlState === 'string' && /^22[0-9A-Z]{3}$/.test(sqlState)) {
    return new FolioError('invalid_value', {}, { cause: err })
  }
  return undefined
}

export function errorBody(e: FolioError): ErrorBody {
  return { error: { ...e.details, code: e.code, message: e.message } }
}

export function createErrorHandler(bodyLimit: number) {
  return function handleError(err: unknown, req: FastifyRequest, reply: FastifyReply) {
    const known = toFolioError(err, req.routeOptions?.bodyLimit ?? bodyLimit) // routes may raise the limit
    if (known) {
      if (known.status >= 500) req.log.error({ err: known, code: known.code }, 'request failed')
      else req.log.debug({ code: known.code }, 'request refused')
      // A full work queue clears in about a job's time: say when to come back (RFC 9110 §10.2.3).
      if ((known.code === 'render_queue_full' || known.code === 'pdf_queue_full') && !reply.hasHeader('retry-after')) reply.header('retry-after', '1')
      if (known.code === 'unauthorized' && !reply.hasHeader('www-authenticate')) {
        reply.header('www-authenticate', 'Token realm="folio"')
      }
      return reply.code(known.status).type('application/json; charset=utf-8').send(errorBody(known))
    }
    // A request body is destroyed once read, so only a dead socket means the client left.
    if (req.raw.socket?.destroyed || (err as NodeJS.ErrnoException)?.code === 'ECONNRESET') {
      req.log.info({ err }, 'client went away')
    } else {
      // The logger's `err` serializer is errorFields: pass the error itself, not its fields.
      req.log.error({ err }, 'unhandled error')
    }
    const body: ErrorBody = { error: { code: 'internal_error', message: ERRORS.internal_error.message, request_id: req.id } }
    return reply.code(500).type('application/json; charset=utf-8').send(body)
  }
}
