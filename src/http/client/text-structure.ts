/**
 * Search, all-pages text, highlighted text and outline on the client surfaces (`read-document`):
 * the token's layer, never another's (spec §2), and the PDF password from the JWT's `password`
 * claim. Handlers are shared with /api (http/shared/text-structure.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import {
  allText, allTextSchema, documentOutline, pageAnnotations, pageAnnotationsSchema, highlightedSchema, outlineSchema, pageHighlighted, searchSchema, sendSearch,
  type Reader, type SearchQueryString, type TextStructureDeps,
} from '../shared/text-structure.js'
import { requirePermission, type Mount } from './access.js'
import { attachmentSchema, embeddedFilesSchema, listEmbeddedFiles, sendAttachment } from '../shared/embedded-files.js'

const security = [{ JWT: [] }]

function clientReader(req: FastifyRequest): Reader {
  const grant = requirePermission(req, (req.params as { documentId: string }).documentId, 'read-document')
  return { documentId: grant.documentId, layer: grant.layer ?? '', password: grant.password }
}

export function textStructureRoutes(mount: Mount, deps: TextStructureDeps) {
  const op = (name: string) => `${mount.operationPrefix}-${name}`
  // No password header here: on client routes the password comes from the JWT only.
  const client = <T extends object>({ headers: _h, ...schema }: T & { headers?: unknown }) => ({ ...schema, tags: [mount.tag], security })
  return async function register(app: FastifyInstance): Promise<void> {
    app.get('/:documentId/search', { schema: client(searchSchema(op('search-document'), false)) }, (req, reply) =>
      sendSearch(reply, deps, clientReader(req), req.query as SearchQueryString))
    app.get('/:documentId/pages/text', { schema: client(allTextSchema(op('get-document-text'), false)) }, (req) => allText(deps, clientReader(req)))
    app.get('/:documentId/pages/:pageIndex/highlighted', { schema: client(highlightedSchema(op('get-document-page-highlighted-text'), false)) }, (req) =>
      pageHighlighted(deps, clientReader(req), (req.params as { pageIndex: number }).pageIndex))
    app.get('/:documentId/pages/:pageIndex/annotations', { schema: client(pageAnnotationsSchema(op('get-document-page-annotations'), false, mount.tag)) }, (req) =>
      pageAnnotations(deps, clientReader(req), (req.params as { pageIndex: number }).pageIndex))
    app.get('/:documentId/embedded-files', { schema: client(embeddedFilesSchema(op('get-document-embedded-files'), false, mount.tag)) }, (req) =>
      listEmbeddedFiles(deps.render, clientReader(req)))
    app.get('/:documentId/attachments/:attachmentId', { schema: client(attachmentSchema(op('get-document-attachment'), mount.tag)) }, (req, reply) =>
      sendAttachment(reply, deps.render, clientReader(req), (req.params as { attachmentId: string }).attachmentId))
    app.get('/:documentId/outline.json', { schema: client(outlineSchema(op('get-document-outline'))) }, (req) => documentOutline(deps, clientReader(req)))
  }
}
