/**
 * The one PDF download of every surface (spec §3 `GET …/pdf`, §7): /api (the default layer or
 * a named one) and the client surfaces (the JWT's layer, permission `download`) parse their
 * request into a PdfDownload and call sendDocumentPdf.
 *
 * One behaviour for the query: `source=true` is the original bytes; `flatten=true` burns the
 * layer's annotations into the pages; both together is 400 bad_request on every surface (the
 * original bytes cannot be flattened, and accepting the pair silently would hide a client bug).
 *
 * Strong ETag (the source's sha256, or one derived from the source and the annotation state),
 * `If-None-Match` → 304 without building anything, and single-range support so viewers can
 * fetch parts of a large file.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AnnotationService } from '../../annotations/service.js'
import { FolioError } from '../../errors.js'
import { ifNoneMatchHits } from './etag.js'

export interface PdfDownload {
  documentId: string
  /** '' = the default layer. */
  layer: string
  flatten: boolean
  source: boolean
}

export interface PdfDownloadDeps {
  annotations: Pick<AnnotationService, 'pdf'>
}

/** The query of every `…/pdf` route. */
export const pdfQuerySchema = {
  type: 'object',
  properties: {
    source: { type: 'boolean', default: false, description: 'true: the original bytes, without annotations' },
    flatten: { type: 'boolean', default: false, description: 'true: the annotations burnt into the page content' },
  },
} as const

export async function sendDocumentPdf(req: FastifyRequest, reply: FastifyReply, deps: PdfDownloadDeps, d: PdfDownload) {
  if (d.source && d.flatten) {
    throw new FolioError('bad_request', {}, { message: 'source=true and flatten=true cannot be combined' })
  }
  const file = await deps.annotations.pdf(d.documentId, { layer: d.layer, flatten: d.flatten, source: d.source })
  reply.header('etag', file.etag).header('accept-ranges', 'bytes').header('cache-control', 'private, no-cache')
  reply.header('content-disposition', `attachment; filename="${safeFilename(file.title || d.documentId)}.pdf"`)
  reply.type('application/pdf')
  if (ifNoneMatchHits(req.headers['if-none-match'], file.etag)) return reply.code(304).send()
  const body = await file.open()
  const range = parseRange(req.headers.range, body.size)
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${body.size}`)
    throw new FolioError('range_not_satisfiable')
  }
  if (range) {
    reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${body.size}`)
    reply.header('content-length', range.end - range.start + 1)
    return reply.send(await body.stream(range))
  }
  reply.header('content-length', body.size)
  return reply.send(await body.stream())
}

function safeFilename(s: string): string {
  return s.replace(/\.pdf$/i, '').replace(/[^A-Za-z0-9 ._-]/g, '_').slice(0, 120) || 'document'
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m || (m[1] === '' && m[2] === '')) return undefined // not a single byte range: send it all
  let start: number
  let end: number
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]))
    end = size - 1
  } else {
    start = Number(m[1])
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  }
  if (start > end || start >= size) return 'unsatisfiable'
  return { start, end }
}
