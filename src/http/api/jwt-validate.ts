/**
 * `POST /api/jwt/validate` (spec §3): tells an operator whether a client JWT would be accepted
 * and, if not, which check fails and which keys were tried (by public id and fingerprint, never
 * key material). The cure for the commonest support problem of document servers: a key, an
 * algorithm or a claim that does not match. It runs the exact checks of the client surfaces
 * (auth/jwt.ts `explain`), without touching the verification cache.
 */
import type { FastifyInstance } from 'fastify'
import type { JwtVerifier } from '../../auth/jwt.js'
import { REFUSAL_REASONS } from '../../auth/jwt-claims.js'
import { data, dataSchema, errors } from '../reply.js'

const explanationSchema = {
  type: 'object',
  required: ['valid', 'reason', 'keys_tried'],
  properties: {
    valid: { type: 'boolean' },
    reason: { type: ['string', 'null'], enum: [...REFUSAL_REASONS, null], description: 'the first check that failed; null when valid' },
    claim: { type: 'string', description: 'the claim at fault, when one is' },
    header: {
      type: 'object',
      properties: { alg: {}, kid: {}, typ: {} },
    },
    claims: { type: 'object', additionalProperties: true, description: 'the decoded claims (verified only when valid)' },
    keys_tried: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'algorithm', 'fingerprint', 'result'],
        properties: {
          id: { type: 'string' },
          algorithm: { type: 'string' },
          fingerprint: { type: 'string', description: 'RFC 7638 JWK thumbprint' },
          result: { type: 'string', enum: ['verified', 'bad_signature'] },
        },
      },
    },
    grant: {
      type: 'object',
      properties: {
        documentId: { type: 'string' },
        permissions: { type: 'array', items: { type: 'string' } },
        layer: { type: 'string' },
        userId: { type: 'string' },
      },
    },
  },
} as const

export async function jwtValidateRoutes(app: FastifyInstance, deps: { jwt: JwtVerifier }) {
  app.post('/jwt/validate', {
    schema: {
      operationId: 'validate-jwt',
      summary: 'Explain whether a client JWT would be accepted, and which check fails',
      tags: ['JWT'],
      body: {
        type: 'object',
        required: ['token'],
        additionalProperties: false,
        properties: { token: { type: 'string' } },
      },
      response: { 200: dataSchema(explanationSchema), ...errors(400, 401, 415) },
    },
  }, async (req) => data(await deps.jwt.explain((req.body as { token: string }).token)))
}
