/**
 * XFDF export over the server API: get-document-xfdf and get-document-layer-xfdf (Document
 * Engine's paths, media type application/vnd.adobe.xfdf). Import is not done yet.
 */
import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import type { AnnotationService } from '../../annotations/service.js'
import type { DocumentService } from '../../documents/service.js'
import { xfdfDocument } from '../../xfdf/export.js'
import { pathDocumentId } from '../../documents/ids.js'
import { errors } from '../reply.js'
import { params, passwordHeader } from '../shared/text-structure.js'
import { apiReader } from './text-structure.js'

export async function xfdfRoutes(app: FastifyInstance, deps: { annotations: AnnotationService; documents: DocumentService }) {
  for (const layered of [false, true]) {
    app.get(`/documents/:documentId${layered ? '/layers/:layerName' : ''}/document.xfdf`, {
      schema: {
        operationId: layered ? 'get-document-layer-xfdf' : 'get-document-xfdf',
        summary: "The layer's annotations as XFDF (highlight, underline, strikeout, squiggly, square, circle, line, ink, text, freetext)",
        tags: ['Import and Export'],
        params: params(layered),
        headers: passwordHeader,
        response: { 200: { description: 'application/vnd.adobe.xfdf', type: 'string' }, ...errors(400, 401, 404) },
      },
    }, async (req, reply) => {
      const who = apiReader(req)
      const info = await deps.documents.info(pathDocumentId(who.documentId)) // 404 before streaming
      const body = Readable.from(xfdfDocument(deps.annotations.all(info.document_id, who.layer), info.pages))
      return reply.type('application/vnd.adobe.xfdf').header('content-disposition', 'attachment; filename="document.xfdf"').send(body)
    })
  }
}
