/**
 * Annotations on the client surfaces (spec §7): `/i/d/:documentId/…` (Folio's viewer) and
 * `/documents/:documentId/…` (client apps). Reading needs `read-document`, writing `write`,
 * the PDF `download`. Everything happens in the JWT's `layer` (default layer when absent) and
 * is attributed to its `user_id` — never to a `user_id` in the body (spec §2).
 *
 * The handlers take the verified Grant explicitly (the client scope verifies the JWT);
 * `registerClientAnnotationRoutes` mounts them all in a client scope given a function that
 * returns the request's Grant.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AnnotationService } from '../../annotations/service.js'
import { pathDocumentId } from '../../documents/ids.js'
import { FolioError } from '../../errors.js'
import * as h from '../shared/annotation-handlers.js'
import { ANNOTATION_BODY_LIMIT } from '../api/annotations.js'
import * as s from '../shared/annotation-schemas.js'
import { eventStreamResponse } from '../openapi.js'
import { errors } from '../reply.js'

/** The part of the Grant (auth/grant.ts) these handlers use (structurally compatible with it). */
export interface ClientGrant {
  documentId: string
  permissions: readonly string[]
  layer?: string | null
  userId?: string | null
}

export type ClientPermission = 'read-document' | 'write' | 'download'

export interface ClientAnnotationDeps {
  annotations: AnnotationService
}

/** The grant must name this document and hold the permission; else 403 forbidden (spec §7). */
export function clientTarget(req: FastifyRequest, grant: ClientGrant, permission: ClientPermission, deps: ClientAnnotationDeps): h.Target {
  const raw = (req.params as { documentId?: string }).documentId
  if (raw === undefined || grant.documentId !== raw || !grant.permissions.includes(permission)) throw new FolioError('forbidden')
  return {
    documentId: pathDocumentId(raw),
    layer: deps.annotations.parseLayer(grant.layer ?? ''),
    actor: { userId: grant.userId ?? null, via: 'client' },
  }
}

type Handler = (req: FastifyRequest, reply: FastifyReply, deps: ClientAnnotationDeps, grant: ClientGrant) => Promise<unknown>

const annotationId = (req: FastifyRequest) => (req.params as { annotationId: string }).annotationId

/** Each handler checks the grant itself, so mounting one without a check cannot widen access. */
export const clientAnnotationHandlers = {
  list: (req, reply, deps, g) => h.listAnnotations(req, reply, deps.annotations, clientTarget(req, g, 'read-document', deps)),
  get: (req, reply, deps, g) => h.getAnnotation(req, reply, deps.annotations, clientTarget(req, g, 'read-document', deps), annotationId(req)),
  events: (req, reply, deps, g) => h.annotationEvents(req, reply, deps.annotations, clientTarget(req, g, 'read-document', deps)),
  create: (req, _reply, deps, g) => h.createAnnotations(req, deps.annotations, clientTarget(req, g, 'write', deps)),
  replaceMany: (req, _reply, deps, g) => h.replaceAnnotations(req, deps.annotations, clientTarget(req, g, 'write', deps)),
  removeMany: (req, _reply, deps, g) => h.removeAnnotations(req, deps.annotations, clientTarget(req, g, 'write', deps)),
  replaceOne: (req, reply, deps, g) => h.replaceAnnotation(req, reply, deps.annotations, clientTarget(req, g, 'write', deps), annotationId(req)),
  removeOne: (req, _reply, deps, g) => h.removeAnnotation(req, deps.annotations, clientTarget(req, g, 'write', deps), annotationId(req)),
} satisfies Record<string, Handler>

/**
 * Mounts the client annotation routes in `scope` under `prefix` (`/d/:documentId` inside `/i`,
 * `/:documentId` inside `/documents`). `grantOf` returns the request's verified Grant (the
 * scope's JWT hook has run); it must throw when there is none.
 */
export function registerClientAnnotationRoutes(
  scope: FastifyInstance,
  deps: ClientAnnotationDeps & { grantOf(req: FastifyRequest): ClientGrant },
  prefix: string,
  mount: { operationPrefix: string; tag: string } = { operationPrefix: 'client', tag: 'Client API' },
): void {
  const run = (handler: Handler) => (req: FastifyRequest, reply: FastifyReply) => handler(req, reply, deps, deps.grantOf(req))
  const writes = { bodyLimit: ANNOTATION_BODY_LIMIT }
  const H = clientAnnotationHandlers
  // The same request and response schemas as the server API's routes (http/api/annotation-schemas.ts).
  const docParams = { type: 'object', required: ['documentId'], properties: { documentId: { type: 'string', maxLength: 256 } } }
  const oneParams = { type: 'object', required: ['documentId', 'annotationId'], properties: { documentId: { type: 'string', maxLength: 256 }, annotationId: { type: 'string', maxLength: 256 } } }
  const schema = (operationId: string, summary: string, extra: Record<string, unknown>) => ({
    schema: { operationId: `${mount.operationPrefix}-${operationId}`, summary, tags: [mount.tag], ...extra },
  })
  scope.get(`${prefix}/annotations`, schema('get-document-annotations', "The token's layer: JSON (first 1000, `truncated`) or NDJSON (read-document)", {
    params: docParams, response: { 200: s.listResponse, ...errors(401, 403, 404) },
  }), run(H.list))
  scope.post(`${prefix}/annotations`, { ...writes, ...schema('create-document-annotation', 'Create one or many in the token\'s layer, attributed to its user_id (write)', {
    params: docParams, body: s.createBody, response: { 200: { oneOf: [s.createdResponse, s.recordsSchema] }, ...errors(400, 401, 403, 404, 409, 413, 415, 422) },
  }) }, run(H.create))
  scope.put(`${prefix}/annotations`, { ...writes, ...schema('update-document-annotations', 'Replace several (write)', {
    params: docParams, body: s.replaceManyBody, response: { 200: s.recordsSchema, ...errors(400, 401, 403, 404, 409, 413, 415, 422) },
  }) }, run(H.replaceMany))
  scope.delete(`${prefix}/annotations`, schema('remove-document-annotations', 'Delete the listed annotations, or all (write)', {
    params: docParams, body: s.deleteBody, response: { 200: s.deletedSchema, ...errors(400, 401, 403, 404, 415, 422) },
  }), run(H.removeMany))
  scope.get(`${prefix}/annotations/:annotationId`, schema('get-document-annotation', 'One annotation (read-document)', {
    params: oneParams, response: { 200: s.recordResponse, ...errors(401, 403, 404) },
  }), run(H.get))
  scope.put(`${prefix}/annotations/:annotationId`, { ...writes, ...schema('update-document-annotation', 'Replace an annotation; If-Match or version makes a stale write a 409 (write)', {
    params: oneParams, body: s.replaceOneBody, response: { 200: s.recordResponse, ...errors(400, 401, 403, 404, 409, 413, 415, 422) },
  }) }, run(H.replaceOne))
  scope.delete(`${prefix}/annotations/:annotationId`, schema('delete-document-annotation', 'Delete an annotation (write)', {
    params: oneParams, response: { 200: s.emptySchema, ...errors(400, 401, 403, 404, 409) },
  }), run(H.removeOne))
  scope.get(`${prefix}/events`, schema('get-document-annotation-events', "Live changes of the token's layer as server-sent events (read-document)", {
    params: docParams,
    querystring: { type: 'object', properties: { last_event_id: { type: 'string', maxLength: 20 } } },
    response: { 200: eventStreamResponse, ...errors(400, 401, 403, 404) },
  }), run(H.events))
  // The client pdf route (download permission, the token's layer written in) is client/document.ts.
}
