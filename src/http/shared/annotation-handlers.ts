/**
 * Request → annotation service, shared by the server API (`/api/documents/:id[/layers/:layer]/…`,
 * the API as actor, the layer from the path) and the client surfaces (`/i/d/:id/…`,
 * `/documents/:id/…`, the JWT's user_id and layer). Each handler gets a Target naming the
 * document, layer and actor, so neither surface can write anywhere else.
 * Shapes: spec §3 (Document Engine's, with the `{"data": …}` envelope).
 */
import { Readable } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { pathAnnotationId } from '../../annotations/ids.js'
import { parseIfMatch, type Actor, type AnnotationService, type WriteItem } from '../../annotations/service.js'
import { findValueProblem } from '../../db/text.js'
import { FolioError } from '../../errors.js'
import { refuseUnstorable } from '../input-guard.js'
import { data } from '../reply.js'
import { sendEventStream } from '../sse.js'

export interface Target {
  documentId: string
  /** '' is the default layer. */
  layer: string
  actor: Actor
}

const NDJSON = 'application/x-ndjson'

function wantsNdjson(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? ''
  return accept.split(',').some((part) => part.split(';')[0]!.trim().toLowerCase() === NDJSON)
}

function bodyObject(req: FastifyRequest): Record<string, unknown> {
  const b = req.body
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new FolioError('bad_request', { field: 'body' }, { message: 'The body must be a JSON object' })
  return b as Record<string, unknown>
}

/** GET …/annotations: JSON capped at 1000 with `truncated`, or every annotation as NDJSON. */
export async function listAnnotations(req: FastifyRequest, reply: FastifyReply, svc: AnnotationService, t: Target) {
  if (wantsNdjson(req)) {
    await svc.assertDocument(t.documentId)
    async function* lines() {
      for await (const record of svc.all(t.documentId, t.layer)) yield `${JSON.stringify(record)}\n`
    }
    return reply.type(NDJSON).send(Readable.from(lines()))
  }
  return data(await svc.list(t.documentId, t.layer))
}

/** POST …/annotations: one (`{content, id?, user_id?, group?}`) or many (`{annotations: [...]}`). */
export async function createAnnotations(req: FastifyRequest, svc: AnnotationService, t: Target) {
  const body = bodyObject(req)
  if (body.annotations !== undefined) {
    if (!Array.isArray(body.annotations)) throw new FolioError('bad_request', { field: 'body.annotations' }, { message: 'body.annotations must be an array' })
    return data(await svc.create(t.documentId, t.layer, t.actor, body.annotations as WriteItem[], { batch: true }))
  }
  const [record] = await svc.create(t.documentId, t.layer, t.actor, [body as WriteItem], { batch: false })
  return data({ annotation_id: record!.id, ...record! })
}

/** PUT …/annotations: `{annotations: [{id, content, version?, …}]}`, all or nothing. */
export async function replaceAnnotations(req: FastifyRequest, svc: AnnotationService, t: Target) {
  const body = bodyObject(req)
  if (!Array.isArray(body.annotations)) throw new FolioError('bad_request', { field: 'body.annotations' }, { message: 'body.annotations must be an array' })
  return data(await svc.replace(t.documentId, t.layer, t.actor, body.annotations as WriteItem[], { batch: true }))
}

/** DELETE …/annotations: `{annotationIds: [...]}` or `{annotationIds: "all"}`. */
export async function removeAnnotations(req: FastifyRequest, svc: AnnotationService, t: Target) {
  const ids = bodyObject(req).annotationIds
  const valid = ids === 'all' || (Array.isArray(ids) && ids.every((id) => typeof id === 'string' && id.length <= 128))
  if (!valid) throw new FolioError('bad_request', { field: 'body.annotationIds' }, { message: 'body.annotationIds must be "all" or an array of annotation ids' })
  return data({ annotationIds: await svc.remove(t.documentId, t.layer, ids as string[] | 'all') })
}

/** GET …/annotations/:annotationId, with the version as a strong ETag. */
export async function getAnnotation(req: FastifyRequest, reply: FastifyReply, svc: AnnotationService, t: Target, rawId: string) {
  const record = await svc.get(t.documentId, t.layer, pathAnnotationId(rawId))
  reply.header('etag', `"${record.version}"`)
  return data(record)
}

/** PUT …/annotations/:annotationId: replaces the content; based on If-Match or body `version`. */
export async function replaceAnnotation(req: FastifyRequest, reply: FastifyReply, svc: AnnotationService, t: Target, rawId: string) {
  const id = pathAnnotationId(rawId)
  const body = bodyObject(req)
  if (body.id !== undefined && body.id !== id) {
    throw new FolioError('invalid_annotation', { path: '$.id', reason: 'not_allowed' }, { message: '$.id differs from the annotation id in the path' })
  }
  const ifMatch = parseIfMatch(req.headers['if-match'])
  const item: WriteItem = { ...body, id, version: ifMatch ?? body.version }
  const [record] = await svc.replace(t.documentId, t.layer, t.actor, [item], { batch: false })
  reply.header('etag', `"${record!.version}"`)
  return data(record!)
}

/** DELETE …/annotations/:annotationId (If-Match honoured). */
export async function removeAnnotation(req: FastifyRequest, svc: AnnotationService, t: Target, rawId: string) {
  await svc.removeOne(t.documentId, t.layer, pathAnnotationId(rawId), parseIfMatch(req.headers['if-match']))
  return data({})
}

/** GET …/events: live changes of the document and layer as server-sent events. */
export async function annotationEvents(req: FastifyRequest, reply: FastifyReply, svc: AnnotationService, t: Target) {
  await sendEventStream(req, reply, (after, sink) => svc.subscribe(t.documentId, t.layer, after, sink))
  return reply
}

/** GET …/document.json: the layer as an Instant JSON document, streamed. */
export async function instantJson(reply: FastifyReply, svc: AnnotationService, t: Target) {
  await svc.assertDocument(t.documentId)
  return reply.type('application/json; charset=utf-8').send(Readable.from(svc.instantJson(t.documentId, t.layer)))
}

/** POST …/apply_instant_json: JSON body, or multipart with an `instant.json` part. */
export async function applyInstantJson(req: FastifyRequest, svc: AnnotationService, t: Target, maxBytes: number) {
  let doc: unknown = req.body
  if (req.isMultipart()) {
    doc = undefined
    for await (const part of req.parts()) {
      if (part.type !== 'file' || part.fieldname !== 'instant.json') {
        if (part.type === 'file') part.file.resume()
        continue
      }
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of part.file) {
        size += (chunk as Buffer).length
        if (size > maxBytes) throw new FolioError('payload_too_large', { limit: maxBytes }, { message: `instant.json exceeds ${maxBytes} bytes` })
        chunks.push(chunk as Buffer)
      }
      try {
        doc = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        throw new FolioError('invalid_json', {}, { message: 'The instant.json part is not valid JSON' })
      }
    }
    if (doc === undefined) throw new FolioError('bad_request', {}, { message: 'The multipart body has no "instant.json" part' })
    // Parsed here, after the boundary's check of JSON bodies: the same check.
    refuseUnstorable(findValueProblem(doc, 'instant.json'))
  }
  return data(await svc.applyInstantJson(t.documentId, t.layer, t.actor, doc))
}
