/**
 * Bookmarks on the client surfaces: the token's layer and user (spec §2), `read-document` to
 * list and `write` to change, as for annotations.
 */
import type { FastifyInstance } from 'fastify'
import type { BookmarkService } from '../../bookmarks/service.js'
import { registerBookmarkRoutes } from '../shared/bookmarks.js'
import { params } from '../shared/text-structure.js'
import { requirePermission, type Mount } from './access.js'

export function bookmarkRoutes(mount: Mount, deps: { bookmarks: BookmarkService }) {
  return async function register(app: FastifyInstance): Promise<void> {
    registerBookmarkRoutes(app, deps.bookmarks, {
      prefix: '/:documentId',
      operationId: (n) => `${mount.operationPrefix}-${n}-document-bookmark${n === 'get' ? 's' : ''}`,
      params: params(false) as never,
      tag: mount.tag,
      security: [{ JWT: [] }],
      target: (req, access) => {
        const grant = requirePermission(req, (req.params as { documentId: string }).documentId, access === 'read' ? 'read-document' : 'write')
        return { documentId: grant.documentId, layer: grant.layer ?? '', userId: grant.userId ?? null }
      },
    })
  }
}
