/**
 * Bookmark routes (Document Engine's get/create/update/delete-document[-layer]-bookmark[s]),
 * written once: /api registers them with the layer from the path and the request's user fields,
 * the client surfaces with the JWT's layer and user (read-document to list, write to change).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { BookmarkService } from '../../bookmarks/service.js'
import { pathDocumentId } from '../../documents/ids.js'
import { dataSchema, errors } from '../reply.js'
import { passwordHeader } from './text-structure.js'

export interface BookmarkTarget {
  documentId: string
  layer: string
  userId: string | null
}

const record = {
  type: 'object',
  required: ['id', 'content'],
  properties: {
    id: { type: 'string' },
    content: { type: 'object', additionalProperties: true },
    createdBy: { type: ['string', 'null'] },
    updatedBy: { type: ['string', 'null'] },
  },
} as const

const body = {
  type: 'object',
  required: ['content'],
  properties: {
    id: { type: 'string', maxLength: 128 },
    content: { type: 'object', description: 'a pspdfkit/bookmark v1 record' },
    createdBy: { type: ['string', 'null'], maxLength: 1024 },
    updatedBy: { type: ['string', 'null'], maxLength: 1024 },
  },
} as const

export interface BookmarkRouteOptions {
  /** '/documents/:documentId' or '/documents/:documentId/layers/:layerName' or '/:documentId'. */
  prefix: string
  operationId: (name: 'get' | 'create' | 'update' | 'delete') => string
  params: { type: 'object'; required: string[]; properties: Record<string, object> }
  /** Authorizes and says whose bookmarks: read (list) or write (change). */
  target(req: FastifyRequest, access: 'read' | 'write'): BookmarkTarget
  tag: string
  security?: Array<Record<string, string[]>>
  /** Only /api takes the password header (client routes carry the password in the JWT). */
  headers?: boolean
}

export function registerBookmarkRoutes(app: FastifyInstance, svc: BookmarkService, o: BookmarkRouteOptions) {
  const withId = { ...o.params, required: [...o.params.required, 'bookmarkId'], properties: { ...o.params.properties, bookmarkId: { type: 'string', maxLength: 256 } } }
  const common = { tags: [o.tag], ...(o.security ? { security: o.security } : {}), ...(o.headers ? { headers: passwordHeader } : {}) }
  app.get(`${o.prefix}/bookmarks`, {
    schema: { ...common, operationId: o.operationId('get'), summary: 'The bookmarks of the layer', params: o.params,
      response: { 200: dataSchema({ type: 'object', required: ['bookmarks'], properties: { bookmarks: { type: 'array', items: record } } }), ...errors(401, 403, 404) } },
  }, async (req) => {
    const t = o.target(req, 'read')
    return { data: { bookmarks: await svc.list(pathDocumentId(t.documentId), t.layer) } }
  })
  app.post(`${o.prefix}/bookmarks`, {
    schema: { ...common, operationId: o.operationId('create'), summary: 'Create a bookmark (with the given id, or a new one)', params: o.params, body,
      response: { 200: dataSchema({ type: 'object', required: ['id'], properties: { id: { type: 'string' } } }), ...errors(400, 401, 403, 404, 409, 415, 422) } },
  }, async (req) => {
    const t = o.target(req, 'write')
    return { data: await svc.create(pathDocumentId(t.documentId), t.layer, t.userId, req.body as { id?: string; content: unknown }) }
  })
  app.put(`${o.prefix}/bookmarks/:bookmarkId`, {
    schema: { ...common, operationId: o.operationId('update'), summary: 'Replace a bookmark', params: withId, body,
      response: { 200: dataSchema(record), ...errors(400, 401, 403, 404, 415) } },
  }, async (req) => {
    const t = o.target(req, 'write')
    return { data: await svc.update(pathDocumentId(t.documentId), t.layer, (req.params as { bookmarkId: string }).bookmarkId, t.userId, req.body as { content: unknown }) }
  })
  app.delete(`${o.prefix}/bookmarks/:bookmarkId`, {
    schema: { ...common, operationId: o.operationId('delete'), summary: 'Delete a bookmark', params: withId,
      response: { 200: dataSchema({ type: 'object', required: ['id'], properties: { id: { type: 'string' } } }), ...errors(400, 401, 403, 404) } },
  }, async (req) => {
    const t = o.target(req, 'write')
    return { data: await svc.remove(pathDocumentId(t.documentId), t.layer, (req.params as { bookmarkId: string }).bookmarkId) }
  })
}
