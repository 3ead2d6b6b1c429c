/**
 * Document routes of the client surfaces (spec §7): `document_info` (read-document) and `pdf`
 * (download). Mounted under `/i/d` and `/documents` by client/index.ts; the surface's hook has
 * verified the JWT, each route checks that its grant covers this document and permission.
 */
import type { FastifyInstance } from 'fastify'
import { pathDocumentId } from '../../documents/ids.js'
// The same shapes as on /api (one schema, two surfaces).
import { documentIdParam, infoSchema } from '../api/documents.js'
import { pdfResponses } from '../openapi.js'
import { dataSchema, errors, data } from '../reply.js'
import { pdfQuerySchema, sendDocumentPdf } from '../shared/pdf-download.js'
import { requirePermission, type ClientDeps, type Mount } from './access.js'


export function documentRoutes(mount: Mount, deps: Pick<ClientDeps, 'documents' | 'annotations'>) {
  const op = (name: string) => `${mount.operationPrefix}-${name}`
  const tags = [mount.tag]

  return async function register(app: FastifyInstance): Promise<void> {
    app.get('/:documentId/document_info', {
      schema: {
        operationId: op('fetch-document-info'),
        summary: 'Page count, page sizes (points) and rotations (permission read-document)',
        tags,
        params: documentIdParam,
        response: { 200: dataSchema(infoSchema), ...errors(401, 403, 404, 422) },
      },
    }, async (req) => {
      const { documentId } = req.params as { documentId: string }
      const grant = requirePermission(req, documentId, 'read-document')
      return data(await deps.documents.info(pathDocumentId(grant.documentId)))
    })

    app.get('/:documentId/pdf', {
      schema: {
        operationId: op('download-document-pdf'),
        summary: 'Download the PDF (permission download; `?source=true`: the original bytes)',
        tags,
        params: documentIdParam,
        querystring: pdfQuerySchema,
        response: { ...pdfResponses, ...errors(400, 401, 403, 404, 416, 422) },
      },
    }, async (req, reply) => {
      const { documentId } = req.params as { documentId: string }
      const grant = requirePermission(req, documentId, 'download')
      const q = req.query as { source: boolean; flatten: boolean }
      // The current PDF: the annotations of the token's layer written in.
      return sendDocumentPdf(req, reply, deps, {
        documentId: pathDocumentId(grant.documentId),
        layer: deps.annotations.parseLayer(grant.layer ?? ''),
        flatten: q.flatten,
        source: q.source,
      })
    })
  }
}
