/**
 * PDF annotation dictionary → Instant JSON (issue #5: "annotations already present in an
 * uploaded PDF are imported as annotations"). The inverse of appearance.ts for the subtypes
 * Folio writes. A dictionary is *importable* when it converts to content that passes
 * validation; the export drops exactly the importable ones from the source (they live on as
 * Folio annotations, or were deleted there) and keeps everything else (form widgets, popups
 * of kept annotations, file attachments, image stamps, …) untouched.
 */
import { PdfString, Ref, isDict, nameOf, type PdfDict, type PdfObject, type PdfValue } from '../pdf/lexer.js'
import { decodeText } from '../pdf/serialize.js'
import type { PdfPageObject, PdfStructure } from '../pdf/structure.js'
import { ANNOTATION_ID_RE, InvalidAnnotation, STAMP_TYPES, validateContent, type Content } from './instant-json.js'

export interface ImportContext {
  structure: PdfStructure
  pageCount: number
  /** Page index of a page object number (for GoTo destinations). */
  pageIndexByNum: Map<number, number>
}

export function importContext(structure: PdfStructure): ImportContext {
  const pageIndexByNum = new Map<number, number>()
  for (const p of structure.pages) if (p.ref) pageIndexByNum.set(p.ref.num, p.index)
  return { structure, pageCount: structure.pages.length, pageIndexByNum }
}

const MARKUP: Record<string, string> = {
  Highlight: 'pspdfkit/markup/highlight', Underline: 'pspdfkit/markup/underline',
  StrikeOut: 'pspdfkit/markup/strikeout', Squiggly: 'pspdfkit/markup/squiggly',
}
const NOTE_ICONS: Record<string, string> = {
  Comment: 'comment', RightPointer: 'rightPointer', RightArrow: 'rightArrow', Check: 'check', Circle: 'circle', Cross: 'cross',
  Insert: 'insert', NewParagraph: 'newParagraph', Note: 'note', Paragraph: 'paragraph', Help: 'help', Star: 'star', Key: 'key',
}
const LINE_CAPS: Record<string, string> = {
  Square: 'square', Circle: 'circle', Diamond: 'diamond', OpenArrow: 'openArrow', ClosedArrow: 'closedArrow', Butt: 'butt',
  ROpenArrow: 'reverseOpenArrow', RClosedArrow: 'reverseClosedArrow', Slash: 'slash',
}
const FLAG_BITS: Array<[number, string]> = [
  [1, 'invisible'], [2, 'hidden'], [8, 'noZoom'], [16, 'noRotate'], [32, 'noView'], [64, 'readOnly'], [128, 'locked'], [256, 'toggleNoView'], [512, 'lockedContents'],
]

/** Resolves a value and, one level down, the items of an array (numbers in arrays may be refs). */
async function deep(ctx: ImportContext, v: PdfValue | undefined): Promise<PdfObject | undefined> {
  const r = await ctx.structure.resolve(v)
  if (!Array.isArray(r)) return r
  const out: PdfValue[] = []
  for (const item of r) out.push((await ctx.structure.resolve(item)) as PdfValue)
  return out
}

async function numbers(ctx: ImportContext, v: PdfValue | undefined): Promise<number[] | undefined> {
  const r = await deep(ctx, v)
  if (!Array.isArray(r) || !r.every((n) => typeof n === 'number' && Number.isFinite(n))) return undefined
  return r as number[]
}

const hex2 = (x: number) => Math.round(Math.min(1, Math.max(0, x)) * 255).toString(16).padStart(2, '0')

/** /C, /IC: 1 (gray), 3 (RGB) or 4 (CMYK) components → '#rrggbb'; [] (transparent) → undefined. */
async function color(ctx: ImportContext, v: PdfValue | undefined): Promise<string | undefined> {
  const c = await numbers(ctx, v)
  if (!c) return undefined
  if (c.length === 1) return `#${hex2(c[0]!).repeat(3)}`
  if (c.length === 3) return `#${c.map(hex2).join('')}`
  if (c.length === 4) return `#${[0, 1, 2].map((i) => hex2((1 - c[i]!) * (1 - c[3]!))).join('')}`
  return undefined
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000 + 0
}

/** Converts one annotation dictionary of `page`; undefined when it is not importable. */
export async function pdfToInstant(ctx: ImportContext, page: PdfPageObject, dict: PdfDict, ref: Ref | undefined): Promise<{ id?: string; content: Content } | undefined> {
  const subtype = nameOf(dict.get('Subtype'))
  if (subtype === undefined || nameOf(dict.get('IT')) !== undefined) return undefined // IT: measurement/callout variants
  const rect = await numbers(ctx, dict.get('Rect'))
  if (!rect || rect.length !== 4) return undefined
  const [vx0, , , vy1] = page.view
  const X = (x: number) => round(x - vx0)
  const Y = (y: number) => round(vy1 - y)
  const box = (x0: number, y0: number, x1: number, y1: number) => {
    const [l, r, b, t] = [Math.min(x0, x1), Math.max(x0, x1), Math.min(y0, y1), Math.max(y0, y1)]
    return [X(l), Y(t), round(r - l), round(t - b)]
  }
  const c: Record<string, unknown> = { v: 2, pageIndex: page.index, bbox: box(rect[0]!, rect[1]!, rect[2]!, rect[3]!) }
  const opacity = await ctx.structure.resolve(dict.get('CA'))
  if (typeof opacity === 'number' && opacity >= 0 && opacity <= 1 && opacity !== 1) c.opacity = opacity
  const contents = decodeText((await ctx.structure.resolve(dict.get('Contents'))) as PdfValue)
  const author = decodeText((await ctx.structure.resolve(dict.get('T'))) as PdfValue)
  if (author) c.creatorName = author
  const flagBits = await ctx.structure.resolve(dict.get('F'))
  if (typeof flagBits === 'number') {
    const flags = FLAG_BITS.filter(([bit]) => (flagBits & bit) !== 0).map(([, f]) => f)
    if ((flagBits & 4) === 0) flags.push('noPrint')
    if (flags.length > 0) c.flags = flags
  }
  if (ref) c.pdfObjectId = ref.num
  const bs = await ctx.structure.resolve(dict.get('BS'))
  const bsWidth = isDict(bs) ? await ctx.structure.resolve(bs.get('W')) : undefined
  const borderArr = await numbers(ctx, dict.get('Border'))
  const width = typeof bsWidth === 'number' ? bsWidth : borderArr && borderArr.length >= 3 ? borderArr[2]! : 1
  const dashes = isDict(bs) && nameOf(await ctx.structure.resolve(bs.get('S'))) === 'D' ? await numbers(ctx, bs.get('D')) : undefined

  if (MARKUP[subtype]) {
    c.type = MARKUP[subtype]
    const quads = await numbers(ctx, dict.get('QuadPoints'))
    const rects: number[][] = []
    if (quads && quads.length >= 8) {
      for (let i = 0; i + 8 <= quads.length; i += 8) {
        const xs = [quads[i]!, quads[i + 2]!, quads[i + 4]!, quads[i + 6]!]
        const ys = [quads[i + 1]!, quads[i + 3]!, quads[i + 5]!, quads[i + 7]!]
        rects.push(box(Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)))
      }
    } else rects.push(c.bbox as number[])
    c.rects = rects
    c.color = (await color(ctx, dict.get('C'))) ?? (subtype === 'Highlight' ? '#ffff00' : '#000000')
    if (contents) c.note = contents
  } else if (subtype === 'Ink') {
    const list = await ctx.structure.resolve(dict.get('InkList'))
    if (!Array.isArray(list)) return undefined
    const points: number[][][] = []
    for (const item of list) {
      const seg = await numbers(ctx, item)
      if (!seg || seg.length < 2) return undefined
      const pts: number[][] = []
      for (let i = 0; i + 1 < seg.length; i += 2) pts.push([X(seg[i]!), Y(seg[i + 1]!)])
      points.push(pts)
    }
    Object.assign(c, { type: 'pspdfkit/ink', lines: { points }, lineWidth: width })
    const stroke = await color(ctx, dict.get('C'))
    if (stroke) c.strokeColor = stroke
    if (contents) c.note = contents
  } else if (subtype === 'Square' || subtype === 'Circle' || subtype === 'Line') {
    c.type = subtype === 'Square' ? 'pspdfkit/shape/rectangle' : subtype === 'Circle' ? 'pspdfkit/shape/ellipse' : 'pspdfkit/shape/line'
    c.strokeWidth = width
    const stroke = await color(ctx, dict.get('C'))
    const fill = await color(ctx, dict.get('IC'))
    if (stroke) c.strokeColor = stroke
    if (fill) c.fillColor = fill
    if (dashes && dashes.length > 0) c.strokeDashArray = dashes
    if (subtype === 'Line') {
      const l = await numbers(ctx, dict.get('L'))
      if (!l || l.length !== 4) return undefined
      c.startPoint = [X(l[0]!), Y(l[1]!)]
      c.endPoint = [X(l[2]!), Y(l[3]!)]
      const le = await deep(ctx, dict.get('LE'))
      if (Array.isArray(le)) {
        const caps: Record<string, string> = {}
        const [start, end] = le.map((n) => LINE_CAPS[nameOf(n as PdfValue) ?? ''])
        if (start) caps.start = start
        if (end) caps.end = end
        if (start || end) c.lineCaps = caps
      }
    }
    if (contents) c.note = contents
  } else if (subtype === 'Text') {
    Object.assign(c, { type: 'pspdfkit/note', text: { format: 'plain', value: contents ?? '' }, icon: NOTE_ICONS[nameOf(dict.get('Name')) ?? ''] ?? 'comment' })
    const col = await color(ctx, dict.get('C'))
    if (col) c.color = col
  } else if (subtype === 'FreeText') {
    const da = decodeText((await ctx.structure.resolve(dict.get('DA'))) as PdfValue) ?? ''
    const size = /([\d.]+)\s+Tf/.exec(da)
    const rgbOp = /([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+rg/.exec(da)
    const grayOp = /([\d.]+)\s+g(?:\s|$)/.exec(da)
    const q = await ctx.structure.resolve(dict.get('Q'))
    Object.assign(c, {
      type: 'pspdfkit/text',
      text: { format: 'plain', value: contents ?? '' },
      fontSize: size ? Number(size[1]) || 12 : 12,
      opacity: typeof c.opacity === 'number' ? c.opacity : 1,
      horizontalAlign: q === 1 ? 'center' : q === 2 ? 'right' : 'left',
      verticalAlign: 'top',
    })
    if (rgbOp) c.fontColor = `#${[1, 2, 3].map((i) => hex2(Number(rgbOp[i]))).join('')}`
    else if (grayOp) c.fontColor = `#${hex2(Number(grayOp[1])).repeat(3)}`
    const bg = await color(ctx, dict.get('C'))
    if (bg) c.backgroundColor = bg
    if (typeof bsWidth === 'number' && bsWidth > 0) c.borderWidth = bsWidth
  } else if (subtype === 'Link') {
    const action = await linkAction(ctx, dict)
    if (!action) return undefined
    c.type = 'pspdfkit/link'
    c.action = action
    const bc = await color(ctx, dict.get('C'))
    if (bc && borderArr && borderArr[2]! > 0) Object.assign(c, { borderColor: bc, borderWidth: borderArr[2] })
  } else if (subtype === 'Stamp') {
    const stampName = nameOf(dict.get('Name'))
    // Only stamps named by the standard set (§12.5.6.12) and Folio's custom ones: other stamps
    // usually carry an image appearance that a re-drawn stamp would lose, so they stay as they are.
    if (!stampName || !STAMP_TYPES.includes(stampName)) return undefined
    c.type = 'pspdfkit/stamp'
    c.stampType = stampName
    if (stampName === 'Custom') {
      const title = decodeText((await ctx.structure.resolve(dict.get('Subj'))) as PdfValue)
      if (!title) return undefined
      c.title = title
    }
    const col = await color(ctx, dict.get('C'))
    if (col) c.color = col
    if (contents) c.note = contents
  } else return undefined

  try {
    const content = validateContent(c, ctx.pageCount)
    const nm = decodeText((await ctx.structure.resolve(dict.get('NM'))) as PdfValue)
    return { id: nm && ANNOTATION_ID_RE.test(nm) ? nm : undefined, content }
  } catch (e) {
    if (e instanceof InvalidAnnotation) return undefined
    throw e
  }
}

async function linkAction(ctx: ImportContext, dict: PdfDict): Promise<Record<string, unknown> | undefined> {
  const a = await ctx.structure.resolve(dict.get('A'))
  let dest: PdfObject | undefined
  if (isDict(a)) {
    const s = nameOf(a.get('S'))
    if (s === 'URI') {
      const uri = await ctx.structure.resolve(a.get('URI'))
      return uri instanceof PdfString ? { type: 'uri', uri: decodeText(uri) } : undefined
    }
    if (s !== 'GoTo') return undefined
    dest = await ctx.structure.resolve(a.get('D'))
  } else dest = await ctx.structure.resolve(dict.get('Dest'))
  // Only destinations an Instant JSON goTo says exactly: a page, shown whole ([page /Fit], or
  // /XYZ without position or zoom). A link to a position on the page, or a named destination,
  // would lose its target if re-written, so it is left in the file as it is.
  if (!Array.isArray(dest) || !(dest[0] instanceof Ref)) return undefined
  const view = nameOf(dest[1] as PdfValue)
  const exact = view === undefined || view === 'Fit' || (view === 'XYZ' && dest.slice(2).every((v) => v === null))
  if (!exact) return undefined
  const pageIndex = ctx.pageIndexByNum.get(dest[0].num)
  return pageIndex === undefined ? undefined : { type: 'goTo', pageIndex }
}

/** A popup whose parent is in `dropped` goes with it (§12.5.6.14). */
export function isPopupOf(dict: PdfDict, dropped: Set<number>): boolean {
  const parent = dict.get('Parent')
  return nameOf(dict.get('Subtype')) === 'Popup' && parent instanceof Ref && dropped.has(parent.num)
}

