/**
 * Secrets over the server API (spec §4): add, list, rotate, change expiry. Operation ids are
 * Document Engine's (create-secret, get-secrets, rotate-secret, expire-secret). No response ever
 * holds a secret: listings show ids and expiries (a jwt item adds its algorithm and fingerprint).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Actor } from '../../audit/service.js'
import { FolioError } from '../../errors.js'
import type { SecretsService } from '../../secrets/service.js'
import { dataSchema, errors } from '../reply.js'

const TAGS = ['Secrets']
const SECRET_MAX = 16_384 // a PEM of an 8192-bit RSA key is ~1.5 KB

const typeParam = {
  type: 'object',
  required: ['secretType'],
  properties: { secretType: { type: 'string', maxLength: 64, description: '`jwt`, `dashboard_password`, `secret_key_base` or `api_auth_token`' } },
} as const

const idParams = {
  type: 'object',
  required: ['secretType', 'secretId'],
  properties: { ...typeParam.properties, secretId: { type: 'string', maxLength: 32 } },
} as const

const secretItem = {
  type: 'object',
  required: ['id', 'expiresAt'],
  properties: {
    id: { type: 'integer' },
    expiresAt: { type: ['string', 'null'], description: 'null for the current secret' },
    algorithm: { type: 'string', description: 'jwt only' },
    fingerprint: { type: 'string', description: 'jwt only: RFC 7638 JWK thumbprint of the public key' },
  },
} as const

const rotatedItem = {
  type: 'object',
  required: ['id', 'expiresAt', 'previous'],
  properties: { ...secretItem.properties, previous: { anyOf: [secretItem, { type: 'null' }] } },
} as const

const expiryBody = {
  type: 'object',
  additionalProperties: false,
  properties: { expiresAt: { type: 'string', maxLength: 64, description: 'ISO 8601; a past time or "now" expires the secret now' } },
} as const

/** Which credential made the change, for the audit log (set by the /api surface hook). */
export function actorOf(req: FastifyRequest): Actor {
  // Under /dashboard/api the dashboard session is the credential: the operator's
  // username and the id of the dashboard_password secret that opened the session.
  const d = req.dashboardSession
  if (d) return { type: 'dashboard', username: d.u, secretId: Number(d.c) }
  const c = req.apiCredential
  if (!c) throw new FolioError('unauthorized') // unreachable: the surface hook refuses first
  return { type: 'api_auth_token', secretId: c.secretId, fingerprint: c.fingerprint }
}

/** The body of an add or a rotation: the secret and that operation's own fields. */
function secretBody(fields: Record<string, object>) {
  return {
    type: 'object',
    required: ['secret'],
    additionalProperties: false,
    properties: { secret: { type: 'string', maxLength: SECRET_MAX }, ...fields },
  } as const
}

export async function secretRoutes(app: FastifyInstance, deps: { secrets: SecretsService }) {
  const { secrets } = deps
  type TypeReq = FastifyRequest<{ Params: { secretType: string } }>
  type IdReq = FastifyRequest<{ Params: { secretType: string; secretId: string }; Body: { expiresAt?: string } }>

  app.post('/secrets/:secretType', {
    schema: {
      operationId: 'create-secret',
      summary: 'Add a non-current secret with an expiry',
      tags: TAGS,
      params: typeParam,
      body: secretBody({
        expiresAt: { type: 'string', maxLength: 64, description: 'ISO 8601, in the future (required)' },
        algorithm: { type: 'string', maxLength: 16, description: 'jwt only; derived from the key when absent' },
      }),
      response: { 200: dataSchema(secretItem), ...errors(400, 401, 404, 415, 422) },
    },
  }, async (req) => {
    const b = req.body as { secret: string; expiresAt?: string; algorithm?: string }
    return { data: await secrets.add((req as TypeReq).params.secretType, b, actorOf(req)) }
  })

  app.get('/secrets/:secretType', {
    schema: {
      operationId: 'get-secrets',
      summary: 'List the valid secrets of a type (ids and expiries; never the secrets)',
      description: 'A bare array, as Document Engine answers (spec §4).',
      tags: TAGS,
      params: typeParam,
      response: { 200: { type: 'array', items: secretItem }, ...errors(401, 404) },
    },
  }, async (req) => secrets.list((req as TypeReq).params.secretType))

  app.post('/secrets/:secretType/rotate', {
    schema: {
      operationId: 'rotate-secret',
      summary: 'Make a new secret current; the previous one stays valid until previousExpiresAt',
      tags: TAGS,
      params: typeParam,
      body: secretBody({
        previousExpiresAt: { type: 'string', maxLength: 64, description: 'ISO 8601 or "now"; default now + JWT_MAX_LIFETIME' },
        algorithm: { type: 'string', maxLength: 16, description: 'jwt only' },
      }),
      response: { 200: dataSchema(rotatedItem), ...errors(400, 401, 404, 415, 422) },
    },
  }, async (req) => {
    const b = req.body as { secret: string; previousExpiresAt?: string; algorithm?: string }
    return { data: await secrets.rotate((req as TypeReq).params.secretType, b, actorOf(req)) }
  })

  const expire = async (req: FastifyRequest) => {
    const r = req as IdReq
    return { data: await secrets.setExpiry(r.params.secretType, r.params.secretId, r.body?.expiresAt, actorOf(req)) }
  }
  const expireSchema = (operationId: string, summary: string) => ({
    operationId,
    summary,
    tags: TAGS,
    params: idParams,
    body: expiryBody,
    response: { 200: dataSchema(secretItem), ...errors(400, 401, 404, 415) },
  })
  app.patch('/secrets/:secretType/:secretId', { schema: expireSchema('expire-secret-patch', "Change a non-current secret's expiry") }, expire)
  // Document Engine's form of the same request.
  app.post('/secrets/:secretType/:secretId', { schema: expireSchema('expire-secret', "Change a non-current secret's expiry (Document Engine's form)") }, expire)
}
