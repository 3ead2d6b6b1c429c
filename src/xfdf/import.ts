/**
 * XFDF → Instant JSON annotations: the import function for the Build API's `applyXfdf` action
 * (and any future import route). The inverse of export.ts for the same ten types; other
 * elements are skipped and counted.
 *
 * The XML comes from clients: parsed with fast-xml-parser (no DTD support), and before that a
 * document with a DOCTYPE or ENTITY declaration is refused outright (no entity expansion, so no
 * "billion laughs" or external entities), the size is bounded, and so are the nesting depth and
 * the number of annotations. Only XML's five built-in entities and character references are read.
 */
import { XMLParser } from 'fast-xml-parser'
import { ANNOTATION_ID_RE } from '../annotations/instant-json.js'
import { newAnnotationId } from '../annotations/ids.js'
import { FolioError } from '../errors.js'
import type { XfdfPage } from './export.js'

export const MAX_XFDF_BYTES = 5 * 1024 * 1024
export const MAX_XFDF_DEPTH = 32
export const MAX_XFDF_ANNOTATIONS = 10_000

const TYPES: Record<string, string> = {
  highlight: 'pspdfkit/markup/highlight',
  underline: 'pspdfkit/markup/underline',
  strikeout: 'pspdfkit/markup/strikeout',
  squiggly: 'pspdfkit/markup/squiggly',
  square: 'pspdfkit/shape/rectangle',
  circle: 'pspdfkit/shape/ellipse',
  line: 'pspdfkit/shape/line',
  ink: 'pspdfkit/ink',
  text: 'pspdfkit/note',
  freetext: 'pspdfkit/text',
}

function invalid(message: string): never {
  throw new FolioError('invalid_xfdf', {}, { message })
}

/** Deepest element nesting, by a linear scan of tags (comments, CDATA and PIs skipped). */
function depthOf(xml: string): number {
  let depth = 0, max = 0
  const re = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<(\/?)[^>]*?(\/?)>/g
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
    if (m[0].startsWith('<!--') || m[0].startsWith('<![') || m[0].startsWith('<?')) continue
    if (m[1] === '/') depth--
    else if (m[2] !== '/') max = Math.max(max, ++depth)
  }
  return max
}

const nums = (s: unknown): number[] | undefined => {
  if (typeof s !== 'string') return undefined
  const v = s.split(/[\s,;]+/).filter(Boolean).map(Number)
  return v.length > 0 && v.every(Number.isFinite) ? v : undefined
}

export interface XfdfImport {
  annotations: Array<Record<string, unknown>>
  skipped: number
}

export function importXfdf(xml: string, pages: readonly XfdfPage[]): XfdfImport {
  if (Buffer.byteLength(xml, 'utf8') > MAX_XFDF_BYTES) throw new FolioError('payload_too_large', { limit: MAX_XFDF_BYTES }, { message: `XFDF over ${MAX_XFDF_BYTES} bytes` })
  if (/<!(DOCTYPE|ENTITY)/i.test(xml)) invalid('XFDF with a DOCTYPE or ENTITY declaration is refused')
  if (depthOf(xml) > MAX_XFDF_DEPTH) invalid(`XFDF nested deeper than ${MAX_XFDF_DEPTH} elements`)
  const parser = new XMLParser({
    ignoreAttributes: false, attributeNamePrefix: '', removeNSPrefix: true, processEntities: true, htmlEntities: false,
    parseTagValue: false, parseAttributeValue: false, trimValues: false,
    isArray: (_name, jpath) => /^xfdf\.annots\.[^.]+$/.test(jpath) || jpath.endsWith('.gesture'),
  })
  let doc: Record<string, unknown>
  try {
    doc = parser.parse(xml, true) as Record<string, unknown>
  } catch (e) {
    throw new FolioError('invalid_xfdf', {}, { message: 'The XFDF is not well-formed XML', cause: e })
  }
  const root = doc.xfdf as Record<string, unknown> | undefined
  if (typeof root !== 'object' || root === null) invalid('The root element must be <xfdf>')
  const annots = (root.annots ?? {}) as Record<string, unknown>
  const out: Array<Record<string, unknown>> = []
  let skipped = 0
  for (const [tag, list] of Object.entries(annots)) {
    if (!Array.isArray(list)) continue
    const type = TYPES[tag]
    for (const el of list as Array<Record<string, unknown>>) {
      if (out.length + skipped >= MAX_XFDF_ANNOTATIONS) invalid(`more than ${MAX_XFDF_ANNOTATIONS} annotations`)
      const a = type ? toInstant(tag, type, el, pages) : undefined
      if (a) out.push(a)
      else skipped++
    }
  }
  return { annotations: out, skipped }
}

function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (typeof v === 'object' && v !== null && typeof (v as { '#text'?: unknown })['#text'] === 'string') return (v as { '#text': string })['#text']
  return undefined
}

function toInstant(tag: string, type: string, el: Record<string, unknown>, pages: readonly XfdfPage[]): Record<string, unknown> | undefined {
  const pageIndex = Number(el.page)
  const page = pages[pageIndex]
  const rect = nums(el.rect)
  if (!Number.isInteger(pageIndex) || !page || !rect || rect.length !== 4) return undefined
  const H = page.height
  const [x1, y1, x2, y2] = rect as [number, number, number, number]
  const bbox = [Math.min(x1, x2), H - Math.max(y1, y2), Math.abs(x2 - x1), Math.abs(y2 - y1)]
  const name = typeof el.name === 'string' && ANNOTATION_ID_RE.test(el.name) ? el.name : newAnnotationId()
  const color = typeof el.color === 'string' && /^#[0-9a-fA-F]{6}$/.test(el.color) ? el.color.toLowerCase() : undefined
  const opacity = Number(el.opacity)
  const width = Number(el.width)
  const contents = textOf(el.contents)
  const a: Record<string, unknown> = { v: 2, type, pageIndex, bbox, id: name, opacity: Number.isFinite(opacity) && opacity >= 0 && opacity <= 1 ? opacity : 1 }
  if (typeof el.title === 'string' && el.title.length <= 1024) a.creatorName = el.title
  if (type.startsWith('pspdfkit/markup/')) {
    const q = nums(el.coords) ?? []
    const rects: number[][] = []
    for (let i = 0; i + 8 <= q.length && rects.length < 1000; i += 8) {
      const xs = [q[i]!, q[i + 2]!, q[i + 4]!, q[i + 6]!], ys = [q[i + 1]!, q[i + 3]!, q[i + 5]!, q[i + 7]!]
      rects.push([Math.min(...xs), H - Math.max(...ys), Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)])
    }
    a.rects = rects.length > 0 ? rects : [bbox]
    a.color = color ?? '#ffff00'
    if (contents !== undefined) a.note = contents
  } else if (tag === 'square' || tag === 'circle' || tag === 'line' || tag === 'ink') {
    const stroke = color ?? '#000000'
    if (tag === 'ink') {
      const inklist = el.inklist as { gesture?: unknown[] } | undefined
      const strokes = (inklist?.gesture ?? []).map((g) => (textOf(g) ?? '').split(';').map(nums).filter((p): p is number[] => p !== undefined && p.length === 2).map(([x, y]) => [x!, H - y!]))
      a.lines = { points: strokes, intensities: strokes.map((s) => s.map(() => 1)) }
      a.lineWidth = Number.isFinite(width) && width > 0 ? width : 1
      a.strokeColor = stroke
      a.isDrawnNaturally = false
    } else {
      a.strokeColor = stroke
      a.strokeWidth = Number.isFinite(width) && width > 0 ? width : 1
      if (typeof el['interior-color'] === 'string' && /^#[0-9a-fA-F]{6}$/.test(el['interior-color'])) a.fillColor = el['interior-color'].toLowerCase()
      if (tag === 'line') {
        const s = nums(el.start), e = nums(el.end)
        if (!s || s.length !== 2 || !e || e.length !== 2) return undefined
        a.startPoint = [s[0], H - s[1]!]
        a.endPoint = [e[0], H - e[1]!]
      }
    }
    if (contents !== undefined) a.note = contents
  } else if (tag === 'text') {
    a.text = { format: 'plain', value: contents ?? '' }
    a.icon = typeof el.icon === 'string' ? el.icon.toLowerCase() : 'comment'
    a.color = color ?? '#ffcc00'
  } else {
    a.text = { format: 'plain', value: contents ?? '' }
    a.fontSize = 12
    a.fontColor = color ?? '#000000'
    a.horizontalAlign = 'left'
    a.verticalAlign = 'top'
  }
  return a
}
