/**
 * Page image and page text over HTTP (spec §3 and §7), written once for every surface: /api
 * and the client surfaces (/i/d/:id/..., /documents/:id/..., and the cover) parse their request
 * into a typed input and call the same functions after their own credential and permission
 * checks. Here: format negotiation, If-None-Match, the `{"data"}` envelope of the text.
 *
 *   app.get('/d/:documentId/pages/:pageIndex/image', { schema: pageImageSchema('…') },
 *     async (req, reply) => sendPageImage(req, reply, deps, { ...pageImageInput(req), layer: grant.layer ?? '' }))
 *   // the cover (spec §7): page 0, no annotations, its own query schema (adds `jwt`)
 */
import { Readable } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { pathDocumentId } from '../../documents/ids.js'
import { FolioError } from '../../errors.js'
import { IMAGE_FORMATS, type ImageFormat } from '../../render/encode.js'
import { MAX_DIMENSION, type Rendition, type RenderService } from '../../render/service.js'
import { BINARY, mediaResponse } from '../openapi.js'
import { errors } from '../reply.js'
import { ifNoneMatchHits } from './etag.js'

export interface PageRouteDeps {
  render: RenderService
}

/** What a page image request asks, parsed from the route's params and query. */
export interface PageImageInput {
  documentId: string
  pageIndex: number
  width?: number
  height?: number
  format?: ImageFormat
  /** false: the page without any annotation. */
  annotations: boolean
  /** Whose annotations ('' = the default layer). */
  layer: string
  /** Opens an encrypted PDF (render/password.ts). */
  password?: string
}

export interface PageTextInput {
  documentId: string
  pageIndex: number
  /** Opens an encrypted PDF (render/password.ts). */
  password?: string
}

/** The input of the page routes `…/pages/:pageIndex/image` (after pageImageSchema validated them). */
export function pageImageInput(req: FastifyRequest, layer = ''): PageImageInput {
  const p = req.params as { documentId: string; pageIndex: number }
  const q = req.query as { width?: number; height?: number; format?: ImageFormat; annotations: boolean }
  return { documentId: p.documentId, pageIndex: p.pageIndex, width: q.width, height: q.height, format: q.format, annotations: q.annotations, layer }
}

export function pageTextInput(req: FastifyRequest): PageTextInput {
  const p = req.params as { documentId: string; pageIndex: number }
  return { documentId: p.documentId, pageIndex: p.pageIndex }
}

const TAGS = ['Documents']

export const pageParamsSchema = {
  type: 'object',
  required: ['documentId', 'pageIndex'],
  properties: {
    documentId: { type: 'string', maxLength: 256 },
    pageIndex: { type: 'integer', minimum: 0, description: 'zero-based; past the last page: 404 page_not_found' },
  },
} as const

export const pageImageQuerySchema = {
  type: 'object',
  properties: {
    width: { type: 'number', minimum: 1, maximum: MAX_DIMENSION, description: 'pixels; exactly one of width and height' },
    height: { type: 'number', minimum: 1, maximum: MAX_DIMENSION, description: 'pixels; exactly one of width and height' },
    format: { type: 'string', enum: [...IMAGE_FORMATS], description: 'wins over Accept; default png' },
    annotations: { type: 'boolean', default: true, description: 'false: the page without any annotation' },
  },
} as const

/** A route schema for the page image; `operationId` is Document Engine's on /api. */
export function pageImageSchema(operationId: string, extra: { querystring?: object; params?: object } = {}) {
  return {
    operationId,
    summary: 'Render a page as PNG, JPEG or WebP',
    description:
      'Exactly one of `width` and `height` (pixels, ≤ 5000; the other follows the page\'s aspect, rotation applied). ' +
      'Format from `?format=`, else from `Accept` (image/png, image/jpeg, image/webp), else PNG. ' +
      'Served with a strong ETag and `Cache-Control: private, no-cache`: send `If-None-Match` to revalidate.',
    tags: TAGS,
    params: extra.params ?? pageParamsSchema,
    querystring: extra.querystring ?? pageImageQuerySchema,
    response: {
      200: mediaResponse('the page image', { 'image/png': BINARY, 'image/jpeg': BINARY, 'image/webp': BINARY }),
      ...errors(400, 401, 403, 404, 422, 429),
    },
  }
}

const box = { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4 } as const

export function pageTextSchema(operationId: string) {
  return {
    operationId,
    summary: "The page's text in lines, with positions",
    description:
      'Positions are in points, origin at the top left of the page as displayed (rotation and crop box applied), ' +
      'the same space as the rendered image scaled by image width / page width. `charBoxes` has one ' +
      '[left, top, width, height] per UTF-16 code unit of `contents`.',
    tags: TAGS,
    params: pageParamsSchema,
    response: {
      200: {
        type: 'object',
        required: ['data'],
        properties: {
          data: {
            type: 'object',
            required: ['pageIndex', 'width', 'height', 'textLines', 'truncated'],
            properties: {
              pageIndex: { type: 'integer' },
              width: { type: 'number' },
              height: { type: 'number' },
              truncated: { type: 'boolean' },
              textLines: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['contents', 'left', 'top', 'width', 'height', 'charBoxes'],
                  properties: {
                    contents: { type: 'string' },
                    left: { type: 'number' },
                    top: { type: 'number' },
                    width: { type: 'number' },
                    height: { type: 'number' },
                    charBoxes: { type: 'array', items: box },
                  },
                },
              },
            },
          },
        },
      },
      ...errors(401, 403, 404, 422, 429),
    },
  }
}

const ACCEPTED: Record<string, ImageFormat> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/webp': 'webp' }

/**
 * `?format=` wins; else the supported type with the highest q in Accept (RFC 9110 §12.5.1);
 * wildcards and ties go to PNG, so a browser's `image/webp,image/*` still gets the cheap PNG.
 */
export function chooseFormat(format: ImageFormat | undefined, accept: string | undefined): ImageFormat {
  if (format) return format
  if (!accept) return 'png'
  const q: Record<ImageFormat, number> = { png: -1, jpeg: -1, webp: -1 }
  const exact = new Set<ImageFormat>()
  for (const part of accept.split(',').slice(0, 32)) {
    const [type, ...params] = part.trim().toLowerCase().split(';')
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    const weight = qp ? Number(qp.slice(2)) : 1
    if (!Number.isFinite(weight)) continue
    const named = ACCEPTED[type!.trim()]
    if (named) {
      q[named] = weight
      exact.add(named)
    } else if (type === 'image/*' || type === '*/*') {
      for (const f of IMAGE_FORMATS) if (!exact.has(f)) q[f] = Math.max(q[f], weight)
    }
  }
  let best: ImageFormat = 'png'
  for (const f of IMAGE_FORMATS) if (q[f] > q[best]) best = f
  return q[best] > 0 ? best : 'png'
}

/** 429 says when to come back (RFC 9110 §10.2.3). */
async function withRetryAfter<T>(reply: FastifyReply, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    if (e instanceof FolioError && e.code === 'render_queue_full') reply.header('retry-after', '1')
    throw e
  }
}

const DATA_OPEN = Buffer.from('{"data":')
const DATA_CLOSE = Buffer.from('}')

async function send(req: FastifyRequest, reply: FastifyReply, r: Rendition, envelope = false): Promise<FastifyReply> {
  reply.header('etag', r.etag).header('cache-control', 'private, no-cache').header('x-content-type-options', 'nosniff')
  if (ifNoneMatchHits(req.headers['if-none-match'], r.etag)) return reply.code(304).send()
  const { size, body } = await withRetryAfter(reply, () => r.open())
  reply.type(r.contentType)
  if (!envelope) return reply.header('content-length', size).send(body)
  // {"data": …} around the JSON the render service made, without parsing it again.
  reply.header('content-length', DATA_OPEN.length + size + DATA_CLOSE.length)
  if (Buffer.isBuffer(body)) return reply.send(Buffer.concat([DATA_OPEN, body, DATA_CLOSE]))
  return reply.send(Readable.from((async function* () {
    yield DATA_OPEN
    for await (const chunk of body) yield chunk as Buffer
    yield DATA_CLOSE
  })()))
}

export async function sendPageImage(req: FastifyRequest, reply: FastifyReply, deps: PageRouteDeps, input: PageImageInput): Promise<FastifyReply> {
  if ((input.width === undefined) === (input.height === undefined)) {
    throw new FolioError('bad_request', { field: 'querystring' }, { message: 'Give exactly one of width and height' })
  }
  const format = chooseFormat(input.format, req.headers.accept)
  reply.header('vary', 'Accept')
  const rendition = await withRetryAfter(reply, () => deps.render.pageImage(pathDocumentId(input.documentId), input.pageIndex, {
    width: input.width,
    height: input.height,
    format,
    annotations: input.annotations !== false,
    layer: input.layer,
    password: input.password,
  }))
  return send(req, reply, rendition)
}

export async function sendPageText(req: FastifyRequest, reply: FastifyReply, deps: PageRouteDeps, input: PageTextInput): Promise<FastifyReply> {
  const rendition = await withRetryAfter(reply, () => deps.render.pageText(pathDocumentId(input.documentId), input.pageIndex, input.password))
  return send(req, reply, rendition, true)
}
