/**
 * Instant JSON annotation → the parts of a PDF annotation (ISO 32000-1 §12.5): subtype, /Rect,
 * subtype entries (/QuadPoints, /InkList, /L, /C, /IC, /BS, /DA …) and an appearance stream
 * (§12.5.5) drawn in page space, so that every reader shows the annotation as Folio means it,
 * and flattening can draw the same stream into the page.
 *
 * Instant JSON measures from the top left of the page's visible box, y downwards; PDF from the
 * bottom left, y upwards: y_pdf = top_of_box − y.
 */
import type { Rect } from '../pdf/inspect.js'
import { name, num, text } from '../pdf/serialize.js'
import type { Content } from './instant-json.js'
import { FONT_RESOURCES, fontVariant, show, textWidth, wrap } from './pdf-text.js'
import type { UnicodeText } from '../build/unicode-font.js'

export interface PdfAnnotationParts {
  subtype: string
  rect: Rect
  /** Serialised `/Key value` entries specific to the subtype. */
  entries: string
  /** Page-space drawing for /AP /N (BBox = rect); absent for an invisible link. */
  appearance?: { ops: string; resources: string }
}

export interface BuildContext {
  /** `n g R` of page `index`, for goTo links. */
  pageRef(index: number): string | undefined
  /** Embedded Unicode fonts for text beyond WinAnsi (Cyrillic, Greek, CJK…); absent: WinAnsi with '?'. */
  unicode?: UnicodeText
}

type Rgb = [number, number, number]

export function rgb(hex: unknown): Rgb | undefined {
  if (typeof hex !== 'string' || !/^#[0-9a-fA-F]{6}$/.test(hex)) return undefined
  return [0, 2, 4].map((i) => parseInt(hex.slice(1 + i, 3 + i), 16) / 255) as Rgb
}

const colorArray = (c: Rgb) => `[${c.map(num).join(' ')}]`
const fill = (c: Rgb) => `${c.map(num).join(' ')} rg\n`
const stroke = (c: Rgb) => `${c.map(num).join(' ')} RG\n`

/** Coordinates: Instant JSON (top-left origin) → PDF default user space. */
class Space {
  constructor(readonly view: Rect) {}
  x(v: number): number { return this.view[0] + v }
  y(v: number): number { return this.view[3] - v }
  /** [left, top, width, height] → [x0, y0, x1, y1] */
  rect(b: number[]): Rect {
    return [this.x(b[0]!), this.y(b[1]! + b[3]!), this.x(b[0]! + b[2]!), this.y(b[1]!)]
  }
}

const BLEND: Record<string, string> = {
  normal: 'Normal', multiply: 'Multiply', screen: 'Screen', overlay: 'Overlay', darken: 'Darken', lighten: 'Lighten',
  colorDodge: 'ColorDodge', colorBurn: 'ColorBurn', hardLight: 'HardLight', softLight: 'SoftLight', difference: 'Difference', exclusion: 'Exclusion',
}

/** The graphics state for opacity and blend mode, as a resource and the op that selects it. */
function gstate(c: Content, defaultBlend = 'normal'): { resources: string; op: string } {
  const opacity = typeof c.opacity === 'number' ? c.opacity : 1
  const blend = BLEND[typeof c.blendMode === 'string' ? c.blendMode : defaultBlend] ?? 'Normal'
  return { resources: `/ExtGState<</G<</CA ${num(opacity)}/ca ${num(opacity)}/BM/${blend}>>>>`, op: '/G gs\n' }
}

function opacityEntry(c: Content): string {
  return typeof c.opacity === 'number' && c.opacity !== 1 ? `/CA ${num(c.opacity)}` : ''
}

function dash(c: Content): string {
  const d = Array.isArray(c.strokeDashArray) ? (c.strokeDashArray as number[]) : []
  return d.length > 0 ? `[${d.map(num).join(' ')}] 0 d\n` : ''
}

function border(width: number, c: Content): string {
  const d = Array.isArray(c.strokeDashArray) && c.strokeDashArray.length > 0 ? `/S/D/D[${(c.strokeDashArray as number[]).map(num).join(' ')}]` : '/S/S'
  return `/BS<</W ${num(width)}${d}>>`
}

const BLACK: Rgb = [0, 0, 0]

function markup(subtype: string, c: Content, s: Space): PdfAnnotationParts {
  const color = rgb(c.color) ?? [1, 0.92, 0.2]
  const rects = (c.rects as number[][]).map((r) => s.rect(r))
  const quads = rects.flatMap(([x0, y0, x1, y1]) => [x0, y1, x1, y1, x0, y0, x1, y0])
  const g = gstate(c, subtype === 'Highlight' ? 'multiply' : 'normal')
  let ops = `q\n${g.op}`
  for (const [x0, y0, x1, y1] of rects) {
    const h = y1 - y0
    const lw = Math.max(0.5, h * 0.07)
    if (subtype === 'Highlight') ops += `${fill(color)}${num(x0)} ${num(y0)} ${num(x1 - x0)} ${num(h)} re f\n`
    else if (subtype === 'Squiggly') {
      const step = Math.max(1, h / 6)
      let path = `${num(x0)} ${num(y0 + step)} m\n`
      for (let x = x0 + step, up = false; x <= x1; x += step, up = !up) path += `${num(x)} ${num(y0 + (up ? step : 0) + lw)} l\n`
      ops += `${stroke(color)}${num(lw)} w\n${path}S\n`
    } else {
      const y = subtype === 'StrikeOut' ? y0 + h / 2 : y0 + lw
      ops += `${stroke(color)}${num(lw)} w\n${num(x0)} ${num(y)} m ${num(x1)} ${num(y)} l S\n`
    }
  }
  return {
    subtype,
    rect: s.rect(c.bbox),
    entries: `/QuadPoints[${quads.map(num).join(' ')}]/C${colorArray(color)}${opacityEntry(c)}`,
    appearance: { ops: `${ops}Q\n`, resources: g.resources },
  }
}

function ink(c: Content, s: Space): PdfAnnotationParts {
  const color = rgb(c.strokeColor) ?? BLACK
  const width = typeof c.lineWidth === 'number' ? c.lineWidth : 1
  const lines = ((c.lines as { points: number[][][] }).points).map((seg) => seg.map(([x, y]) => [s.x(x!), s.y(y!)]))
  const g = gstate(c)
  let ops = `q\n${g.op}${stroke(color)}${num(width)} w 1 J 1 j\n`
  const bg = rgb(c.backgroundColor)
  const rect = s.rect(c.bbox)
  if (bg) ops += `${fill(bg)}${num(rect[0])} ${num(rect[1])} ${num(rect[2] - rect[0])} ${num(rect[3] - rect[1])} re f\n`
  for (const seg of lines) {
    const [first, ...rest] = seg
    ops += `${num(first![0]!)} ${num(first![1]!)} m\n`
    for (const p of rest.length > 0 ? rest : [first!]) ops += `${num(p[0]!)} ${num(p[1]!)} l\n`
    ops += 'S\n'
  }
  const inkList = lines.map((seg) => `[${seg.flat().map(num).join(' ')}]`).join('')
  return {
    subtype: 'Ink',
    rect,
    entries: `/InkList[${inkList}]/C${colorArray(color)}${border(width, c)}${opacityEntry(c)}`,
    appearance: { ops: `${ops}Q\n`, resources: g.resources },
  }
}

const KAPPA = 0.5522847498

function shape(subtype: 'Square' | 'Circle', c: Content, s: Space): PdfAnnotationParts {
  const rect = s.rect(c.bbox)
  const strokeColor = rgb(c.strokeColor)
  const fillColor = rgb(c.fillColor)
  const width = typeof c.strokeWidth === 'number' ? c.strokeWidth : 1
  const g = gstate(c)
  const inset = strokeColor ? width / 2 : 0
  const [x0, y0, x1, y1] = [rect[0] + inset, rect[1] + inset, rect[2] - inset, rect[3] - inset]
  let path: string
  if (subtype === 'Square') path = `${num(x0)} ${num(y0)} ${num(x1 - x0)} ${num(y1 - y0)} re\n`
  else {
    const [cx, cy, rx, ry] = [(x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2]
    const [kx, ky] = [rx * KAPPA, ry * KAPPA]
    const p = (...v: number[]) => v.map(num).join(' ')
    path = `${p(cx + rx, cy)} m\n${p(cx + rx, cy + ky, cx + kx, cy + ry, cx, cy + ry)} c\n${p(cx - kx, cy + ry, cx - rx, cy + ky, cx - rx, cy)} c\n` +
      `${p(cx - rx, cy - ky, cx - kx, cy - ry, cx, cy - ry)} c\n${p(cx + kx, cy - ry, cx + rx, cy - ky, cx + rx, cy)} c\nh\n`
  }
  const paint = strokeColor && fillColor ? 'B' : fillColor ? 'f' : strokeColor ? 'S' : 'n'
  const ops = `q\n${g.op}${strokeColor ? stroke(strokeColor) : ''}${fillColor ? fill(fillColor) : ''}${num(width)} w\n${dash(c)}${path}${paint}\nQ\n`
  const entries = `${strokeColor ? `/C${colorArray(strokeColor)}` : ''}${fillColor ? `/IC${colorArray(fillColor)}` : ''}${border(strokeColor ? width : 0, c)}${opacityEntry(c)}`
  return { subtype, rect, entries, appearance: { ops, resources: g.resources } }
}

const LINE_ENDINGS: Record<string, string> = {
  square: 'Square', circle: 'Circle', diamond: 'Diamond', openArrow: 'OpenArrow', closedArrow: 'ClosedArrow', butt: 'Butt',
  reverseOpenArrow: 'ROpenArrow', reverseClosedArrow: 'RClosedArrow', slash: 'Slash',
}

function line(c: Content, s: Space): PdfAnnotationParts {
  const [sx, sy] = c.startPoint as number[]
  const [ex, ey] = c.endPoint as number[]
  const a = [s.x(sx!), s.y(sy!)] as const
  const b = [s.x(ex!), s.y(ey!)] as const
  const color = rgb(c.strokeColor) ?? BLACK
  const fillColor = rgb(c.fillColor)
  const width = typeof c.strokeWidth === 'number' ? c.strokeWidth : 1
  const caps = (c.lineCaps ?? {}) as { start?: string; end?: string }
  const g = gstate(c)
  let ops = `q\n${g.op}${stroke(color)}${fill(fillColor ?? color)}${num(width)} w 1 J\n${dash(c)}${num(a[0])} ${num(a[1])} m ${num(b[0])} ${num(b[1])} l S\n[] 0 d\n`
  // Arrow heads (the common caps); other caps are named in /LE for readers that draw them.
  ops += arrow(caps.end, b, a, width) + arrow(caps.start, a, b, width)
  const le = `/LE[/${LINE_ENDINGS[caps.start ?? ''] ?? 'None'} /${LINE_ENDINGS[caps.end ?? ''] ?? 'None'}]`
  return {
    subtype: 'Line',
    rect: s.rect(c.bbox),
    entries: `/L[${[a[0], a[1], b[0], b[1]].map(num).join(' ')}]/C${colorArray(color)}${fillColor ? `/IC${colorArray(fillColor)}` : ''}${le}${border(width, c)}${opacityEntry(c)}`,
    appearance: { ops: `${ops}Q\n`, resources: g.resources },
  }
}

function arrow(cap: string | undefined, tip: readonly [number, number], from: readonly [number, number], width: number): string {
  if (cap !== 'openArrow' && cap !== 'closedArrow') return ''
  const len = Math.hypot(tip[0] - from[0], tip[1] - from[1]) || 1
  const [ux, uy] = [(tip[0] - from[0]) / len, (tip[1] - from[1]) / len]
  const size = Math.max(6, width * 4)
  const p1 = [tip[0] - ux * size - uy * size * 0.5, tip[1] - uy * size + ux * size * 0.5]
  const p2 = [tip[0] - ux * size + uy * size * 0.5, tip[1] - uy * size - ux * size * 0.5]
  const path = `${num(p1[0]!)} ${num(p1[1]!)} m ${num(tip[0])} ${num(tip[1])} l ${num(p2[0]!)} ${num(p2[1]!)} l`
  return cap === 'closedArrow' ? `${path} h B\n` : `${path} S\n`
}

const NOTE_ICONS: Record<string, string> = {
  comment: 'Comment', rightPointer: 'RightPointer', rightArrow: 'RightArrow', check: 'Check', circle: 'Circle', cross: 'Cross',
  insert: 'Insert', newParagraph: 'NewParagraph', note: 'Note', paragraph: 'Paragraph', help: 'Help', star: 'Star', key: 'Key',
}

function note(c: Content, s: Space): PdfAnnotationParts {
  const rect = s.rect(c.bbox)
  const color = rgb(c.color) ?? [1, 0.85, 0.25]
  const [x0, y0, x1, y1] = rect
  const w = x1 - x0
  const h = y1 - y0
  const g = gstate(c)
  let ops = `q\n${g.op}${fill(color)}0.3 0.3 0.3 RG 0.8 w\n${num(x0 + 0.5)} ${num(y0 + 0.5)} ${num(w - 1)} ${num(h - 1)} re B\n`
  for (let i = 1; i <= 3; i++) ops += `${num(x0 + w * 0.2)} ${num(y1 - h * 0.22 * i)} m ${num(x1 - w * 0.2)} ${num(y1 - h * 0.22 * i)} l S\n`
  return {
    subtype: 'Text',
    rect,
    entries: `/Name/${NOTE_ICONS[c.icon as string] ?? 'Note'}/C${colorArray(color)}/Open false${opacityEntry(c)}`,
    appearance: { ops: `${ops}Q\n`, resources: g.resources },
  }
}

/** Greedy breaking by the embedded fonts' widths (characters, since CJK has no spaces), honouring newlines. */
function wrapUnicode(u: UnicodeText, value: string, size: number, maxWidth: number): string[] {
  const out: string[] = []
  for (const paragraph of value.replace(/\r\n?/g, '\n').split('\n')) {
    let line = ''
    for (const ch of paragraph) {
      if (line !== '' && u.layout(line + ch).width * size > maxWidth) {
        out.push(line)
        line = ch.trim() === '' ? '' : ch
      } else line += ch
    }
    out.push(line)
  }
  return out
}

function freeTextUnicode(c: Content, s: Space, u: UnicodeText, value: string): PdfAnnotationParts {
  const rect = s.rect(c.bbox)
  const [x0, y0, x1, y1] = rect
  const size = typeof c.fontSize === 'number' && c.fontSize > 0 ? c.fontSize : 12
  const color = rgb(c.fontColor) ?? BLACK
  const bg = rgb(c.backgroundColor)
  const pad = 2
  const lines = wrapUnicode(u, value, size, Math.max(1, x1 - x0 - 2 * pad))
  const leading = size * 1.2
  const g = gstate(c)
  let top = y1 - pad
  let ops = `q\n${g.op}`
  if (bg) ops += `${fill(bg)}${num(x0)} ${num(y0)} ${num(x1 - x0)} ${num(y1 - y0)} re f\n`
  ops += `${num(x0)} ${num(y0)} ${num(x1 - x0)} ${num(y1 - y0)} re W n\nBT\n${fill(color)}`
  const allRuns: Array<{ font: string }> = []
  for (const l of lines) {
    top -= leading
    const laid = u.layout(l)
    allRuns.push(...laid.runs)
    const lw = laid.width * size
    const align = c.horizontalAlign as string
    const x = align === 'center' ? (x0 + x1 - lw) / 2 : align === 'right' ? x1 - pad - lw : x0 + pad
    ops += `1 0 0 1 ${num(x)} ${num(top + (leading - size) / 2 + size * 0.22)} Tm ${laid.runs.map((r) => `/${r.font} ${num(size)} Tf <${r.hex}> Tj`).join(' ')}\n`
  }
  ops += 'ET\nQ\n'
  return {
    subtype: 'FreeText',
    rect,
    entries: `/DA${text(`/Helv ${num(size)} Tf ${color.map(num).join(' ')} rg`)}/Q 0${bg ? `/C${colorArray(bg)}` : ''}${opacityEntry(c)}`,
    appearance: { ops, resources: `${g.resources}${allRuns.length > 0 ? u.fontResources(allRuns) : ''}` },
  }
}

function freeText(c: Content, s: Space, ctx?: BuildContext): PdfAnnotationParts {
  const raw = ((c.text as { value?: string }).value ?? '').replace(/<[^>]*>/g, '')
  if (ctx?.unicode && /[^\x20-\x7e\xa0-\xff\n\r]/.test(raw)) return freeTextUnicode(c, s, ctx.unicode, raw)
  const rect = s.rect(c.bbox)
  const [x0, y0, x1, y1] = rect
  const size = typeof c.fontSize === 'number' && c.fontSize > 0 ? c.fontSize : 12
  const font = fontVariant(c.fontStyle)
  const bold = font === 'FB' || font === 'FBI'
  const color = rgb(c.fontColor) ?? BLACK
  const bg = rgb(c.backgroundColor)
  const borderColor = rgb(c.borderColor)
  const bw = typeof c.borderWidth === 'number' ? c.borderWidth : 0
  const value = ((c.text as { value?: string }).value ?? '').replace(/<[^>]*>/g, '') // xhtml: text only
  const pad = 2 + bw
  const lines = wrap(value, size, Math.max(1, x1 - x0 - 2 * pad), bold)
  const leading = size * 1.2
  const block = lines.length * leading
  const valign = c.verticalAlign as string
  let top = valign === 'bottom' ? y0 + pad + block : valign === 'center' ? (y0 + y1 + block) / 2 : y1 - pad
  const g = gstate(c)
  let ops = `q\n${g.op}`
  if (bg) ops += `${fill(bg)}${num(x0)} ${num(y0)} ${num(x1 - x0)} ${num(y1 - y0)} re f\n`
  if (bw > 0 && borderColor) ops += `${stroke(borderColor)}${num(bw)} w\n${num(x0 + bw / 2)} ${num(y0 + bw / 2)} ${num(x1 - x0 - bw)} ${num(y1 - y0 - bw)} re S\n`
  ops += `${num(x0)} ${num(y0)} ${num(x1 - x0)} ${num(y1 - y0)} re W n\nBT\n/${font} ${num(size)} Tf\n${fill(color)}`
  for (const l of lines) {
    top -= leading
    const lw = textWidth(l, size, bold)
    const align = c.horizontalAlign as string
    const x = align === 'center' ? (x0 + x1 - lw) / 2 : align === 'right' ? x1 - pad - lw : x0 + pad
    ops += `1 0 0 1 ${num(x)} ${num(top + (leading - size) / 2 + size * 0.22)} Tm ${show(l)} Tj\n`
  }
  ops += 'ET\nQ\n'
  const q = c.horizontalAlign === 'center' ? 1 : c.horizontalAlign === 'right' ? 2 : 0
  return {
    subtype: 'FreeText',
    rect,
    entries: `/DA${text(`/Helv ${num(size)} Tf ${color.map(num).join(' ')} rg`)}/Q ${q}${bg ? `/C${colorArray(bg)}` : ''}${border(bw, c)}${opacityEntry(c)}`,
    appearance: { ops, resources: `${g.resources}${FONT_RESOURCES}` },
  }
}

function link(c: Content, s: Space, ctx: BuildContext): PdfAnnotationParts {
  const rect = s.rect(c.bbox)
  const action = c.action as { type: string; uri?: string; pageIndex?: number }
  let a = ''
  if (action.type === 'uri' && typeof action.uri === 'string') a = `/A<</S/URI/URI${text(action.uri)}>>`
  else if (action.type === 'goTo' && typeof action.pageIndex === 'number') {
    const ref = ctx.pageRef(action.pageIndex)
    if (ref) a = `/Dest[${ref}/Fit]`
  }
  const bw = typeof c.borderWidth === 'number' ? c.borderWidth : 0
  const color = rgb(c.borderColor)
  const parts: PdfAnnotationParts = { subtype: 'Link', rect, entries: `${a}/Border[0 0 ${num(color ? bw : 0)}]${color ? `/C${colorArray(color)}` : ''}` }
  if (bw > 0 && color) {
    const [x0, y0, x1, y1] = rect
    parts.appearance = { ops: `q\n${stroke(color)}${num(bw)} w\n${num(x0 + bw / 2)} ${num(y0 + bw / 2)} ${num(x1 - x0 - bw)} ${num(y1 - y0 - bw)} re S\nQ\n`, resources: '' }
  }
  return parts
}

const RED_STAMPS = ['Rejected', 'NotApproved', 'Void', 'Expired', 'TopSecret', 'Confidential', 'NotForPublicRelease']
const GREEN_STAMPS = ['Approved', 'Accepted', 'Completed', 'Final', 'Sold']

function stamp(c: Content, s: Space): PdfAnnotationParts {
  const rect = s.rect(c.bbox)
  const [x0, y0, x1, y1] = rect
  const type = c.stampType as string
  const color = rgb(c.color) ?? (RED_STAMPS.includes(type) ? [0.8, 0.1, 0.1] : GREEN_STAMPS.includes(type) ? [0.1, 0.55, 0.2] : [0.15, 0.3, 0.75])
  const label = (type === 'Custom' ? String(c.title ?? '') : type.replace(/([a-z])([A-Z])/g, '$1 $2')).toUpperCase()
  const subtitle = typeof c.subtitle === 'string' ? c.subtitle : ''
  const w = x1 - x0
  const h = y1 - y0
  const bw = Math.max(1, Math.min(w, h) * 0.05)
  const sizeForWidth = (w - 4 * bw) / Math.max(1, textWidth(label, 1, true))
  const size = Math.max(1, Math.min(sizeForWidth, (subtitle ? 0.55 : 0.7) * h))
  const g = gstate(c)
  let ops = `q\n${g.op}${stroke(color)}${fill(color)}${num(bw)} w\n${num(x0 + bw / 2)} ${num(y0 + bw / 2)} ${num(w - bw)} ${num(h - bw)} re S\nBT\n/FB ${num(size)} Tf\n`
  const base = subtitle ? y0 + h * 0.45 : y0 + (h - size * 0.72) / 2
  ops += `1 0 0 1 ${num(x0 + (w - textWidth(label, size, true)) / 2)} ${num(base)} Tm ${show(label)} Tj\n`
  if (subtitle) {
    const sub = Math.max(1, Math.min(h * 0.22, (w - 4 * bw) / Math.max(1, textWidth(subtitle, 1))))
    ops += `/F ${num(sub)} Tf 1 0 0 1 ${num(x0 + (w - textWidth(subtitle, sub)) / 2)} ${num(y0 + h * 0.15)} Tm ${show(subtitle)} Tj\n`
  }
  ops += 'ET\nQ\n'
  const subj = type === 'Custom' && typeof c.title === 'string' ? `/Subj${text(c.title)}` : ''
  return {
    subtype: 'Stamp',
    rect,
    entries: `/Name${name(type)}${subj}/C${colorArray(color)}${opacityEntry(c)}`,
    appearance: { ops, resources: `${g.resources}${FONT_RESOURCES}` },
  }
}

export function buildAnnotation(c: Content, view: Rect, ctx: BuildContext): PdfAnnotationParts {
  const s = new Space(view)
  switch (c.type) {
    case 'pspdfkit/markup/highlight': return markup('Highlight', c, s)
    case 'pspdfkit/markup/underline': return markup('Underline', c, s)
    case 'pspdfkit/markup/strikeout': return markup('StrikeOut', c, s)
    case 'pspdfkit/markup/squiggly': return markup('Squiggly', c, s)
    case 'pspdfkit/ink': return ink(c, s)
    case 'pspdfkit/shape/rectangle': return shape('Square', c, s)
    case 'pspdfkit/shape/ellipse': return shape('Circle', c, s)
    case 'pspdfkit/shape/line': return line(c, s)
    case 'pspdfkit/note': return note(c, s)
    case 'pspdfkit/text': return freeText(c, s, ctx)
    case 'pspdfkit/link': return link(c, s, ctx)
    case 'pspdfkit/stamp': return stamp(c, s)
  }
}
