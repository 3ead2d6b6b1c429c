/**
 * Page image and page text over HTTP (spec §3 and §7; issue #6), written once for every surface:
 * /api mounts them below, and the client surfaces (/i/d/:id/..., /documents/:id/..., and the
 * cover) call the same functions after their own credential and permission checks.
 *
 *   app.get('/d/:documentId/pages/:pageIndex/image', { schema: pageImageSchema('…') },
 *     async (req, reply) => sendPageImage(req, reply, deps, grant.documentId))
 *   // the cover (spec §7): page 0, its own query schema (adds `jwt`)
 *   async (req, reply) => sendPageImage(req, reply, deps, grant.documentId, 0)
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { pathDocumentId } from '../../documents/ids.js'
import { FolioError } from '../../errors.js'
import { IMAGE_FORMATS, type ImageFormat } from '../../render/encode.js'
import { MAX_DIMENSION, type Rendered, type RenderService } from '../../render/service.js'
import { errors } from '../reply.js'

export interface PageRouteDeps {
  render: RenderService
}

export interface PageImageQuery {
  width?: number
  height?: number
  format?: ImageFormat
  annotations: boolean
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
      200: { description: 'the image (image/png, image/jpeg or image/webp)', type: 'string', format: 'binary' },
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

function send(reply: FastifyReply, r: Rendered): FastifyReply {
  reply.header('etag', r.etag).header('cache-control', 'private, no-cache').header('x-content-type-options', 'nosniff')
  if (r.notModified) return reply.code(304).send()
  reply.type(r.contentType).header('content-length', r.size)
  return reply.send(r.body)
}

/** `pageIndex` defaults to the route's `:pageIndex` (the cover passes 0). */
export async function sendPageImage(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: PageRouteDeps,
  documentId: string,
  pageIndex = (req.params as { pageIndex: number }).pageIndex,
  layer = '',
  password?: string,
): Promise<FastifyReply> {
  const q = req.query as PageImageQuery
  if ((q.width === undefined) === (q.height === undefined)) {
    throw new FolioError('bad_request', { field: 'querystring' }, { message: 'Give exactly one of width and height' })
  }
  const format = chooseFormat(q.format, req.headers.accept)
  reply.header('vary', 'Accept')
  const rendered = await withRetryAfter(reply, () => deps.render.pageImage(pathDocumentId(documentId), pageIndex, {
    width: q.width,
    height: q.height,
    format,
    annotations: q.annotations !== false,
    layer,
    password,
  }, req.headers['if-none-match']))
  return send(reply, rendered)
}

export async function sendPageText(req: FastifyRequest, reply: FastifyReply, deps: PageRouteDeps, documentId: string, password?: string): Promise<FastifyReply> {
  const { pageIndex } = req.params as { pageIndex: number }
  const rendered = await withRetryAfter(reply, () => deps.render.pageText(pathDocumentId(documentId), pageIndex, req.headers['if-none-match'], password))
  return send(reply, rendered)
}
