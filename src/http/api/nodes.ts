/**
 * GET /api/nodes: the nodes sharing this database, for operators and the dashboard.
 * Folio's own route (Document Engine has none), so the operationId is Folio's.
 */
import type { FastifyInstance } from 'fastify'
import type { NodeRegistry } from '../../nodes/service.js'
import { data, dataSchema, errors } from '../reply.js'

const nodeSchema = {
  type: 'object',
  required: ['id', 'version', 'address', 'startedAt', 'lastSeenAt', 'status', 'current'],
  properties: {
    id: { type: 'string' },
    version: { type: 'string' },
    address: { type: 'string', description: 'where the node listens (a wildcard address is replaced by its host name)' },
    startedAt: { type: 'string', format: 'date-time' },
    lastSeenAt: { type: 'string', format: 'date-time' },
    status: { type: 'string', enum: ['up', 'stale'], description: 'stale: no heartbeat for three intervals (30 s by default)' },
    current: { type: 'boolean', description: 'the node that answered this request' },
  },
} as const

export async function nodeRoutes(app: FastifyInstance, deps: { nodes: NodeRegistry }) {
  app.get('/nodes', {
    schema: {
      operationId: 'list-nodes',
      summary: 'List the Folio nodes that share this database',
      tags: ['Cluster'],
      response: { 200: dataSchema({ type: 'array', items: nodeSchema }), ...errors(401) },
    },
  }, async () => data(await deps.nodes.list()))
}
