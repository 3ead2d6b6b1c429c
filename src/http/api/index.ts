/**
 * The server API surface (/api, spec §3): every route registered inside this scope inherits the
 * API token check, so "/api never accepts a JWT" is a property of the structure (spec §7).
 */
import type { FastifyInstance } from 'fastify'
import type { AuditService } from '../../audit/service.js'
import { parseApiTokenHeader, type ApiCredential, type ApiTokenVerifier } from '../../auth/api-token.js'
import { FolioError } from '../../errors.js'
import type { Config } from '../../config.js'
import type { DocumentService } from '../../documents/service.js'
import type { RenderService } from '../../render/service.js'
import type { JwtVerifier } from '../../auth/jwt.js'
import type { AnnotationService } from '../../annotations/service.js'
import { annotationRoutes } from './annotations.js'
import { documentRoutes } from './documents.js'
import { jwtValidateRoutes } from './jwt-validate.js'
import { layerRoutes } from './layers.js'
import { pageRoutes } from './pages.js'
import type { RevocationService } from '../../revocations/service.js'
import type { SecretsService } from '../../secrets/service.js'
import { auditRoutes } from './audit.js'
import { revocationRoutes } from './revocations.js'
import { secretRoutes } from './secrets.js'
import { authFailures } from '../../metrics/catalog.js'
import type { MetricsRegistry } from '../../metrics/registry.js'
import type { NodeRegistry } from '../../nodes/service.js'
import { nodeRoutes } from './nodes.js'
import { textStructureRoutes } from './text-structure.js'
import { bookmarkRoutes } from './bookmarks.js'
import { xfdfRoutes } from './xfdf.js'
import type { BookmarkService } from '../../bookmarks/service.js'
import type { SearchService } from '../../search/service.js'
import { buildRoutes } from './build.js'
import type { BuildService } from '../../build/service.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The api_auth_token secret the request presented (/api only); for the audit log. */
    apiCredential?: ApiCredential
  }
}
export interface ApiDeps {
  config: Config
  apiTokens: ApiTokenVerifier
  documents: DocumentService
  render: RenderService
  jwt: JwtVerifier
  annotations: AnnotationService
  secrets: SecretsService
  revocations: RevocationService
  audit: AuditService
  nodes: NodeRegistry
  metrics: MetricsRegistry
  search: SearchService
  bookmarks: BookmarkService
  build: BuildService
}

export async function apiSurface(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const failures = authFailures(deps.metrics)
  app.decorateRequest('apiCredential', undefined)
  app.addHook('onRequest', async (req) => {
    const token = parseApiTokenHeader(req.headers.authorization)
    const credential = token === undefined ? undefined : deps.apiTokens.identify(token)
    if (credential === undefined) {
      failures.labels('api', token === undefined ? 'missing' : 'invalid').inc()
      throw new FolioError('unauthorized')
    }
    req.apiCredential = credential
    req.streamCredential = {
      key: () => `api:${credential.secretId}`,
      stillValid: async () => deps.apiTokens.identify(token!) !== undefined,
      server: true,
    }
  })
  await apiRoutes(app, deps)
}

/**
 * The server API's routes without a credential hook. Mounted twice: by `apiSurface` under /api
 * (API token) and by the dashboard under /dashboard/api (dashboard session + CSRF), so
 * the dashboard is a client of the same API and every route added here reaches it too.
 */
export async function apiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(documentRoutes, deps)
  await app.register(pageRoutes, deps)
  await app.register(jwtValidateRoutes, deps)
  await app.register(annotationRoutes, deps)
  await app.register(layerRoutes, deps)
  await app.register(secretRoutes, deps)
  await app.register(revocationRoutes, deps)
  await app.register(auditRoutes, deps)
  await app.register(nodeRoutes, deps)
  await app.register(textStructureRoutes, deps)
  await app.register(bookmarkRoutes, deps)
  await app.register(xfdfRoutes, deps)
  await app.register(buildRoutes, deps)
}
