/**
 * Annotations over the server API (spec §3), for the default layer under
 * `/api/documents/:documentId/…` and for a named layer under `/api/documents/:documentId/layers/:layerName/…`.
 * Operation ids are Document Engine's (get-document-annotations, get-document-layer-annotations…).
 * Folio additions: `GET …/events` (live changes, spec §7 on the server API) and the `version` field.
 */
import multipart from '@fastify/multipart'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { API_ACTOR, type AnnotationService } from '../../annotations/service.js'
import { pathDocumentId } from '../../documents/ids.js'
import * as h from '../shared/annotation-handlers.js'
import { BINARY, eventStreamResponse } from '../openapi.js'
import { errors } from '../reply.js'
import * as s from '../shared/annotation-schemas.js'

/** Annotation batches are larger than other JSON bodies: 1000 ink drawings are several MiB. */
export const ANNOTATION_BODY_LIMIT = 16 * 1024 * 1024

const TAGS = ['Annotations']

interface Scope {
  prefix: string
  layered: boolean
  /** Document Engine's operationId for the default (`document`) or layer (`document-layer`) form. */
  op(defaultId: string, layerId: string): string
}

const SCOPES: Scope[] = [
  { prefix: '/documents/:documentId', layered: false, op: (d) => d },
  { prefix: '/documents/:documentId/layers/:layerName', layered: true, op: (_, l) => l },
]

function params(layered: boolean, extra: Record<string, object> = {}) {
  const properties: Record<string, object> = { documentId: { type: 'string', maxLength: 256 }, ...extra }
  if (layered) properties.layerName = { type: 'string', maxLength: 1024 }
  return { type: 'object', required: Object.keys(properties), properties }
}

export async function annotationRoutes(app: FastifyInstance, deps: { annotations: AnnotationService }) {
  const svc = deps.annotations
  await app.register(multipart, { limits: { files: 1, fields: 10, fileSize: ANNOTATION_BODY_LIMIT + 1, parts: 12 } })

  function target(req: FastifyRequest): h.Target {
    const p = req.params as { documentId: string; layerName?: string }
    return { documentId: pathDocumentId(p.documentId), layer: p.layerName === undefined ? '' : svc.parseLayer(p.layerName), actor: API_ACTOR }
  }
  const annotationId = (req: FastifyRequest) => (req.params as { annotationId: string }).annotationId
  const idParam = { annotationId: { type: 'string', maxLength: 256 } }

  for (const scope of SCOPES) {
    const p = scope.prefix
    const base = { tags: TAGS, params: params(scope.layered) }
    const one = { tags: TAGS, params: params(scope.layered, idParam) }
    const writes = { bodyLimit: ANNOTATION_BODY_LIMIT }

    app.get(`${p}/annotations`, {
      schema: {
        ...base,
        operationId: scope.op('get-document-annotations', 'get-document-layer-annotations'),
        summary: 'List annotations: JSON (first 1000, `truncated`) or all as NDJSON (`Accept: application/x-ndjson`)',
        response: { 200: s.listResponse, ...errors(401, 404, 422) },
      },
    }, (req, reply) => h.listAnnotations(req, reply, svc, target(req)))

    app.post(`${p}/annotations`, {
      ...writes,
      schema: {
        ...base,
        operationId: scope.op('create-document-annotation', 'create-document-layer-annotation'),
        summary: 'Create one annotation, or many (`annotations`); all or nothing',
        body: s.createBody,
        response: { 200: { oneOf: [s.createdResponse, s.recordsSchema] }, ...errors(400, 401, 404, 409, 413, 415, 422) },
      },
    }, (req) => h.createAnnotations(req, svc, target(req)))

    app.put(`${p}/annotations`, {
      ...writes,
      schema: {
        ...base,
        operationId: scope.op('update-document-annotations', 'update-document-layer-annotations'),
        summary: 'Replace several annotations; each may carry the `version` it is based on (409 when stale)',
        body: s.replaceManyBody,
        response: { 200: s.recordsSchema, ...errors(400, 401, 404, 409, 413, 415, 422) },
      },
    }, (req) => h.replaceAnnotations(req, svc, target(req)))

    app.delete(`${p}/annotations`, {
      schema: {
        ...base,
        operationId: scope.op('remove-document-annotations', 'remove-document-layer-annotations'),
        summary: 'Delete the listed annotations, or all (`"annotationIds": "all"`)',
        body: s.deleteBody,
        response: { 200: s.deletedSchema, ...errors(400, 401, 404, 415, 422) },
      },
    }, (req) => h.removeAnnotations(req, svc, target(req)))

    app.get(`${p}/annotations/:annotationId`, {
      schema: {
        ...one,
        operationId: scope.op('get-document-annotation', 'get-document-layer-annotation'),
        summary: 'One annotation (ETag: its version)',
        response: { 200: s.recordResponse, ...errors(401, 404) },
      },
    }, (req, reply) => h.getAnnotation(req, reply, svc, target(req), annotationId(req)))

    app.put(`${p}/annotations/:annotationId`, {
      ...writes,
      schema: {
        ...one,
        operationId: scope.op('update-document-annotation', 'update-document-layer-annotation'),
        summary: 'Replace an annotation\'s content; `If-Match: "<version>"` (or `version`) makes a stale write a 409',
        body: s.replaceOneBody,
        response: { 200: s.recordResponse, ...errors(400, 401, 404, 409, 413, 415, 422) },
      },
    }, (req, reply) => h.replaceAnnotation(req, reply, svc, target(req), annotationId(req)))

    app.delete(`${p}/annotations/:annotationId`, {
      schema: {
        ...one,
        operationId: scope.op('delete-document-annotation', 'delete-document-layer-annotation'),
        summary: 'Delete an annotation (`If-Match` honoured)',
        response: { 200: s.emptySchema, ...errors(400, 401, 404, 409) },
      },
    }, (req) => h.removeAnnotation(req, svc, target(req), annotationId(req)))

    app.get(`${p}/events`, {
      schema: {
        ...base,
        operationId: scope.op('get-document-annotation-events', 'get-document-layer-annotation-events'),
        summary: 'Folio: live annotation changes as server-sent events; resume with Last-Event-ID or ?last_event_id=',
        querystring: { type: 'object', properties: { last_event_id: { type: 'string', maxLength: 20 } } },
        response: { 200: eventStreamResponse, ...errors(400, 401, 404) },
      },
    }, (req, reply) => h.annotationEvents(req, reply, svc, target(req)))

    app.get(`${p}/document.json`, {
      schema: {
        ...base,
        tags: ['Import and Export'],
        operationId: scope.op('get-document-instant-json', 'get-document-layer-instant-json'),
        summary: 'The layer\'s annotations as an Instant JSON document',
        response: { 200: s.instantJsonSchema, ...errors(401, 404) },
      },
    }, (req, reply) => h.instantJson(reply, svc, target(req)))

    app.post(`${p}/apply_instant_json`, {
      ...writes,
      config: { accepts: ['application/json', 'multipart/form-data'] },
      schema: {
        ...base,
        tags: ['Import and Export'],
        operationId: scope.op('document-apply-instant-json', 'layer-apply-instant-json'),
        summary: 'Apply an Instant JSON document (JSON body, or multipart part `instant.json`): annotations with a known id are replaced, others created; skippedPdfObjectIds are deleted',
        requestBodies: {
          'application/json': s.instantJsonSchema,
          'multipart/form-data': { type: 'object', required: ['instant.json'], properties: { 'instant.json': { ...BINARY, description: 'the Instant JSON document' } } },
        },
        response: {
          200: { type: 'object', properties: { data: { type: 'object', properties: { created: { type: 'integer' }, updated: { type: 'integer' }, deleted: { type: 'integer' } } } } },
          ...errors(400, 401, 404, 413, 415, 422),
        },
      },
    }, (req) => h.applyInstantJson(req, svc, target(req), ANNOTATION_BODY_LIMIT))
  }
}
