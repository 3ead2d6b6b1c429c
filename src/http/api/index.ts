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
import type { MetricsRegistry } from '../../metrics/registry.js'
import type { NodeRegistry } from '../../nodes/service.js'
import { nodeRoutes } from './nodes.js'

export interface ApiDeps {
  config: Config
  apiTokens: ApiTokenVerifier
  documents: DocumentService
  nodes: NodeRegistry
  metrics: MetricsRegistry
}

export async function apiSurface(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const authFailures = deps.metrics.counter('folio_auth_failures_total', 'Refused credentials, by surface and reason', ['surface', 'reason'])
  app.addHook('onRequest', async (req) => {
    const token = parseApiTokenHeader(req.headers.authorization)
    if (token === undefined || !deps.apiTokens.verify(token)) {
      authFailures.inc({ surface: 'api', reason: token === undefined ? 'missing' : 'invalid' })
      throw new FolioError('unauthorized')
    }
  })
  await app.register(documentRoutes, deps)
  await app.register(nodeRoutes, deps)
}
