/**
 * Documents over the server API (spec §3). Routes parse and authorise (the surface did the
 * token), the document service decides, and replies are wrapped in `{"data": ...}`.
 * Operation ids are Document Engine's where it has the route (shared/reference).
 */
import { findValueProblem } from '../../db/text.js'
import { refuseUnstorable } from '../input-guard.js'
import multipart from '@fastify/multipart'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config.js'
import type { AnnotationService } from '../../annotations/service.js'
import type { PdfOpenOptions } from '../../annotations/pdf-file.js'
import { pathDocumentId } from '../../documents/ids.js'
import type { DocumentService } from '../../documents/service.js'
import { FolioError } from '../../errors.js'
import type { StagedFile } from '../../storage/staging.js'
import { mediaType } from '../media.js'
import { data, dataSchema, errors } from '../reply.js'

const PDF_TYPES = ['application/pdf', 'application/octet-stream'] as const
const UPLOAD_TYPES = [...PDF_TYPES, 'multipart/form-data', 'application/json'] as const

export const documentIdParam = {
  type: 'object',
  required: ['documentId'],
  properties: { documentId: { type: 'string', maxLength: 256 } },
} as const

const iso = { type: 'string', format: 'date-time' } as const

const createdSchema = {
  type: 'object',
  required: ['document_id', 'title', 'sourcePdfSha256', 'password_protected', 'pageCount', 'byteSize', 'createdAt', 'errors'],
  properties: {
    document_id: { type: 'string' },
    title: { type: 'string' },
    sourcePdfSha256: { type: 'string' },
    password_protected: { type: 'boolean' },
    pageCount: { type: ['integer', 'null'] },
    byteSize: { type: 'integer' },
    createdAt: iso,
    errors: { type: 'array', items: {} },
  },
} as const

const summarySchema = {
  type: 'object',
  required: ['id', 'title', 'byteSize', 'sourcePdfSha256', 'passwordProtected', 'createdAt'],
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    byteSize: { type: 'integer' },
    sourcePdfSha256: { type: 'string' },
    passwordProtected: { type: 'boolean' },
    createdAt: iso,
  },
} as const

const propertiesSchema = {
  type: 'object',
  required: ['document_id', 'title', 'byteSize', 'sourcePdfSha256', 'passwordProtected', 'createdAt', 'updatedAt', 'storage'],
  properties: {
    document_id: { type: 'string' },
    title: { type: 'string' },
    byteSize: { type: 'integer' },
    sourcePdfSha256: { type: 'string' },
    passwordProtected: { type: 'boolean' },
    createdAt: iso,
    updatedAt: iso,
    storage: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } },
  },
} as const

export const infoSchema = {
  type: 'object',
  required: ['document_id', 'title', 'pageCount', 'pages'],
  properties: {
    document_id: { type: 'string' },
    title: { type: 'string' },
    pageCount: { type: 'integer' },
    pages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['pageIndex', 'width', 'height', 'rotation'],
        properties: {
          pageIndex: { type: 'integer' },
          width: { type: 'number', description: 'points, before rotation' },
          height: { type: 'number', description: 'points, before rotation' },
          rotation: { type: 'integer', enum: [0, 90, 180, 270] },
        },
      },
    },
  },
} as const

const TAGS = ['Documents']

function boolField(v: unknown): boolean {
  return v === true || v === 'true' || v === '1'
}

export async function documentRoutes(app: FastifyInstance, deps: { config: Config; documents: DocumentService; annotations?: Pick<AnnotationService, 'pdf'> }) {
  const { documents, config } = deps

  // Streams of raw PDF bytes reach the handler unread: the service stages them with the limit.
  for (const type of PDF_TYPES) {
    app.addContentTypeParser(type, (_req, payload, done) => done(null, payload))
  }
  await app.register(multipart, {
    limits: {
      fileSize: config.maxUploadBytes + 1, // the stager enforces the exact limit and names it
      files: 1,
      fields: 10,
      fieldSize: 64 * 1024,
      parts: 12,
      headerPairs: 50,
    },
  })

  app.post('/documents', {
    config: { accepts: UPLOAD_TYPES },
    schema: {
      operationId: 'upload-document',
      summary: 'Create a document',
      description:
        'Upload a PDF as the raw body (`application/pdf`; `?document_id=`, `?title=`, `?overwrite_existing_document=` in the query), ' +
        'as `multipart/form-data` (part `file`, fields `document_id`, `title`, `overwrite_existing_document`), ' +
        'or JSON `{"url", "document_id"?, "title"?, "sha256"?}` (or a multipart `url` field) for a remote document: ' +
        'needs ALLOW_REMOTE_DOCUMENTS=true; fetched under REMOTE_URL_FETCH_POLICY (see docs/security.md).',
      tags: TAGS,
      querystring: {
        type: 'object',
        properties: {
          document_id: { type: 'string', maxLength: 256 },
          title: { type: 'string', maxLength: 1024 },
          overwrite_existing_document: { type: 'boolean' },
        },
      },
      response: { 200: dataSchema(createdSchema), ...errors(400, 401, 403, 409, 413, 415, 422, 502) },
    },
  }, async (req) => {
    const type = mediaType(req)
    const q = req.query as { document_id?: string; title?: string; overwrite_existing_document?: boolean }
    if (type === 'application/json') return data(await createFromJson(req.body, q.overwrite_existing_document))
    if (type === 'multipart/form-data') return data(await createFromMultipart(req))
    if (type === undefined) throw new FolioError('empty_body', {}, { message: 'Send the PDF as the request body' })
    return data(await documents.create({
      source: req.body as NodeJS.ReadableStream & AsyncIterable<Uint8Array>,
      documentId: q.document_id,
      title: q.title,
      overwrite: q.overwrite_existing_document === true,
    }))
  })

  /**
   * A remote document (spec §6): JSON `{"url", "document_id"?, "title"?, "sha256"?,
   * "overwrite_existing_document"?}` or the same as multipart fields. Other Document Engine
   * fields (`storage`, `copy_asset_to_storage_backend` …) are ignored: Folio always stores a copy.
   */
  async function createFromJson(body: unknown, overwriteQuery: boolean | undefined) {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new FolioError('bad_request', {}, { message: 'The JSON body must be an object with a "url"' })
    }
    const b = body as Record<string, unknown>
    if (typeof b.url !== 'string') throw new FolioError('bad_request', { field: 'body/url' }, { message: 'body.url must be a string' })
    for (const field of ['document_id', 'title', 'sha256'] as const) {
      if (b[field] !== undefined && typeof b[field] !== 'string') {
        throw new FolioError('bad_request', { field: `body/${field}` }, { message: `body.${field} must be a string` })
      }
    }
    const overwrite = b.overwrite_existing_document ?? overwriteQuery ?? false
    if (typeof overwrite !== 'boolean') {
      throw new FolioError('bad_request', { field: 'body/overwrite_existing_document' }, { message: 'body.overwrite_existing_document must be a boolean' })
    }
    if (!config.remote.allowed) throw new FolioError('remote_documents_disabled')
    return documents.createFromUrl({
      url: b.url,
      documentId: b.document_id as string | undefined,
      title: b.title as string | undefined,
      sha256: b.sha256 as string | undefined,
      overwrite,
    })
  }

  async function createFromMultipart(req: FastifyRequest) {
    const fields: Record<string, string> = {}
    let staged: StagedFile | undefined
    let filename: string | undefined
    try {
      for await (const part of req.parts()) {
        if (part.type === 'file') {
          if (part.fieldname !== 'file' || staged) {
            part.file.resume()
            throw new FolioError('bad_request', {}, { message: `Unexpected file part "${part.fieldname}"; send the PDF as part "file"` })
          }
          staged = await documents.stage(part.file)
          filename = part.filename
        } else {
          fields[part.fieldname] = String(part.value)
        }
      }
      // Multipart fields are parsed here, after the boundary's check of JSON bodies.
      refuseUnstorable(findValueProblem({ ...fields, ...(filename !== undefined ? { filename } : {}) }, 'multipart'))
      if (fields.url !== undefined) {
        if (staged) throw new FolioError('bad_request', {}, { message: 'Send either a "file" part or a "url" field, not both' })
        const overwrite = boolField(fields.overwrite_existing_document)
        return await createFromJson({ url: fields.url, document_id: fields.document_id, title: fields.title, sha256: fields.sha256 }, overwrite)
      }
      if (!staged) throw new FolioError('bad_request', {}, { message: 'The multipart body has no "file" part' })
      const created = await documents.createFromStaged({
        staged,
        documentId: fields.document_id,
        title: fields.title ?? filename,
        overwrite: boolField(fields.overwrite_existing_document),
      })
      staged = undefined
      return created
    } finally {
      await staged?.discard()
    }
  }

  app.get('/documents', {
    schema: {
      operationId: 'list-documents',
      summary: 'List documents',
      tags: TAGS,
      querystring: {
        type: 'object',
        properties: {
          page_size: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
          cursor: { type: 'string', maxLength: 2048 },
          title: { type: 'string', maxLength: 1024 },
          order_by: { type: 'string', enum: ['created_at', 'title'], default: 'created_at' },
          order_direction: { type: 'string', enum: ['asc', 'desc'], default: 'desc' },
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['data', 'next_cursor', 'prev_cursor', 'document_count'],
          properties: {
            data: { type: 'array', items: summarySchema },
            next_cursor: { type: ['string', 'null'] },
            prev_cursor: { type: ['string', 'null'] },
            document_count: { type: 'integer' },
          },
        },
        ...errors(400, 401),
      },
    },
  }, async (req) => {
    const q = req.query as { page_size: number; cursor?: string; title?: string; order_by: 'created_at' | 'title'; order_direction: 'asc' | 'desc' }
    return documents.list({ pageSize: q.page_size, cursor: q.cursor, title: q.title, orderBy: q.order_by, direction: q.order_direction })
  })

  app.delete('/documents', {
    schema: {
      operationId: 'bulk-delete-documents',
      summary: 'Delete the documents matching a filter (at least one filter)',
      tags: TAGS,
      querystring: {
        type: 'object',
        properties: {
          document_id: { type: 'string', maxLength: 256 },
          title: { type: 'string', maxLength: 1024 },
          start_date: iso,
          end_date: iso,
        },
      },
      response: {
        200: dataSchema({
          type: 'object',
          required: ['deleted_count', 'skipped_count', 'total_matched'],
          properties: { deleted_count: { type: 'integer' }, skipped_count: { type: 'integer' }, total_matched: { type: 'integer' } },
        }),
        ...errors(400, 401),
      },
    },
  }, async (req) => {
    const q = req.query as { document_id?: string; title?: string; start_date?: string; end_date?: string }
    if (q.document_id === undefined && q.title === undefined && q.start_date === undefined && q.end_date === undefined) {
      throw new FolioError('missing_filter', {}, { message: 'Give at least one of document_id, title, start_date, end_date' })
    }
    return data(await documents.bulkRemove({
      documentId: q.document_id,
      title: q.title,
      startDate: q.start_date ? new Date(q.start_date) : undefined,
      endDate: q.end_date ? new Date(q.end_date) : undefined,
    }))
  })

  app.get('/documents/:documentId/document_info', {
    schema: {
      operationId: 'fetch-document-info',
      summary: 'Page count and page sizes (points) and rotations',
      tags: TAGS,
      params: documentIdParam,
      response: { 200: dataSchema(infoSchema), ...errors(401, 404, 422) },
    },
  }, async (req) => data(await documents.info(pathDocumentId((req.params as { documentId: string }).documentId))))

  app.get('/documents/:documentId/properties', {
    schema: {
      operationId: 'fetch-document-properties',
      summary: 'Stored facts about a document',
      tags: TAGS,
      params: documentIdParam,
      response: { 200: dataSchema(propertiesSchema), ...errors(401, 404) },
    },
  }, async (req) => data(await documents.properties(pathDocumentId((req.params as { documentId: string }).documentId))))

  app.patch('/documents/:documentId/properties', {
    schema: {
      operationId: 'update-document-properties',
      summary: "Change a document's title",
      tags: TAGS,
      params: documentIdParam,
      body: {
        type: 'object',
        required: ['title'],
        additionalProperties: false,
        properties: { title: { type: 'string', maxLength: 1024 } },
      },
      response: { 200: dataSchema(propertiesSchema), ...errors(400, 401, 404, 415) },
    },
  }, async (req) => {
    const id = pathDocumentId((req.params as { documentId: string }).documentId)
    return data(await documents.setTitle(id, (req.body as { title: string }).title))
  })

  app.delete('/documents/:documentId', {
    schema: {
      operationId: 'delete-document',
      summary: 'Delete a document, its annotations and (when no other document shares it) its file',
      tags: TAGS,
      params: documentIdParam,
      response: { 200: dataSchema({ type: 'object', additionalProperties: false }), ...errors(401, 404) },
    },
  }, async (req) => {
    await documents.remove(pathDocumentId((req.params as { documentId: string }).documentId))
    return data({})
  })

  app.get('/documents/:documentId/pdf', {
    schema: {
      operationId: 'download-document-pdf',
      summary: 'Download the PDF with the current annotations written in (`?flatten=true`: burnt into the pages; `?source=true`: the original bytes)',
      tags: TAGS,
      params: documentIdParam,
      querystring: {
        type: 'object',
        properties: { source: { type: 'boolean', default: false }, flatten: { type: 'boolean', default: false } },
      },
      response: { 200: { description: 'application/pdf', type: 'string', format: 'binary' }, ...errors(400, 401, 404, 416, 422) },
    },
  }, async (req, reply) => {
    const id = pathDocumentId((req.params as { documentId: string }).documentId)
    const q = req.query as { source: boolean; flatten: boolean }
    // With annotations (issue #5) the current PDF is the source plus the default layer's annotations.
    if (deps.annotations) return sendExportedPdf(req, reply, deps.annotations, id, { layer: '', flatten: q.flatten, source: q.source })
    return sendPdf(req, reply, documents, id, q.source)
  })
}

/**
 * Sends a document's PDF with a strong ETag (the sha256) and single-range support, so viewers
 * can fetch parts of a large file. Shared with the client surfaces (download permission).
 */
export async function sendPdf(req: FastifyRequest, reply: FastifyReply, documents: DocumentService, id: string, source: boolean) {
  const head = await documents.openPdf(id, { source, range: undefined })
  const etag = `"${head.sha256}"`
  reply.header('etag', etag).header('accept-ranges', 'bytes').header('cache-control', 'private, no-cache')
  reply.header('content-disposition', `attachment; filename="${safeFilename(head.title || id)}.pdf"`)
  reply.type('application/pdf')
  if (req.headers['if-none-match'] === etag) {
    head.stream.destroy()
    return reply.code(304).send()
  }
  const range = parseRange(req.headers.range, head.size)
  if (range === 'unsatisfiable') {
    head.stream.destroy()
    reply.header('content-range', `bytes */${head.size}`)
    throw new FolioError('range_not_satisfiable')
  }
  if (range) {
    head.stream.destroy()
    const part = await documents.openPdf(id, { source, range })
    reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${head.size}`)
    reply.header('content-length', range.end - range.start + 1)
    return reply.send(part.stream)
  }
  reply.header('content-length', head.size)
  return reply.send(head.stream)
}

/**
 * Sends the exported PDF (annotations written in, issue #5) with a strong ETag derived from
 * the source and the annotation state, and single-range support over source + update.
 * Shared with the client surfaces (`download` permission, the JWT's layer).
 */
export async function sendExportedPdf(
  req: FastifyRequest,
  reply: FastifyReply,
  annotations: Pick<AnnotationService, 'pdf'>,
  id: string,
  opts: PdfOpenOptions,
) {
  const file = await annotations.pdf(id, opts)
  reply.header('etag', file.etag).header('accept-ranges', 'bytes').header('cache-control', 'private, no-cache')
  reply.header('content-disposition', `attachment; filename="${safeFilename(file.title || id)}.pdf"`)
  reply.type('application/pdf')
  if (req.headers['if-none-match'] === file.etag) return reply.code(304).send()
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
