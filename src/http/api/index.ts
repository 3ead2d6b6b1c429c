/**
 * The server API surface (/api, spec §3): every route registered inside this scope inherits the
 * API token check, so "/api never accepts a JWT" is a property of the structure (spec §7).
 */
import type { FastifyInstance } from 'fastify'
import { parseApiTokenHeader, type ApiTokenVerifier } from '../../auth/api-token.js'
import { FolioError } from '../../errors.js'
import type { Config } from '../../config.js'
import type { DocumentService } from '../../documents/service.js'
import { documentRoutes } from './documents.js'
import type { NodeRegistry } from '../../nodes/service.js'
import { nodeRoutes } from './nodes.js'

export interface ApiDeps {
  config: Config
  apiTokens: ApiTokenVerifier
  documents: DocumentService
  nodes: NodeRegistry
}

export async function apiSurface(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.addHook('onRequest', async (req) => {
    const token = parseApiTokenHeader(req.headers.authorization)
    if (token === undefined || !deps.apiTokens.verify(token)) throw new FolioError('unauthorized')
  })
  await app.register(documentRoutes, deps)
  await app.register(nodeRoutes, deps)
}
