/**
 * Layers and document copies over the server API (spec §3), with Document Engine's operation
 * ids: list-layers, create-new-layer, delete-layer, copy-document, download-document-layer-pdf.
 */
import type { FastifyInstance } from 'fastify'
import type { AnnotationService } from '../../annotations/service.js'
import { pathDocumentId } from '../../documents/ids.js'
import { pdfResponses } from '../openapi.js'
import { data, dataSchema, errors } from '../reply.js'
import { sendDocumentPdf } from '../shared/pdf-download.js'

const TAGS = ['Layers']
const documentIdParam = { type: 'object', required: ['documentId'], properties: { documentId: { type: 'string', maxLength: 256 } } } as const
const layerParams = {
  type: 'object',
  required: ['documentId', 'layerName'],
  properties: { documentId: { type: 'string', maxLength: 256 }, layerName: { type: 'string', maxLength: 1024 } },
} as const

export async function layerRoutes(app: FastifyInstance, deps: { annotations: AnnotationService }) {
  const svc = deps.annotations

  app.get('/documents/:documentId/layers', {
    schema: {
      operationId: 'list-layers',
      summary: 'Layer names; the default layer is ""',
      tags: TAGS,
      params: documentIdParam,
      response: { 200: dataSchema({ type: 'array', items: { type: 'string' } }), ...errors(401, 404) },
    },
  }, async (req) => data(await svc.layers(pathDocumentId((req.params as { documentId: string }).documentId))))

  app.post('/documents/:documentId/layers', {
    schema: {
      operationId: 'create-new-layer',
      summary: 'Create a layer: a copy of `source_layer_name` when it exists, else of the annotations in the PDF file',
      tags: TAGS,
      params: documentIdParam,
      body: {
        type: 'object',
        required: ['name'],
        properties: { name: { type: 'string', maxLength: 1024 }, source_layer_name: { type: 'string', maxLength: 1024 } },
      },
      response: {
        200: dataSchema({ type: 'object', required: ['name', 'errors'], properties: { name: { type: 'string' }, errors: { type: 'array', items: {} } } }),
        ...errors(400, 401, 404, 409, 415),
      },
    },
  }, async (req) => {
    const b = req.body as { name: string; source_layer_name?: string }
    return data(await svc.createLayer(pathDocumentId((req.params as { documentId: string }).documentId), b.name, b.source_layer_name))
  })

  app.delete('/documents/:documentId/layers/:layerName', {
    schema: {
      operationId: 'delete-layer',
      summary: 'Delete a layer and its annotations',
      tags: TAGS,
      params: layerParams,
      response: { 200: dataSchema({ type: 'object', additionalProperties: false }), ...errors(400, 401, 404) },
    },
  }, async (req) => {
    const p = req.params as { documentId: string; layerName: string }
    await svc.deleteLayer(pathDocumentId(p.documentId), p.layerName)
    return data({})
  })

  app.get('/documents/:documentId/layers/:layerName/pdf', {
    schema: {
      operationId: 'download-document-layer-pdf',
      summary: "The PDF with the layer's annotations written in (`?flatten=true`: burnt into the pages)",
      tags: TAGS,
      params: layerParams,
      querystring: { type: 'object', properties: { flatten: { type: 'boolean', default: false } } },
      response: { ...pdfResponses, ...errors(400, 401, 404, 416, 422) },
    },
  }, async (req, reply) => {
    const p = req.params as { documentId: string; layerName: string }
    const q = req.query as { flatten: boolean }
    return sendDocumentPdf(req, reply, { annotations: svc }, { documentId: pathDocumentId(p.documentId), layer: svc.parseLayer(p.layerName), flatten: q.flatten, source: false })
  })

  app.post('/copy_document', {
    schema: {
      operationId: 'copy-document',
      summary: 'A new document with the same file (the bytes are not copied) and all layers and annotations',
      tags: ['Documents'],
      body: {
        type: 'object',
        required: ['document_id'],
        properties: { document_id: { type: 'string', maxLength: 256 }, new_document_id: { type: 'string', maxLength: 256 } },
      },
      response: {
        200: dataSchema({ type: 'object', required: ['document_id'], properties: { document_id: { type: 'string' } } }),
        ...errors(400, 401, 404, 409, 415),
      },
    },
  }, async (req) => {
    const b = req.body as { document_id: string; new_document_id?: string }
    return data(await svc.copyDocument(pathDocumentId(b.document_id), b.new_document_id))
  })
}
