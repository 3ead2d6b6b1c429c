/**
 * Search, text of all pages, highlighted text and outline over the server API, with Document
 * Engine's paths and operation ids; the layer variants read the named layer's annotations.
 * The PDF password comes from the `pspdfkit-pdf-password` header (render/password.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { parseLayerName } from '../../annotations/ids.js'
import type { DocumentService } from '../../documents/service.js'
import { pathDocumentId } from '../../documents/ids.js'
import { dataSchema, errors } from '../reply.js'
import { infoSchema } from './documents.js'
import { parsePasswordHeader } from '../../render/password.js'
import { pageImageInput, pageImageSchema, pageTextInput, pageTextSchema, sendPageImage, sendPageText } from '../shared/page-image.js'
import { attachmentSchema, embeddedFilesSchema, listEmbeddedFiles, sendAttachment } from '../shared/embedded-files.js'
import {
  allText, allTextSchema, pageAnnotations, pageAnnotationsSchema, params, passwordHeader, documentOutline, highlightedSchema, outlineSchema, pageHighlighted, searchSchema, sendSearch,
  type Reader, type SearchQueryString, type TextStructureDeps,
} from '../shared/text-structure.js'

/** The reader of an /api request: the API token grants every document and layer. */
export function apiReader(req: FastifyRequest): Reader {
  const p = req.params as { documentId: string; layerName?: string }
  return {
    documentId: p.documentId,
    layer: p.layerName === undefined ? '' : parseLayerName(p.layerName),
    password: parsePasswordHeader(req.headers['pspdfkit-pdf-password']),
  }
}

export async function textStructureRoutes(app: FastifyInstance, deps: TextStructureDeps & { documents: DocumentService }) {
  for (const [prefix, layered] of [['/documents/:documentId', false], ['/documents/:documentId/layers/:layerName', true]] as const) {
    const op = (plain: string, layer: string) => (layered ? layer : plain)
    app.get(`${prefix}/search`, { schema: searchSchema(op('search-document', 'search-document-layer'), layered) }, (req, reply) =>
      sendSearch(reply, deps, apiReader(req), req.query as SearchQueryString))
    app.get(`${prefix}/pages/text`, { schema: allTextSchema(op('get-document-text', 'get-document-layer-text'), layered) }, (req) =>
      allText(deps, apiReader(req)))
    app.get(`${prefix}/pages/:pageIndex/highlighted`, {
      schema: highlightedSchema(op('get-document-page-highlighted-text', 'get-document-layer-page-highlighted-text'), layered),
    }, (req) => pageHighlighted(deps, apiReader(req), (req.params as { pageIndex: number }).pageIndex))
    app.get(`${prefix}/pages/:pageIndex/annotations`, {
      schema: pageAnnotationsSchema(op('get-document-page-annotations', 'get-document-layer-page-annotations'), layered),
    }, (req) => pageAnnotations(deps, apiReader(req), (req.params as { pageIndex: number }).pageIndex))
    app.get(`${prefix}/embedded-files`, { schema: embeddedFilesSchema(op('get-document-embedded-files', 'get-document-layer-embedded-files'), layered) }, (req) =>
      listEmbeddedFiles(deps.render, apiReader(req)))
  }
  app.get('/documents/:documentId/attachments/:attachmentId', { schema: attachmentSchema('get-document-attachment') }, (req, reply) =>
    sendAttachment(reply, deps.render, apiReader(req), (req.params as { attachmentId: string }).attachmentId))
  // The layer variant of a page's text: the text does not depend on the layer (the reference has both).
  app.get('/documents/:documentId/layers/:layerName/pages/:pageIndex/text', {
    schema: { ...pageTextSchema('get-document-layer-page-text'), params: params(true, true), headers: passwordHeader },
  }, (req, reply) => {
    const who = apiReader(req)
    return sendPageText(req, reply, deps, { ...pageTextInput(req), documentId: who.documentId, password: who.password })
  })
  // A page image with the named layer's annotations drawn (the default-layer route draws "").
  app.get('/documents/:documentId/layers/:layerName/pages/:pageIndex/image', {
    schema: { ...pageImageSchema('render-document-layer-page', { params: params(true, true) }), headers: passwordHeader },
  }, (req, reply) => {
    const who = apiReader(req)
    return sendPageImage(req, reply, deps, { ...pageImageInput(req, who.layer), documentId: who.documentId, password: who.password })
  })
  // document_info does not depend on the layer; the reference offers it per layer too.
  app.get('/documents/:documentId/layers/:layerName/document_info', {
    schema: { operationId: 'fetch-document-layer-info', summary: 'Page count and page sizes (points) and rotations', tags: ['Layers'], params: params(true), response: { 200: dataSchema(infoSchema), ...errors(400, 401, 404, 422) } },
  }, async (req) => ({ data: await deps.documents.info(pathDocumentId(apiReader(req).documentId)) }))
  app.get('/documents/:documentId/outline.json', { schema: outlineSchema('get-document-outline') }, (req) => documentOutline(deps, apiReader(req)))
}
