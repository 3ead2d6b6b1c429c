/** Bookmarks over the server API, default layer and named layers (Document Engine's paths and operation ids). */
import type { FastifyInstance } from 'fastify'
import { parseLayerName } from '../../annotations/ids.js'
import type { BookmarkService } from '../../bookmarks/service.js'
import { registerBookmarkRoutes } from '../shared/bookmarks.js'
import { params } from '../shared/text-structure.js'

export async function bookmarkRoutes(app: FastifyInstance, deps: { bookmarks: BookmarkService }) {
  for (const layered of [false, true]) {
    registerBookmarkRoutes(app, deps.bookmarks, {
      prefix: layered ? '/documents/:documentId/layers/:layerName' : '/documents/:documentId',
      operationId: (n) => `${n}-document${layered ? '-layer' : ''}-bookmark${n === 'get' ? 's' : ''}`,
      params: params(layered) as never,
      tag: 'Bookmarks',
      headers: true,
      target: (req) => {
        const p = req.params as { documentId: string; layerName?: string }
        const b = (req.body ?? {}) as { createdBy?: unknown; updatedBy?: unknown }
        const user = typeof b.updatedBy === 'string' ? b.updatedBy : typeof b.createdBy === 'string' ? b.createdBy : null
        return { documentId: p.documentId, layer: p.layerName === undefined ? '' : parseLayerName(p.layerName), userId: user }
      },
    })
  }
}
