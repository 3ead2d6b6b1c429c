/**
 * Documents over the server API (spec §3). Routes parse and authorise (the surface did the
 * token), the document service decides, and replies are wrapped in `{"data": ...}`.
 * Operation ids are Document Engine's where it has the route (shared/reference).
 */
import { findValueProblem } from '../../db/text.js'
import { refuseUnstorable } from '../input-guard.js'
import multipart from '@fastify/multipart'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../../config.js'
import type { AnnotationService } from '../../annotations/service.js'
import { pathDocumentId } from '../../documents/ids.js'
import type { DocumentService } from '../../documents/service.js'
import { FolioError } from '../../errors.js'
import type { UploadPart } from '../../documents/service.js'
import { mediaType } from '../media.js'
import { BINARY, pdfResponses } from '../openapi.js'
import { data, dataSchema, errors } from '../reply.js'
import { pdfQuerySchema, sendDocumentPdf } from '../shared/pdf-download.js'

const PDF_TYPES = ['application/pdf', 'application/octet-stream'] as const
const UPLOAD_TYPES = [...PDF_TYPES, 'multipart/form-data', 'application/json'] as const

export const documentIdParam = {
  type: 'object',
  required: ['documentId'],
  properties: { documentId: { type: 'string', maxLength: 256 } },
} as const

const iso = { type: 'string', format: 'date-time' } as const
/** `document_id` and `title` in a query (upload, bulk delete). */
const idAndTitleQuery = {
  document_id: { type: 'string', maxLength: 256 },
  title: { type: 'string', maxLength: 1024 },
} as const

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

/** What a listing and the properties both say about a document, in this order. */
const documentFacts = {
  title: { type: 'string' },
  byteSize: { type: 'integer' },
  sourcePdfSha256: { type: 'string' },
  passwordProtected: { type: 'boolean' },
  createdAt: iso,
} as const
const FACTS = ['title', 'byteSize', 'sourcePdfSha256', 'passwordProtected', 'createdAt'] as const

const summarySchema = {
  type: 'object',
  required: ['id', ...FACTS],
  properties: { id: { type: 'string' }, ...documentFacts },
} as const

const propertiesSchema = {
  type: 'object',
  required: ['document_id', ...FACTS, 'updatedAt', 'storage'],
  properties: {
    document_id: { type: 'string' },
    ...documentFacts,
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

/**
 * A remote document (spec §6) as JSON. Other Document Engine fields (`storage`,
 * `copy_asset_to_storage_backend` …) are accepted and ignored: Folio always stores a copy.
 */
const urlUploadSchema = {
  type: 'object',
  required: ['url'],
  properties: {
    url: { type: 'string' },
    document_id: { type: 'string' },
    title: { type: 'string' },
    sha256: { type: 'string' },
    overwrite_existing_document: { type: 'boolean' },
  },
} as const

interface UrlUploadBody { url: string; document_id?: string; title?: string; sha256?: string; overwrite_existing_document?: boolean }

/** The parts of a multipart body, as the documents room reads them (no fastify types there). */
async function* uploadParts(req: FastifyRequest): AsyncGenerator<UploadPart> {
  for await (const part of req.parts()) {
    // Multipart fields are parsed here, after the boundary's check of JSON bodies: the same rule.
    if (part.type === 'file') {
      if (part.filename !== undefined) refuseUnstorable(findValueProblem({ filename: part.filename }, 'multipart'))
      yield { kind: 'file', field: part.fieldname, filename: part.filename, stream: part.file }
    } else {
      const value = String(part.value)
      refuseUnstorable(findValueProblem({ [part.fieldname]: value }, 'multipart'))
      yield { kind: 'field', field: part.fieldname, value }
    }
  }
}

export async function documentRoutes(app: FastifyInstance, deps: { config: Config; documents: DocumentService; annotations: Pick<AnnotationService, 'pdf'> }) {
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
      // Documentation only: these bodies are streamed to the stager, never parsed as a whole.
      requestBodies: {
        'multipart/form-data': {
          type: 'object',
          properties: {
            file: { ...BINARY, description: 'the PDF' },
            url: { type: 'string', format: 'uri', description: 'instead of file: a remote document (ALLOW_REMOTE_DOCUMENTS)' },
            document_id: { type: 'string', maxLength: 256 },
            title: { type: 'string', maxLength: 1024 },
            overwrite_existing_document: { type: 'boolean' },
          },
        },
        'application/json': {
          type: 'object',
          required: ['url'],
          properties: {
            url: { type: 'string', format: 'uri', description: 'the remote document (ALLOW_REMOTE_DOCUMENTS)' },
            document_id: { type: 'string', maxLength: 256 },
            title: { type: 'string', maxLength: 1024 },
            sha256: { type: 'string', maxLength: 64, description: 'the expected SHA-256 of the file, hex' },
          },
        },
      },
      querystring: {
        type: 'object',
        properties: { ...idAndTitleQuery, overwrite_existing_document: { type: 'boolean' } },
      },
      // Only the JSON form has a body to validate; PDF and multipart bodies are streams.
      body: { content: { 'application/json': { schema: urlUploadSchema } } },
      response: { 200: dataSchema(createdSchema), ...errors(400, 401, 403, 409, 413, 415, 422, 502) },
    },
  }, async (req) => {
    const type = mediaType(req)
    const q = req.query as { document_id?: string; title?: string; overwrite_existing_document?: boolean }
    if (type === 'application/json') {
      const b = req.body as UrlUploadBody
      return data(await documents.createFromUrl({
        url: b.url,
        documentId: b.document_id,
        title: b.title,
        sha256: b.sha256,
        overwrite: b.overwrite_existing_document ?? q.overwrite_existing_document ?? false,
      }))
    }
    if (type === 'multipart/form-data') return data(await documents.createFromParts(uploadParts(req)))
    if (type === undefined) throw new FolioError('empty_body', {}, { message: 'Send the PDF as the request body' })
    return data(await documents.create({
      source: req.body as NodeJS.ReadableStream & AsyncIterable<Uint8Array>,
      documentId: q.document_id,
      title: q.title,
      overwrite: q.overwrite_existing_document === true,
    }))
  })

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
        properties: { ...idAndTitleQuery, start_date: iso, end_date: iso },
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
      querystring: pdfQuerySchema,
      response: { ...pdfResponses, ...errors(400, 401, 404, 416, 422) },
    },
  }, async (req, reply) => {
    const id = pathDocumentId((req.params as { documentId: string }).documentId)
    const q = req.query as { source: boolean; flatten: boolean }
    // The current PDF is the source plus the default layer's annotations.
    return sendDocumentPdf(req, reply, deps, { documentId: id, layer: '', flatten: q.flatten, source: q.source })
  })
}
