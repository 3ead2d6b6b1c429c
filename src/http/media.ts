/**
 * Which request bodies a route takes. Each route lists its media types in `config.accepts`
 * (default: JSON only); a body of any other type is refused with 415 before it is parsed, so a
 * PDF sent to a JSON route, or text/plain anywhere, never reaches a handler.
 */
import type { FastifyRequest } from 'fastify'
import { FolioError } from '../errors.js'

export const JSON_ONLY = ['application/json'] as const

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Media types this route accepts as a body. */
    accepts?: readonly string[]
  }
}

export function mediaType(req: FastifyRequest): string | undefined {
  const ct = req.headers['content-type']
  if (ct === undefined) return undefined
  return ct.split(';')[0]!.trim().toLowerCase()
}

function hasBody(req: FastifyRequest): boolean {
  const len = req.headers['content-length']
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined
}

export function checkMediaType(req: FastifyRequest): void {
  if (!hasBody(req)) return
  const accepts = req.routeOptions.config.accepts ?? JSON_ONLY
  const type = mediaType(req)
  if (type === undefined || !accepts.includes(type)) {
    throw new FolioError('unsupported_media_type', { accepted: accepts }, {
      message: `Content-Type ${type ?? '(none)'} is not accepted here; use ${accepts.join(' or ')}`,
    })
  }
}
