/**
 * Page routes of the client surfaces (spec §7): page images and page text with
 * `read-document`, and — on the client mount only — the cover, `GET /documents/:id/cover`, the
 * first page as a thumbnail for `cover-image` (or `read-document`), the one route that also
 * takes the JWT as `?jwt=` so that an `<img src>` can show it. The render handlers are shared
 * with the server API (http/shared/page-image.ts).
 */
import type { FastifyInstance } from 'fastify'
import { MAX_DIMENSION } from '../../render/service.js'
import { IMAGE_FORMATS } from '../../render/encode.js'
import { pageImageInput, pageImageSchema, pageTextInput, pageTextSchema, sendPageImage, sendPageText, type PageRouteDeps } from '../shared/page-image.js'
import type { ImageFormat } from '../../render/encode.js'
import { requirePermission, CLIENT_MOUNT, type Mount } from './access.js'

/** Width of a cover when the client names no size (pixels). */
export const DEFAULT_COVER_WIDTH = 400

const coverQuerySchema = {
  type: 'object',
  properties: {
    width: { type: 'number', minimum: 1, maximum: MAX_DIMENSION, description: `pixels; default ${DEFAULT_COVER_WIDTH} when neither width nor height is given` },
    height: { type: 'number', minimum: 1, maximum: MAX_DIMENSION, description: 'pixels; instead of width' },
    format: { type: 'string', enum: [...IMAGE_FORMATS] },
    jwt: { type: 'string', maxLength: 8192, description: 'the JWT, for an <img>; Authorization: Bearer also works' },
  },
} as const

const coverParamsSchema = {
  type: 'object',
  required: ['documentId'],
  properties: { documentId: { type: 'string', maxLength: 256 } },
} as const

export function pageRoutes(mount: Mount, deps: PageRouteDeps) {
  const op = (name: string) => `${mount.operationPrefix}-${name}`
  return async function register(app: FastifyInstance): Promise<void> {
    app.get('/:documentId/pages/:pageIndex/image', {
      schema: { ...pageImageSchema(op('render-document-page')), tags: [mount.tag] },
    }, (req, reply) => {
      const grant = requirePermission(req, (req.params as { documentId: string }).documentId, 'read-document')
      // The token's layer is drawn, never another's (spec §2 layer).
      return sendPageImage(req, reply, deps, { ...pageImageInput(req, grant.layer ?? ''), documentId: grant.documentId, password: grant.password })
    })

    app.get('/:documentId/pages/:pageIndex/text', {
      schema: { ...pageTextSchema(op('get-document-page-text')), tags: [mount.tag] },
    }, (req, reply) => {
      const grant = requirePermission(req, (req.params as { documentId: string }).documentId, 'read-document')
      return sendPageText(req, reply, deps, { ...pageTextInput(req), documentId: grant.documentId, password: grant.password })
    })

    if (mount !== CLIENT_MOUNT) return
    app.get('/:documentId/cover', {
      config: { jwtInQuery: true },
      schema: {
        ...pageImageSchema('client-get-document-cover', { querystring: coverQuerySchema, params: coverParamsSchema }),
        summary: 'The first page as a thumbnail (permission cover-image or read-document; the JWT may be given as ?jwt=)',
        tags: [mount.tag],
      },
    }, (req, reply) => {
      const grant = requirePermission(req, (req.params as { documentId: string }).documentId, 'cover-image', 'read-document')
      const q = req.query as { width?: number; height?: number; format?: ImageFormat }
      const width = q.width === undefined && q.height === undefined ? DEFAULT_COVER_WIDTH : q.width
      // A cover never shows annotations: the permission releases the page's look, not its markup.
      return sendPageImage(req, reply, deps, { documentId: grant.documentId, pageIndex: 0, width, height: q.height, format: q.format, annotations: false, layer: '', password: grant.password })
    })
  }
}
