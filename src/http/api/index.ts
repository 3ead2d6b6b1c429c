/**
 * The server API surface (/api, spec §3): every route registered inside this scope inherits the
 * API token check, so "/api never accepts a JWT" is a property of the structure (spec §7).
 */
import type { FastifyInstance } from 'fastify'
import { parseApiTokenHeader, type ApiTokenVerifier } from '../../auth/api-token.js'
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

export interface ApiDeps {
  config: Config
  apiTokens: ApiTokenVerifier
  documents: DocumentService
  render: RenderService
  jwt: JwtVerifier
  annotations: AnnotationService
}

export async function apiSurface(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.addHook('onRequest', async (req) => {
    const token = parseApiTokenHeader(req.headers.authorization)
    if (token === undefined || !deps.apiTokens.verify(token)) throw new FolioError('unauthorized')
  })
  await app.register(documentRoutes, deps)
  await app.register(pageRoutes, deps)
  await app.register(jwtValidateRoutes, deps)
  await app.register(annotationRoutes, deps)
  await app.register(layerRoutes, deps)
}
