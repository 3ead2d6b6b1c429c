/**
 * What client routes share: the request's grant, the permission check, the mounts, and where a
 * JWT is taken from. Route files (document.ts, pages.ts, annotations.ts) import
 * `requirePermission` from here.
 */
import type { FastifyRequest } from 'fastify'
import { can, type Grant, type Permission } from '../../auth/grant.js'
import type { JwtVerifier } from '../../auth/jwt.js'
import type { OriginPolicy } from '../../auth/origin.js'
import type { DocumentService } from '../../documents/service.js'
import type { RenderService } from '../../render/service.js'
import type { AnnotationService } from '../../annotations/service.js'
import type { MetricsRegistry } from '../../metrics/registry.js'
import { FolioError } from '../../errors.js'
import type { SearchService } from '../../search/service.js'
import type { BookmarkService } from '../../bookmarks/service.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** What the request's JWT grants; set by the client surface's hook. */
    grant?: Grant
  }
  interface FastifyContextConfig {
    /** This route also takes the JWT as `?jwt=` (spec §7: only the cover, for an `<img>`). */
    jwtInQuery?: boolean
  }
}

export interface ClientDeps {
  jwt: JwtVerifier
  origins: OriginPolicy
  documents: DocumentService
  render: RenderService
  annotations: AnnotationService
  metrics: MetricsRegistry
  search: SearchService
  bookmarks: BookmarkService
}

/** How one mount names its paths and operations. */
export interface Mount {
  /** path before `/:documentId`: `/d` under `/i`, `` under `/documents` */
  readonly documentPrefix: string
  /** operationId prefix, so the two mounts stay distinct in the OpenAPI document */
  readonly operationPrefix: 'internal' | 'client'
  readonly tag: string
}

export const INTERNAL_MOUNT: Mount = { documentPrefix: '/d', operationPrefix: 'internal', tag: 'Viewer (internal API)' }
export const CLIENT_MOUNT: Mount = { documentPrefix: '', operationPrefix: 'client', tag: 'Client API' }

const BEARER_RE = /^Bearer +(\S+) *$/i

/** The JWT of a request: `Authorization: Bearer <jwt>`, or `?jwt=` where the route allows it. */
export function presentedToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization
  if (header !== undefined) return BEARER_RE.exec(header)?.[1]
  if (req.routeOptions.config?.jwtInQuery) {
    const q = (req.query as Record<string, unknown> | undefined)?.jwt
    if (typeof q === 'string' && q !== '') return q
  }
  return undefined
}

/**
 * The grant of this request if it covers `documentId` and one of `anyOf`; else 403 forbidden
 * (a token for another document, or without the permission). Checked before the document is
 * looked up, so a token cannot probe which other documents exist.
 */
export function requirePermission(req: FastifyRequest, documentId: string, ...anyOf: Permission[]): Grant {
  const grant = req.grant
  if (grant === undefined) throw new FolioError('invalid_token', { reason: 'missing_token' }) // unreachable behind the hook
  if (grant.documentId !== documentId) {
    throw new FolioError('forbidden', { reason: 'other_document' }, { message: 'The token is for another document' })
  }
  if (!anyOf.some((p) => can(grant, p))) {
    throw new FolioError('forbidden', { reason: 'missing_permission', required: anyOf }, {
      message: `The token lacks the permission ${anyOf.join(' or ')}`,
    })
  }
  return grant
}
