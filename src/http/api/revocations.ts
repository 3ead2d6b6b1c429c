/**
 * JWT revocation over the server API (spec §5): create, list, lift, and Document Engine's
 * `POST /api/revoke` (operationId revoke-jwt). Listings show a token revocation by the token's
 * sha256, never the token.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { RevocationInput, RevocationService } from '../../revocations/service.js'
import { dataSchema, errors } from '../reply.js'
import { actorOf } from './secrets.js'

const TAGS = ['JWT revocation']
const MAX_TOKEN = 8192

const revocationItem = {
  type: 'object',
  required: ['id', 'expiresAt', 'createdAt'],
  properties: {
    id: { type: 'integer' },
    tokenSha256: { type: 'string', description: 'for a token revocation: sha256 (hex) of the token' },
    jti: { type: 'string' },
    document_id: { type: 'string' },
    user_id: { type: 'string' },
    issuedBefore: { type: 'string', description: 'document_id / user_id: covers tokens issued (iat) before it, or without iat' },
    expiresAt: { type: 'string', description: 'when no covered token can be valid any more; then it is pruned' },
    createdAt: { type: 'string' },
  },
} as const

export async function revocationRoutes(app: FastifyInstance, deps: { revocations: RevocationService }) {
  const { revocations } = deps

  app.post('/jwt/revocations', {
    schema: {
      operationId: 'create-jwt-revocation',
      summary: 'Revoke by token, jti, document_id or user_id (with issuedBefore)',
      tags: TAGS,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          token: { type: 'string', maxLength: MAX_TOKEN },
          jti: { type: 'string', maxLength: 1024 },
          document_id: { type: 'string', maxLength: 256 },
          user_id: { type: 'string', maxLength: 1024 },
          issuedBefore: { type: 'string', maxLength: 64, description: 'ISO 8601; default now' },
        },
      },
      response: {
        200: dataSchema({ type: 'object', required: ['id', 'expiresAt'], properties: revocationItem.properties }),
        ...errors(400, 401, 415, 422),
      },
    },
  }, async (req) => ({ data: await revocations.add(req.body as RevocationInput, actorOf(req)) }))

  app.get('/jwt/revocations', {
    schema: {
      operationId: 'list-jwt-revocations',
      summary: 'The active revocations',
      tags: TAGS,
      response: {
        200: dataSchema({ type: 'object', required: ['revocations'], properties: { revocations: { type: 'array', items: revocationItem } } }),
        ...errors(401),
      },
    },
  }, async () => ({ data: { revocations: await revocations.list() } }))

  app.delete('/jwt/revocations/:revocationId', {
    schema: {
      operationId: 'delete-jwt-revocation',
      summary: 'Lift a revocation',
      tags: TAGS,
      params: { type: 'object', required: ['revocationId'], properties: { revocationId: { type: 'string', maxLength: 32 } } },
      response: { 200: dataSchema({ type: 'object', additionalProperties: false }), ...errors(401, 404) },
    },
  }, async (req) => {
    await revocations.lift((req as FastifyRequest<{ Params: { revocationId: string } }>).params.revocationId, actorOf(req))
    return { data: {} }
  })

  app.post('/revoke', {
    schema: {
      operationId: 'revoke-jwt',
      summary: "Revoke tokens by their jti, or by themselves when they have none (Document Engine's form)",
      tags: TAGS,
      body: {
        type: 'object',
        required: ['jwts'],
        additionalProperties: false,
        properties: { jwts: { type: 'array', maxItems: 1000, items: { type: 'string', maxLength: MAX_TOKEN } } },
      },
      response: {
        200: {
          type: 'object',
          required: ['data', 'result'],
          properties: {
            data: { type: 'array', items: { type: 'string' }, description: 'the revoked tokens' },
            result: { type: 'string', enum: ['success', 'partial_failure', 'failure'] },
            failingPaths: {
              type: 'array',
              items: { type: 'object', properties: { path: { type: 'string' }, details: { type: 'string' } } },
            },
          },
        },
        ...errors(400, 401, 415),
      },
    },
  }, async (req) => {
    const { jwts } = req.body as { jwts: string[] }
    const r = await revocations.revokeJwts(jwts, actorOf(req))
    const result = r.failingPaths.length === 0 ? 'success' : r.revoked.length === 0 ? 'failure' : 'partial_failure'
    return { data: r.revoked, result, ...(r.failingPaths.length > 0 ? { failingPaths: r.failingPaths } : {}) }
  })
}
