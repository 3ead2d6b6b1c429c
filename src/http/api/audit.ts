/** The audit log over the server API: newest first, never a secret. */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AuditService } from '../../audit/service.js'
import { errors } from '../reply.js'

const entry = {
  type: 'object',
  required: ['id', 'at', 'action', 'type', 'targetId', 'fingerprint', 'actor', 'details'],
  properties: {
    id: { type: 'integer' },
    at: { type: 'string' },
    action: { type: 'string', description: 'secret.add, secret.rotate, secret.expire, secret.seed, secret.generate, revocation.add, revocation.lift, revocation.prune' },
    type: { type: ['string', 'null'], description: 'secret type' },
    targetId: { type: ['integer', 'null'], description: 'secret or revocation id' },
    fingerprint: { type: ['string', 'null'] },
    actor: {
      type: 'object',
      required: ['type', 'id', 'fingerprint'],
      properties: {
        type: { type: 'string', description: 'api_auth_token, dashboard (id: the username), env or system' },
        id: { type: ['string', 'null'], description: 'the API token\'s secret id, or the variable' },
        fingerprint: { type: ['string', 'null'] },
      },
    },
    details: { type: 'object', additionalProperties: true },
  },
} as const

export async function auditRoutes(app: FastifyInstance, deps: { audit: AuditService }) {
  app.get('/audit', {
    schema: {
      operationId: 'list-audit-log',
      summary: 'Who changed which secret or revocation, and when (newest first)',
      tags: ['Secrets'],
      querystring: {
        type: 'object',
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          cursor: { type: 'string', maxLength: 32 },
          action: { type: 'string', maxLength: 64 },
          type: { type: 'string', maxLength: 64 },
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['data', 'next_cursor'],
          properties: { data: { type: 'array', items: entry }, next_cursor: { type: ['string', 'null'] } },
        },
        ...errors(400, 401),
      },
    },
  }, async (req) => {
    const q = (req as FastifyRequest<{ Querystring: { limit: number; cursor?: string; action?: string; type?: string } }>).query
    const page = await deps.audit.list(q)
    return { data: page.entries, next_cursor: page.nextCursor }
  })
}
