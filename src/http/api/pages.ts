/**
 * Page images and page text over the server API (spec §3). The handlers are shared
 * with the client surfaces (http/shared/page-image.ts); here the API token was checked by the
 * surface and grants every document.
 */
import type { FastifyInstance } from 'fastify'
import { pageImageInput, pageImageSchema, pageTextInput, pageTextSchema, sendPageImage, sendPageText, type PageRouteDeps } from '../shared/page-image.js'

export async function pageRoutes(app: FastifyInstance, deps: PageRouteDeps) {
  app.get('/documents/:documentId/pages/:pageIndex/image', { schema: pageImageSchema('render-document-page') }, (req, reply) =>
    sendPageImage(req, reply, deps, pageImageInput(req)))

  app.get('/documents/:documentId/pages/:pageIndex/text', { schema: pageTextSchema('get-document-page-text') }, (req, reply) =>
    sendPageText(req, reply, deps, pageTextInput(req)))
}
