/**
 * What the listener itself bounds, before any route runs: how long a client may take to send
 * its headers (slowloris), how long an idle keep-alive socket is kept, how many sockets are
 * open, how large a declared body may be (refused from its Content-Length, before a byte of it
 * is read), and requests that repeat a header whose meaning would then be a guess. Node's own
 * answers to malformed requests (raw `{"error":"Bad Request"…}` bodies) are replaced by Folio's
 * error shape.
 */
import type { Socket } from 'node:net'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { ERRORS, FolioError, type ErrorCode } from '../errors.js'

/** Room for multipart framing and form fields around a file of MAX_UPLOAD_SIZE_BYTES. */
export const MULTIPART_OVERHEAD_BYTES = 1024 * 1024
/** How often Node looks for requests past their header or request timeout (default 30 s). */
const CHECK_INTERVAL_MS = 1000
/** Headers whose repetition is refused: which copy counts would differ between hops. */
const SINGLE_HEADERS = ['authorization']

/** Options for fastify's factory: passed by Node to `http(s).createServer`. */
export function listenerOptions(config: Config) {
  return {
    keepAliveTimeout: config.server.keepAliveTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    serverOptions: {
      headersTimeout: Math.min(config.server.headersTimeoutMs, config.requestTimeoutMs),
      connectionsCheckingInterval: CHECK_INTERVAL_MS,
    },
    clientErrorHandler,
  }
}

export function applyConnectionLimits(app: FastifyInstance, config: Config): void {
  app.server.maxConnections = config.server.maxConnections
  const maxBody = config.maxUploadBytes + MULTIPART_OVERHEAD_BYTES
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const raw = req.raw.rawHeaders
    for (const name of SINGLE_HEADERS) {
      let n = 0
      for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) n++
      if (n > 1) {
        reply.header('connection', 'close')
        throw new FolioError('duplicate_header', { header: name }, { message: `The ${name} header appears ${n} times` })
      }
    }
    const declared = req.headers['content-length']
    if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > maxBody) {
      // Closing the socket after the answer: Node would otherwise read the whole body to reuse it.
      reply.header('connection', 'close')
      throw new FolioError('payload_too_large', { limit: config.maxUploadBytes }, {
        message: `The declared body of ${declared} bytes exceeds the limit of ${config.maxUploadBytes} bytes`,
      })
    }
  })
}

/** Node's 'clientError': a request it could not parse or that ran out of time. */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const [status, code, message]: [number, ErrorCode, string] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', ERRORS.request_timeout.message]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [400, 'bad_request', 'The request headers are too large']
        : [400, 'bad_request', 'The request is not valid HTTP/1.1']
  const body = JSON.stringify({ error: { code, message } })
  const reason = status === 408 ? 'Request Timeout' : 'Bad Request'
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}
