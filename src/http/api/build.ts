/**
 * Document editing and the Build API over the server API, with Document Engine's paths and
 * operation ids: POST /api/build, …/apply_instructions (and its layer variant),
 * …/apply_operations, …/pdf_with_operations; and Folio's own …/versions. Routes parse the body
 * (JSON, or multipart with an `instructions`/`operations` part and named file parts, each
 * staged under MAX_UPLOAD_SIZE_BYTES), the build service decides (src/build/service.ts).
 */
import multipart from '@fastify/multipart'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { BuildFiles, BuildService, BuiltFile } from '../../build/service.js'
import type { Config } from '../../config.js'
import { pathDocumentId } from '../../documents/ids.js'
import type { DocumentService } from '../../documents/service.js'
import { FolioError } from '../../errors.js'
import { mediaType } from '../media.js'
import { data, dataSchema, errors } from '../reply.js'
import { documentIdParam } from './documents.js'

const TAGS = ['Document Editing']
const binary = { description: 'the built file', type: 'string', format: 'binary' } as const
const layerParams = {
  type: 'object',
  required: ['documentId', 'layerName'],
  properties: { documentId: { type: 'string', maxLength: 256 }, layerName: { type: 'string', maxLength: 1024 } },
} as const
const propertiesRef = { type: 'object', additionalProperties: true, description: 'DocumentProperties, as GET …/properties' } as const
const anyBody = { description: 'BuildInstructions (JSON), or multipart/form-data with an `instructions` part and named file parts' } as const

export async function buildRoutes(app: FastifyInstance, deps: { config: Config; documents: DocumentService; build: BuildService }) {
  const { config, documents, build } = deps
  await app.register(multipart, {
    limits: {
      fileSize: config.maxUploadBytes + 1, // the stager enforces the exact limit and names it
      files: config.build.maxParts * 2 + 2,
      fields: 4,
      fieldSize: 4 * 1024 * 1024,
      parts: config.build.maxParts * 2 + 6,
      headerPairs: 50,
    },
  })

  /** JSON body, or multipart: the JSON under `field` (a field or a file part) and the other file parts by name. */
  async function readBody(req: FastifyRequest, field: 'instructions' | 'operations'): Promise<{ value: unknown; files: BuildFiles }> {
    const files: BuildFiles = new Map()
    if (mediaType(req) !== 'multipart/form-data') {
      if (req.body === undefined || req.body === null) throw new FolioError('empty_body', {}, { message: `Send the ${field} as JSON` })
      const b = req.body as Record<string, unknown>
      // Both `{"parts": …}` and `{"instructions": {"parts": …}}` are sent by Document Engine clients.
      if (field === 'instructions') return { value: typeof b === 'object' && b.parts === undefined && b.instructions !== undefined ? b.instructions : b, files }
      return { value: typeof b === 'object' && b !== null ? b.operations : undefined, files }
    }
    let json: string | undefined
    try {
      for await (const part of req.parts()) {
        if (part.fieldname === field) {
          json = part.type === 'file' ? (await part.toBuffer()).toString('utf8') : String(part.value)
          continue
        }
        if (part.type !== 'file') continue
        if (files.has(part.fieldname)) {
          part.file.resume()
          throw new FolioError('invalid_instructions', { field: part.fieldname, reason: 'duplicate_part' }, { message: `Two multipart parts are named "${part.fieldname}"` })
        }
        files.set(part.fieldname, await documents.stage(part.file))
      }
      if (json === undefined) throw new FolioError('invalid_instructions', { field, reason: 'missing' }, { message: `The multipart body has no "${field}" part` })
      try {
        const parsed: unknown = JSON.parse(json)
        return { value: field === 'operations' && parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as { operations?: unknown }).operations : parsed, files }
      } catch {
        throw new FolioError('invalid_instructions', { field, reason: 'invalid_json' }, { message: `The "${field}" part is not valid JSON` })
      }
    } catch (e) {
      await discard(files)
      throw e
    }
  }

  async function discard(files: BuildFiles): Promise<void> {
    await Promise.all([...files.values()].map((f) => f.discard()))
  }

  async function withBody<T>(req: FastifyRequest, field: 'instructions' | 'operations', fn: (value: unknown, files: BuildFiles) => Promise<T>): Promise<T> {
    const { value, files } = await readBody(req, field)
    try {
      return await fn(value, files)
    } finally {
      await discard(files)
    }
  }

  function sendFile(reply: FastifyReply, file: BuiltFile) {
    reply.header('content-disposition', `attachment; filename="${file.filename.replace(/[^A-Za-z0-9 ._-]/g, '_').slice(0, 120)}"`)
    reply.header('content-length', file.size).header('cache-control', 'no-store').type(file.contentType)
    const stream = file.stream()
    const done = () => void file.cleanup()
    stream.once('close', done)
    reply.raw.once('close', done)
    return reply.send(stream)
  }

  const accepts = { accepts: ['application/json', 'multipart/form-data'] }

  app.post('/build', {
    config: accepts,
    schema: {
      operationId: 'build-document',
      summary: 'Process documents and download the result',
      description: 'Build instructions (parts, actions, output) as JSON or multipart; see docs/build.md for what Folio supports.',
      tags: TAGS,
      body: anyBody,
      response: { 200: { description: 'The built file: PDF, image, a zip of images, or for json-content a JSON document {pages: […]}' }, ...errors(400, 401, 404, 413, 415, 422, 429) },
    },
  }, async (req, reply) => {
    const { value, files } = await readBody(req, 'instructions')
    try {
      const out = await build.build(value, files)
      if (out.kind === 'json') return out.body
      return sendFile(reply, out.file)
    } finally {
      await discard(files)
    }
  })

  const applySchema = (operationId: string, params: object) => ({
    config: accepts,
    schema: {
      operationId,
      summary: 'Process the document with build instructions and persist the result',
      description: 'Parts may refer to the document as {"document": {"id": "#self"}}; its annotations (every layer) follow their pages. The replaced state is kept as a version (GET …/versions).',
      tags: TAGS,
      params,
      body: anyBody,
      response: { 200: dataSchema(propertiesRef), ...errors(400, 401, 404, 409, 413, 415, 422, 429) },
    },
  })

  app.post('/documents/:documentId/apply_instructions', applySchema('document-apply-instructions', documentIdParam), async (req) => {
    const id = pathDocumentId((req.params as { documentId: string }).documentId)
    return data(await withBody(req, 'instructions', (v, files) => build.applyInstructions(id, '', v, files)))
  })

  app.post('/documents/:documentId/layers/:layerName/apply_instructions', applySchema('document-layer-apply-instructions', layerParams), async (req) => {
    const p = req.params as { documentId: string; layerName: string }
    const id = pathDocumentId(p.documentId)
    return data(await withBody(req, 'instructions', (v, files) => build.applyInstructions(id, p.layerName, v, files)))
  })

  const operationsBody = {
    description: '{"operations": [DocumentOperation…]} as JSON, or multipart with an `operations` part and the files importDocument/applyInstantJson name',
  } as const

  app.post('/documents/:documentId/apply_operations', {
    config: accepts,
    schema: {
      operationId: 'edit-and-persist-document-pdf',
      summary: 'Edit the document and persist the result',
      tags: TAGS,
      params: documentIdParam,
      body: operationsBody,
      response: { 200: dataSchema(propertiesRef), ...errors(400, 401, 404, 409, 413, 415, 422, 429) },
    },
  }, async (req) => {
    const id = pathDocumentId((req.params as { documentId: string }).documentId)
    return data(await withBody(req, 'operations', (v, files) => build.applyOperations(id, v, files)))
  })

  app.post('/documents/:documentId/pdf_with_operations', {
    config: accepts,
    schema: {
      operationId: 'edit-and-download-document-pdf',
      summary: 'Edit the document and download it (the stored document is unchanged)',
      tags: TAGS,
      params: documentIdParam,
      body: operationsBody,
      response: { 200: binary, ...errors(400, 401, 404, 413, 415, 422, 429) },
    },
  }, async (req, reply) => {
    const id = pathDocumentId((req.params as { documentId: string }).documentId)
    const { value, files } = await readBody(req, 'operations')
    try {
      return sendFile(reply, await build.pdfWithOperations(id, value, files))
    } finally {
      await discard(files)
    }
  })

  /** Multipart with an `instant.json` part (any other parts are ignored). */
  async function instantJsonFiles(req: FastifyRequest): Promise<BuildFiles> {
    const files: BuildFiles = new Map()
    if (mediaType(req) !== 'multipart/form-data') return files
    try {
      for await (const part of req.parts()) {
        if (part.type !== 'file') continue
        if (part.fieldname !== 'instant.json' || files.has(part.fieldname)) {
          part.file.resume()
          continue
        }
        files.set(part.fieldname, await documents.stage(part.file))
      }
      return files
    } catch (e) {
      await discard(files)
      throw e
    }
  }

  for (const [prefix, params, suffix] of [
    ['/documents/:documentId', documentIdParam, ''],
    ['/documents/:documentId/layers/:layerName', layerParams, '-layer'],
  ] as const) {
    const target = (req: FastifyRequest) => {
      const p = req.params as { documentId: string; layerName?: string }
      return { id: pathDocumentId(p.documentId), layer: p.layerName ?? '' }
    }
    app.post(`${prefix}/pdf_with_instant_json`, {
      config: { accepts: ['multipart/form-data'] },
      schema: {
        operationId: suffix ? 'download-document-layer-with-instant-json' : 'download-document-with-instant-json',
        summary: 'Download the PDF with the layer\'s annotations and an uploaded Instant JSON (`instant.json` part) applied; nothing is stored',
        tags: TAGS,
        params,
        response: { 200: binary, ...errors(400, 401, 404, 413, 415, 422, 429) },
      },
    }, async (req, reply) => {
      const t = target(req)
      const files = await instantJsonFiles(req)
      try {
        return sendFile(reply, await build.pdfWithInstantJson(t.id, t.layer, files))
      } finally {
        await discard(files)
      }
    })
    app.post(`${prefix}/copy_with_instant_json`, {
      config: { accepts: ['multipart/form-data', 'application/json'] },
      schema: {
        operationId: suffix ? 'copy-document-layer-with-instant-json' : 'copy-document-with-instant-json',
        summary: 'Copy the document (file and layers) and import an uploaded Instant JSON (`instant.json` part) into the layer of the copy',
        tags: TAGS,
        params,
        // Documentation only: the body is read by readBody (an Instant JSON document, or multipart with an `instant.json` part).
        requestBodies: { 'application/json': { type: 'object', description: 'An Instant JSON document (https://pspdfkit.com/instant-json/v1)' } },
        response: {
          200: dataSchema({
            type: 'object',
            required: ['documentId', 'createdAt', 'errors', 'password_protected', 'sourcePdfSha256', 'title'],
            properties: {
              documentId: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' }, errors: { type: 'array', items: {} },
              password_protected: { type: 'boolean' }, sourcePdfSha256: { type: 'string' }, title: { type: 'string' },
            },
          }),
          ...errors(400, 401, 404, 413, 415, 422),
        },
      },
    }, async (req) => {
      const t = target(req)
      const files = await instantJsonFiles(req)
      try {
        return data(await build.copyWithInstantJson(t.id, t.layer, files))
      } finally {
        await discard(files)
      }
    })
  }

  const versionSchema = {
    type: 'object',
    required: ['version', 'current', 'byteSize', 'sha256', 'createdAt'],
    properties: {
      version: { type: 'integer' },
      current: { type: 'boolean' },
      title: { type: 'string' },
      byteSize: { type: 'integer' },
      sha256: { type: 'string' },
      pageCount: { type: ['integer', 'null'] },
      annotationCount: { type: ['integer', 'null'] },
      createdAt: { type: 'string', format: 'date-time' },
      replacedAt: { type: ['string', 'null'], format: 'date-time' },
      replacedBy: { type: ['string', 'null'] },
    },
  } as const

  app.get('/documents/:documentId/versions', {
    schema: {
      operationId: 'list-document-versions',
      summary: "The document's current and kept previous versions (Folio's addition)",
      tags: TAGS,
      params: documentIdParam,
      response: { 200: dataSchema({ type: 'array', items: versionSchema }), ...errors(401, 404) },
    },
  }, async (req) => data(await build.versions(pathDocumentId((req.params as { documentId: string }).documentId))))

  app.post('/documents/:documentId/versions/:version/restore', {
    schema: {
      operationId: 'restore-document-version',
      summary: 'Make a kept version current again, file and annotations (Folio\'s addition)',
      tags: TAGS,
      params: {
        type: 'object',
        required: ['documentId', 'version'],
        properties: { documentId: { type: 'string', maxLength: 256 }, version: { type: 'integer', minimum: 1, maximum: 2_147_483_647 } },
      },
      response: { 200: dataSchema(propertiesRef), ...errors(400, 401, 404, 409) },
    },
  }, async (req) => {
    const p = req.params as { documentId: string; version: number }
    return data(await build.restoreVersion(pathDocumentId(p.documentId), p.version))
  })
}
