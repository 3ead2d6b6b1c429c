/**
 * Embedded files (get-document-embedded-files) and their download through the attachments
 * route (get-document-attachment: the reference downloads embedded files by their
 * `fileAttachmentId`, the sha256 of the bytes). Shared by /api and the client surfaces.
 *
 * The bytes come from an uploaded PDF, so they are never rendered by a browser on Folio's
 * origin: always `Content-Disposition: attachment`, `nosniff`, a sandboxing CSP, and a media type
 * that a browser would execute (HTML, SVG, XML, scripts) is replaced by application/octet-stream.
 */
import type { FastifyReply } from 'fastify'
import { pathDocumentId } from '../../documents/ids.js'
import { FolioError } from '../../errors.js'
import type { RenderService } from '../../render/service.js'
import { dataSchema, errors } from '../reply.js'
import { params, passwordHeader, type Reader } from './text-structure.js'

const SHA256_RE = /^[0-9a-f]{64}$/
const MEDIA_TYPE_RE = /^[a-z0-9][a-z0-9.+-]{0,63}\/[a-z0-9][a-z0-9.+-]{0,63}$/
const ACTIVE_RE = /html|xml|svg|javascript|ecmascript|x-sh|wasm/

export function safeMediaType(t: string): string {
  const lower = t.toLowerCase()
  return MEDIA_TYPE_RE.test(lower) && !ACTIVE_RE.test(lower) ? lower : 'application/octet-stream'
}

export function embeddedFilesSchema(operationId: string, layered: boolean, tag = 'Embedded files') {
  return {
    operationId,
    summary: "The PDF's embedded files: names, sizes, types; download one with the attachments route and its fileAttachmentId",
    tags: [tag],
    params: params(layered),
    headers: passwordHeader,
    response: {
      200: dataSchema({
        type: 'object',
        required: ['embeddedFiles'],
        properties: {
          embeddedFiles: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'content'],
              properties: {
                id: { type: 'string' },
                content: {
                  type: 'object',
                  required: ['v', 'type', 'fileAttachmentId'],
                  properties: {
                    v: { type: 'integer' }, type: { type: 'string' }, fileAttachmentId: { type: 'string' },
                    contentType: { type: 'string' }, fileName: { type: 'string' }, fileSize: { type: 'integer' },
                  },
                },
              },
            },
          },
        },
      }),
      ...errors(401, 403, 404, 422, 429),
    },
  }
}

export function attachmentSchema(operationId: string, tag = 'Attachments') {
  return {
    operationId,
    summary: 'The bytes of an attachment: an embedded file of the PDF, by its fileAttachmentId (sha256)',
    tags: [tag],
    params: { type: 'object', required: ['documentId', 'attachmentId'], properties: { documentId: { type: 'string', maxLength: 256 }, attachmentId: { type: 'string', maxLength: 128 } } },
    headers: passwordHeader,
    response: { 200: { description: 'the file', type: 'string', format: 'binary' }, ...errors(401, 403, 404, 422, 429) },
  }
}

export async function listEmbeddedFiles(render: RenderService, who: Reader) {
  const files = await render.embeddedFiles(pathDocumentId(who.documentId), who.password)
  return {
    data: {
      // A file over the size limit has no id to download it by, so it is listed without one.
      embeddedFiles: files.filter((f) => f.sha256 !== undefined).map((f) => ({
        id: f.sha256!,
        content: { v: 1, type: 'pspdfkit/embedded-file', fileAttachmentId: f.sha256!, contentType: f.contentType, fileName: f.name, fileSize: f.size },
      })),
    },
  }
}

export async function sendAttachment(reply: FastifyReply, render: RenderService, who: Reader, attachmentId: string) {
  if (!SHA256_RE.test(attachmentId)) throw new FolioError('attachment_not_found')
  const found = await render.embeddedFile(pathDocumentId(who.documentId), attachmentId, who.password)
  if (!found) throw new FolioError('attachment_not_found')
  reply
    .type(safeMediaType(found.info.contentType))
    .header('content-length', found.bytes.length)
    .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(found.info.name || 'attachment')}`)
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "sandbox; default-src 'none'")
    .header('cache-control', 'private, no-cache')
  return reply.send(found.bytes)
}
