/**
 * Instant JSON annotations → XFDF (Adobe's XML Forms Data Format, XFDF 3.0 specification: one
 * element per annotation inside <annots>, attributes page (0-based), rect "x1,y1,x2,y2" and
 * coords in PDF user space, i.e. bottom-left origin). Instant JSON uses the unrotated page with a
 * top-left origin, so y is flipped with the page height. Types without an XFDF mapping here
 * (links, stamps with images, widgets) are left out and counted.
 */
import type { AnnotationRecord } from '../annotations/records.js'

export interface XfdfPage {
  width: number
  height: number
}

const ELEMENT: Record<string, string> = {
  'pspdfkit/markup/highlight': 'highlight',
  'pspdfkit/markup/underline': 'underline',
  'pspdfkit/markup/strikeout': 'strikeout',
  'pspdfkit/markup/squiggly': 'squiggly',
  'pspdfkit/shape/rectangle': 'square',
  'pspdfkit/shape/ellipse': 'circle',
  'pspdfkit/shape/line': 'line',
  'pspdfkit/ink': 'ink',
  'pspdfkit/note': 'text',
  'pspdfkit/text': 'freetext',
}

/** XML 1.0 §2.4 text and attribute escaping; characters XML cannot carry at all are dropped. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
}

const num = (v: number) => String(Math.round(v * 1000) / 1000)
const isNums = (v: unknown, n: number): v is number[] => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x))

function rectOf(box: number[], page: XfdfPage): string {
  const [l, t, w, h] = box as [number, number, number, number]
  return [l, page.height - t - h, l + w, page.height - t].map(num).join(',')
}

function point(p: unknown, page: XfdfPage): string | undefined {
  return isNums(p, 2) ? `${num(p[0]!)},${num(page.height - p[1]!)}` : undefined
}

function text(c: Record<string, unknown>): string | undefined {
  const t = c.text
  if (typeof t === 'string') return t
  if (typeof t === 'object' && t !== null && typeof (t as { value?: unknown }).value === 'string') return (t as { value: string }).value
  return typeof c.note === 'string' ? c.note : undefined
}

function pdfDate(iso: string): string | undefined {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return undefined
  const p = (n: number) => String(n).padStart(2, '0')
  return `D:${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`
}

/** One annotation as an XFDF element, or undefined when its type has no mapping. */
export function annotationElement(a: AnnotationRecord, page: XfdfPage): string | undefined {
  const c = a.content
  const name = ELEMENT[String(c.type)]
  if (!name || typeof c.pageIndex !== 'number' || !isNums(c.bbox, 4)) return undefined
  const attrs: Array<[string, string | undefined]> = [
    ['page', String(c.pageIndex)],
    ['rect', rectOf(c.bbox, page)],
    ['name', a.id],
    ['title', typeof c.creatorName === 'string' ? c.creatorName : a.createdBy ?? undefined],
    ['date', pdfDate(a.updatedAt)],
    ['creationdate', pdfDate(a.createdAt)],
    ['color', typeof c.color === 'string' ? c.color : typeof c.strokeColor === 'string' ? c.strokeColor : undefined],
    ['interior-color', typeof c.fillColor === 'string' ? c.fillColor : undefined],
    ['opacity', typeof c.opacity === 'number' ? num(c.opacity) : undefined],
    ['width', typeof c.strokeWidth === 'number' ? num(c.strokeWidth) : typeof c.lineWidth === 'number' ? num(c.lineWidth) : undefined],
  ]
  let inner = ''
  if (name === 'highlight' || name === 'underline' || name === 'strikeout' || name === 'squiggly') {
    const rects = Array.isArray(c.rects) ? c.rects.filter((r): r is number[] => isNums(r, 4)) : [c.bbox]
    // QuadPoints order as PDF writers use it: upper-left, upper-right, lower-left, lower-right.
    attrs.push(['coords', rects.map(([l, t, w, h]) => [l!, page.height - t!, l! + w!, page.height - t!, l!, page.height - t! - h!, l! + w!, page.height - t! - h!].map(num).join(',')).join(',')])
  }
  if (name === 'line') {
    attrs.push(['start', point(c.startPoint, page)], ['end', point(c.endPoint, page)])
  }
  if (name === 'text' && typeof c.icon === 'string') attrs.push(['icon', c.icon.charAt(0).toUpperCase() + c.icon.slice(1)])
  if (name === 'ink') {
    const lines = (c.lines as { points?: unknown } | undefined)?.points
    if (Array.isArray(lines)) {
      const gestures = lines.filter(Array.isArray).map((stroke: unknown[]) => stroke.map((p) => point(p, page)).filter(Boolean).join(';'))
      inner += `<inklist>${gestures.map((g) => `<gesture>${g}</gesture>`).join('')}</inklist>`
    }
  }
  const contents = text(c)
  if (contents !== undefined) inner += `<contents>${xmlEscape(contents)}</contents>`
  const attrText = attrs.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => ` ${k}="${xmlEscape(v!)}"`).join('')
  return inner === '' ? `<${name}${attrText}/>` : `<${name}${attrText}>${inner}</${name}>`
}

/** The whole XFDF document, streamed one annotation at a time. */
export async function* xfdfDocument(annotations: AsyncIterable<AnnotationRecord>, pages: readonly XfdfPage[]): AsyncGenerator<string> {
  yield '<?xml version="1.0" encoding="UTF-8"?>\n<xfdf xmlns="http://ns.adobe.com/xfdf/" xml:space="preserve">\n<annots>\n'
  for await (const a of annotations) {
    const page = pages[a.content.pageIndex as number]
    const el = page ? annotationElement(a, page) : undefined
    if (el) yield `${el}\n`
  }
  yield '</annots>\n</xfdf>\n'
}
