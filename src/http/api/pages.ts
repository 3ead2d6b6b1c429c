/**
 * Page images and page text over the server API (spec §3). The handlers are shared
 * with the client surfaces (http/shared/page-image.ts); here the API token was checked by the
 * surface and grants every document.
 */
import type { FastifyInstance } from 'fastify'
import { parsePasswordHeader } from '../../render/password.js'
import { passwordHeader } from '../shared/text-structure.js'
import { pageImageInput, pageImageSchema, pageTextInput, pageTextSchema, sendPageImage, sendPageText, type PageRouteDeps } from '../shared/page-image.js'

export async function pageRoutes(app: FastifyInstance, deps: PageRouteDeps) {
  // The PDF password of an encrypted document: Document Engine's header (render/password.ts).
  const password = (req: { headers: Record<string, string | string[] | undefined> }) => parsePasswordHeader(req.headers['pspdfkit-pdf-password'])
  app.get('/documents/:documentId/pages/:pageIndex/image', { schema: { ...pageImageSchema('render-document-page'), headers: passwordHeader } }, (req, reply) =>
    sendPageImage(req, reply, deps, { ...pageImageInput(req), password: password(req) }))

  app.get('/documents/:documentId/pages/:pageIndex/text', { schema: { ...pageTextSchema('get-document-page-text'), headers: passwordHeader } }, (req, reply) =>
    sendPageText(req, reply, deps, { ...pageTextInput(req), password: password(req) }))
}
