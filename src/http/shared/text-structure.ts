/**
 * Search, all-pages text, highlighted text and outline over HTTP, written once for every surface
 * (as page-image.ts is for images): /api mounts them with the `pspdfkit-pdf-password` header and
 * a layer from the path, the client surfaces with the JWT's layer and `password` claim.
 * Shapes are Document Engine's (reference OpenAPI 1.9): search and highlighted text in a `data`
 * array, the outline as `data.outline`, all-pages text as a bare array (the reference has no
 * envelope there).
 */
import type { FastifyReply } from 'fastify'
import type { AnnotationService } from '../../annotations/service.js'
import { pathDocumentId } from '../../documents/ids.js'
import { FolioError } from '../../errors.js'
import { linesOf } from '../../render/document-text.js'
import type { OutlineNode } from '../../render/protocol.js'
import type { RenderService } from '../../render/service.js'
import { MAX_QUERY_LENGTH, SEARCH_TYPES, type SearchService, type SearchType } from '../../search/service.js'
import { highlightedText } from '../../structure/highlighted.js'
import { dataSchema, errors } from '../reply.js'
import { listSchema as pageAnnotationsResponse } from './annotation-schemas.js'

export interface TextStructureDeps {
  render: RenderService
  search: SearchService
  annotations: AnnotationService
}

/** Who asks: the document, the annotation layer, the PDF password (undefined: none). */
export interface Reader {
  documentId: string
  layer: string
  password?: string
}

const box = { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4 } as const
const layerName = { type: 'string', maxLength: 1024, description: 'the annotation layer; "" is the default layer' } as const
const documentId = { type: 'string', maxLength: 256 } as const
const pageIndex = { type: 'integer', minimum: 0 } as const

export const passwordHeader = {
  type: 'object',
  properties: {
    'pspdfkit-pdf-password': { type: 'string', maxLength: 2048, description: 'the password of an encrypted PDF, plain or `base64:<encoded>`; never stored or logged' },
  },
} as const

export function params(layered: boolean, page = false) {
  const properties: Record<string, object> = { documentId }
  if (layered) properties.layerName = layerName
  if (page) properties.pageIndex = pageIndex
  return { type: 'object', required: Object.keys(properties), properties }
}

export const searchQuerySchema = {
  type: 'object',
  required: ['q'],
  properties: {
    q: { type: 'string', minLength: 1, maxLength: MAX_QUERY_LENGTH, description: 'the text (≥ 3 characters), a preset name, or a regular expression' },
    type: { type: 'string', enum: [...SEARCH_TYPES], default: 'text' },
    start: { type: 'integer', minimum: 0, default: 0, description: 'the first page searched' },
    limit: { type: 'integer', minimum: 0, description: 'the index of the last page searched; default the last page' },
    include_annotations: { type: 'boolean', default: false, description: "also search the text of the layer's annotations" },
    case_sensitive: { type: 'boolean', description: 'default: false for text, true for regex and preset' },
  },
} as const

const searchResult = {
  type: 'object',
  required: ['pageIndex', 'previewText', 'rangeInPreview', 'rectsOnPage', 'isAnnotation'],
  properties: {
    pageIndex: { type: 'integer' },
    previewText: { type: 'string' },
    rangeInPreview: { type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 2, description: '[start in previewText, length]' },
    rectsOnPage: { type: 'array', items: box, description: '[left, top, width, height] in points, annotation coordinates (unrotated page, top-left origin), one per line of the match' },
    isAnnotation: { type: 'boolean' },
    annotationId: { type: 'string', description: 'for a match in an annotation' },
  },
} as const

export function searchSchema(operationId: string, layered: boolean, tag = 'Documents') {
  return {
    operationId,
    summary: 'Search for text, a regular expression or a preset',
    description: 'Regular expressions and presets run in a worker with a time limit (SEARCH_TIMEOUT_MS, 422 search_timeout). ' +
      'At most SEARCH_MAX_RESULTS results; a cut list has the header `folio-search-truncated: true`.',
    tags: [tag],
    params: params(layered),
    querystring: searchQuerySchema,
    headers: passwordHeader,
    response: { 200: dataSchema({ type: 'array', items: searchResult }), ...errors(400, 401, 403, 404, 422, 429) },
  }
}

const textLine = {
  type: 'object',
  required: ['contents', 'left', 'top', 'width', 'height'],
  properties: { contents: { type: 'string' }, left: { type: 'number' }, top: { type: 'number' }, width: { type: 'number' }, height: { type: 'number' } },
} as const

export function allTextSchema(operationId: string, layered: boolean, tag = 'Documents') {
  return {
    operationId,
    summary: 'The text of every page, in lines with positions',
    description: 'A bare array, as in the reference. Positions are in points from the top left of the page as displayed (as the per-page text).',
    tags: [tag],
    params: params(layered),
    headers: passwordHeader,
    response: {
      200: { type: 'array', items: { type: 'object', required: ['pageIndex', 'textLines'], properties: { pageIndex: { type: 'integer' }, textLines: { type: 'array', items: textLine } } } },
      ...errors(401, 403, 404, 422, 429),
    },
  }
}

export function highlightedSchema(operationId: string, layered: boolean, tag = 'Documents') {
  return {
    operationId,
    summary: 'The text under the markup annotations of a page (highlight, underline, strikeout, squiggly)',
    tags: [tag],
    params: params(layered, true),
    headers: passwordHeader,
    response: {
      200: dataSchema({
        type: 'array',
        items: { type: 'object', required: ['annotation', 'text'], properties: { annotation: { type: 'object', additionalProperties: true }, text: { type: 'string' } } },
      }),
      ...errors(401, 403, 404, 422, 429),
    },
  }
}

const outlineElement = {
  type: 'object',
  required: ['type', 'title', 'isExpanded', 'children'],
  properties: {
    type: { type: 'string', enum: ['pspdfkit/outline-element'] },
    title: { type: 'string' },
    isExpanded: { type: 'boolean' },
    isBold: { type: 'boolean' },
    isItalic: { type: 'boolean' },
    action: { type: 'object', additionalProperties: true, description: '{type: "goTo", pageIndex} or {type: "uri", uri}' },
    children: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
} as const

export function outlineSchema(operationId: string, tag = 'Documents') {
  return {
    operationId,
    summary: "The PDF's outline, nested, with each element's target",
    description: 'At most 10,000 elements and 64 levels; a larger outline is cut (`truncated: true`).',
    tags: [tag],
    params: params(false),
    headers: passwordHeader,
    response: {
      200: dataSchema({ type: 'object', required: ['outline'], properties: { outline: { type: 'array', items: outlineElement }, truncated: { type: 'boolean' } } }),
      ...errors(401, 403, 404, 422, 429),
    },
  }
}

export interface SearchQueryString {
  q: string
  type: SearchType
  start?: number
  limit?: number
  include_annotations: boolean
  case_sensitive?: boolean
}

export async function sendSearch(reply: FastifyReply, deps: TextStructureDeps, who: Reader, q: SearchQueryString) {
  const { results, truncated } = await deps.search.search(pathDocumentId(who.documentId), {
    q: q.q, type: q.type, start: q.start, limit: q.limit, caseSensitive: q.case_sensitive,
    includeAnnotations: q.include_annotations, layer: who.layer, password: who.password,
  })
  if (truncated) reply.header('folio-search-truncated', 'true')
  return { data: results }
}

export async function allText(deps: TextStructureDeps, who: Reader) {
  const doc = await deps.render.documentText(pathDocumentId(who.documentId), who.password)
  return doc.pages.map((p) => ({ pageIndex: p.pageIndex, textLines: linesOf(p) }))
}

export async function pageHighlighted(deps: TextStructureDeps, who: Reader, index: number) {
  const id = pathDocumentId(who.documentId)
  const doc = await deps.render.documentText(id, who.password)
  const page = doc.pages[index]
  if (!page) throw new FolioError('page_not_found', { pageCount: doc.pages.length })
  const { annotations } = await deps.annotations.onPage(id, who.layer, index)
  return { data: highlightedText(page, doc.pageRows[index]!, annotations) }
}

export function pageAnnotationsSchema(operationId: string, layered: boolean, tag = 'Annotations') {
  return {
    operationId,
    summary: "The layer's annotations on one page: the first 1000, and `truncated`",
    tags: [tag],
    params: params(layered, true),
    response: { 200: pageAnnotationsResponse, ...errors(401, 403, 404) },
  }
}

export async function pageAnnotations(deps: TextStructureDeps, who: Reader, index: number) {
  return { data: await deps.annotations.onPage(pathDocumentId(who.documentId), who.layer, index) }
}

type OutlineElement = { type: 'pspdfkit/outline-element'; title: string; isExpanded: boolean; action?: object; children: OutlineElement[] }

function toElement(n: OutlineNode): OutlineElement {
  const action = n.pageIndex !== undefined ? { type: 'goTo', pageIndex: n.pageIndex } : n.uri !== undefined ? { type: 'uri', uri: n.uri } : undefined
  return { type: 'pspdfkit/outline-element', title: n.title, isExpanded: n.isExpanded, ...(action ? { action } : {}), children: n.children.map(toElement) }
}

export async function documentOutline(deps: TextStructureDeps, who: Reader) {
  const o = await deps.render.outline(pathDocumentId(who.documentId), who.password)
  return { data: { outline: o.outline.map(toElement), truncated: o.truncated } }
}
