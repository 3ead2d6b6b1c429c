/**
 * Validation of Instant JSON annotations (v2), per type, with bounded sizes and counts
 * (the rules: "known type, pageIndex within the document, numeric bbox/rects/points, colours,
 * bounded sizes and counts"). Shapes follow Document Engine's schemas (BaseAnnotation,
 * MarkupAnnotation, InkAnnotation, … in shared/reference); required fields are theirs.
 *
 * Properties this module does not know are kept as they are (Instant JSON grows; PSPDFKit
 * clients send more than the schema lists), but they count towards the size bound.
 * Coordinates are PDF points with the origin at the top left of the page (Instant JSON's
 * convention); bbox and rects are [left, top, width, height].
 */
export const ANNOTATION_TYPES = [
  'pspdfkit/markup/highlight',
  'pspdfkit/markup/underline',
  'pspdfkit/markup/strikeout',
  'pspdfkit/markup/squiggly',
  'pspdfkit/ink',
  'pspdfkit/shape/rectangle',
  'pspdfkit/shape/ellipse',
  'pspdfkit/shape/line',
  'pspdfkit/note',
  'pspdfkit/text',
  'pspdfkit/link',
  'pspdfkit/stamp',
] as const
export type AnnotationType = (typeof ANNOTATION_TYPES)[number]

/** Bounds (documented in docs/annotations.md). */
export const LIMITS = {
  contentBytes: 512 * 1024, // one annotation's JSON
  textChars: 64 * 1024, // note, text.value, custom stamp title/subtitle
  shortChars: 1024, // name, creatorName, font, ids in actions…
  customDataBytes: 16 * 1024,
  actionBytes: 8 * 1024,
  rects: 1000, // per markup annotation
  inkLines: 1000,
  pointsPerLine: 10_000,
  inkPoints: 100_000, // all lines of one ink annotation
  coordinate: 100_000, // |x| in points; a PDF page is at most 14,400 units wide
  width: 1000, // line, stroke and border widths
  fontSize: 1000,
  dashes: 16,
} as const

export type InvalidReason =
  | 'missing' | 'wrong_type' | 'not_finite' | 'out_of_range' | 'unknown_type' | 'unsupported_version'
  | 'too_many' | 'too_long' | 'too_large' | 'bad_color' | 'not_allowed' | 'page_out_of_range'

export class InvalidAnnotation extends Error {
  constructor(readonly path: string, readonly reason: InvalidReason, message: string) {
    super(message)
    this.name = 'InvalidAnnotation'
  }
}

export type Content = Record<string, unknown> & { v: 2; type: AnnotationType; pageIndex: number; bbox: number[] }

const COLOR = /^#[0-9a-fA-F]{6}$/
const BLEND_MODES = ['normal', 'multiply', 'screen', 'overlay', 'darken', 'lighten', 'colorDodge', 'colorBurn', 'hardLight', 'softLight', 'difference', 'exclusion']
const FLAGS = ['noPrint', 'noZoom', 'noRotate', 'noView', 'hidden', 'invisible', 'readOnly', 'locked', 'toggleNoView', 'lockedContents']
const NOTE_ICONS = ['comment', 'rightPointer', 'rightArrow', 'check', 'circle', 'cross', 'insert', 'newParagraph', 'note', 'paragraph', 'help', 'star', 'key']
const LINE_CAPS = ['square', 'circle', 'diamond', 'openArrow', 'closedArrow', 'butt', 'reverseOpenArrow', 'reverseClosedArrow', 'slash']
export const STAMP_TYPES = [
  'Accepted', 'Approved', 'AsIs', 'Completed', 'Confidential', 'Departmental', 'Draft', 'Experimental', 'Expired', 'Final',
  'ForComment', 'ForPublicRelease', 'InformationOnly', 'InitialHere', 'NotApproved', 'NotForPublicRelease', 'PreliminaryResults',
  'Rejected', 'Revised', 'SignHere', 'Sold', 'TopSecret', 'Void', 'Witness', 'Custom',
]
const ACTION_TYPES = ['goTo', 'goToRemote', 'goToEmbedded', 'launch', 'uri', 'hide', 'javaScript', 'submitForm', 'resetForm', 'named']

/** Small checking helpers bound to a path prefix, so every failure names where it is. */
class Checker {
  constructor(readonly base: string, readonly obj: Record<string, unknown>) {}

  fail(key: string, reason: InvalidReason, message: string): never {
    throw new InvalidAnnotation(`${this.base}.${key}`, reason, `${this.base}.${key} ${message}`)
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined
  }

  required(key: string): unknown {
    const v = this.obj[key]
    if (v === undefined || v === null) this.fail(key, 'missing', 'is required')
    return v
  }

  number(key: string, opts: { min?: number; max?: number; integer?: boolean; optional?: boolean } = {}): number | undefined {
    if (opts.optional && !this.has(key)) return undefined
    return checkNumber(this.required(key), `${this.base}.${key}`, opts)
  }

  string(key: string, max: number, opts: { optional?: boolean; nullable?: boolean } = {}): string | undefined {
    if ((opts.optional && !this.has(key)) || (opts.nullable && this.obj[key] === null)) return undefined
    const v = this.required(key)
    if (typeof v !== 'string') this.fail(key, 'wrong_type', 'must be a string')
    if (v.length > max) this.fail(key, 'too_long', `is longer than ${max} characters`)
    return v
  }

  oneOf(key: string, allowed: readonly string[], opts: { optional?: boolean } = {}): void {
    if (opts.optional && !this.has(key)) return
    const v = this.required(key)
    if (typeof v !== 'string' || !allowed.includes(v)) this.fail(key, 'not_allowed', `must be one of ${allowed.join(', ')}`)
  }

  color(key: string, opts: { optional?: boolean } = {}): void {
    if (opts.optional && (!this.has(key) || this.obj[key] === null)) return
    const v = this.required(key)
    if (typeof v !== 'string' || !COLOR.test(v)) this.fail(key, 'bad_color', 'must be a colour "#rrggbb"')
  }

  boolean(key: string): void {
    if (this.has(key) && typeof this.obj[key] !== 'boolean') this.fail(key, 'wrong_type', 'must be true or false')
  }

  object(key: string, opts: { optional?: boolean } = {}): Checker | undefined {
    if (opts.optional && !this.has(key)) return undefined
    const v = this.required(key)
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(key, 'wrong_type', 'must be an object')
    return new Checker(`${this.base}.${key}`, v as Record<string, unknown>)
  }

  array(key: string, max: number, opts: { optional?: boolean; min?: number } = {}): unknown[] | undefined {
    if (opts.optional && !this.has(key)) return undefined
    const v = this.required(key)
    if (!Array.isArray(v)) this.fail(key, 'wrong_type', 'must be an array')
    if (v.length > max) this.fail(key, 'too_many', `has more than ${max} items`)
    if (v.length < (opts.min ?? 0)) this.fail(key, 'missing', `needs at least ${opts.min} item(s)`)
    return v
  }
}

function checkNumber(v: unknown, path: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
  if (typeof v !== 'number') throw new InvalidAnnotation(path, 'wrong_type', `${path} must be a number`)
  if (!Number.isFinite(v)) throw new InvalidAnnotation(path, 'not_finite', `${path} must be finite`)
  if (opts.integer && !Number.isInteger(v)) throw new InvalidAnnotation(path, 'wrong_type', `${path} must be an integer`)
  const min = opts.min ?? -LIMITS.coordinate
  const max = opts.max ?? LIMITS.coordinate
  if (v < min || v > max) throw new InvalidAnnotation(path, 'out_of_range', `${path} must be between ${min} and ${max}`)
  return v
}

/** A fixed-length tuple of coordinates: bbox and rects [l, t, w, h] (w, h ≥ 0), points [x, y]. */
function checkTuple(v: unknown, path: string, length: 2 | 4): number[] {
  if (!Array.isArray(v) || v.length !== length) {
    throw new InvalidAnnotation(path, 'wrong_type', `${path} must be an array of ${length} numbers`)
  }
  v.forEach((n, i) => checkNumber(n, `${path}[${i}]`, length === 4 && i >= 2 ? { min: 0 } : {}))
  return v as number[]
}

function jsonBytes(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8')
}

/**
 * Checks one annotation's content and returns it typed. `pageCount` bounds pageIndex.
 * Throws InvalidAnnotation naming the first problem (path below `base`).
 */
export function validateContent(content: unknown, pageCount: number, base = '$.content'): Content {
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new InvalidAnnotation(base, 'wrong_type', `${base} must be an Instant JSON annotation object`)
  }
  const size = jsonBytes(content)
  if (size > LIMITS.contentBytes) {
    throw new InvalidAnnotation(base, 'too_large', `${base} is ${size} bytes; at most ${LIMITS.contentBytes} are allowed`)
  }
  const c = new Checker(base, content as Record<string, unknown>)
  if (c.required('v') !== 2) c.fail('v', 'unsupported_version', 'must be 2 (Instant JSON annotation v2)')
  const type = c.required('type')
  if (typeof type !== 'string' || !(ANNOTATION_TYPES as readonly string[]).includes(type)) {
    c.fail('type', 'unknown_type', `must be one of ${ANNOTATION_TYPES.join(', ')}`)
  }
  const pageIndex = c.number('pageIndex', { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true })!
  if (pageIndex >= pageCount) c.fail('pageIndex', 'page_out_of_range', `is ${pageIndex}, but the document has ${pageCount} page(s)`)
  checkTuple(c.required('bbox'), `${base}.bbox`, 4)
  checkBase(c, pageCount)
  CHECKS[type as AnnotationType](c, pageCount)
  return content as Content
}

function checkBase(c: Checker, pageCount: number): void {
  c.number('opacity', { min: 0, max: 1, optional: true })
  c.string('id', LIMITS.shortChars, { optional: true })
  c.string('name', LIMITS.shortChars, { optional: true, nullable: true })
  c.string('creatorName', LIMITS.shortChars, { optional: true, nullable: true })
  c.string('note', LIMITS.textChars, { optional: true, nullable: true })
  c.string('createdAt', 64, { optional: true })
  c.string('updatedAt', 64, { optional: true })
  c.number('pdfObjectId', { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true, optional: true })
  c.oneOf('blendMode', BLEND_MODES, { optional: true })
  const flags = c.array('flags', FLAGS.length, { optional: true })
  flags?.forEach((f, i) => {
    if (typeof f !== 'string' || !FLAGS.includes(f)) c.fail(`flags[${i}]`, 'not_allowed', `must be one of ${FLAGS.join(', ')}`)
  })
  if (c.has('customData') && c.obj.customData !== null) {
    const cd = c.obj.customData
    if (typeof cd !== 'object' || Array.isArray(cd)) c.fail('customData', 'wrong_type', 'must be an object or null')
    if (jsonBytes(cd) > LIMITS.customDataBytes) c.fail('customData', 'too_large', `is larger than ${LIMITS.customDataBytes} bytes`)
  }
  if (c.has('action')) checkAction(c, pageCount)
}

function checkAction(c: Checker, pageCount: number): void {
  const a = c.object('action')!
  if (jsonBytes(a.obj) > LIMITS.actionBytes) c.fail('action', 'too_large', `is larger than ${LIMITS.actionBytes} bytes`)
  a.oneOf('type', ACTION_TYPES)
  if (a.obj.type === 'uri') a.string('uri', 4096)
  if (a.obj.type === 'goTo') {
    const p = a.number('pageIndex', { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true })!
    if (p >= pageCount) a.fail('pageIndex', 'page_out_of_range', `is ${p}, but the document has ${pageCount} page(s)`)
  }
}

function checkMarkup(c: Checker): void {
  const rects = c.array('rects', LIMITS.rects, { min: 1 })!
  rects.forEach((r, i) => checkTuple(r, `${c.base}.rects[${i}]`, 4))
  c.color('color')
}

function checkShape(c: Checker): void {
  c.number('strokeWidth', { min: 0, max: LIMITS.width, optional: true })
  c.color('strokeColor', { optional: true })
  c.color('fillColor', { optional: true })
  const dashes = c.array('strokeDashArray', LIMITS.dashes, { optional: true })
  dashes?.forEach((d, i) => checkNumber(d, `${c.base}.strokeDashArray[${i}]`, { min: 0, max: LIMITS.width }))
  c.number('cloudyBorderIntensity', { min: 0, max: 100, optional: true })
}

function checkInk(c: Checker): void {
  const lines = c.object('lines')!
  const segments = lines.array('points', LIMITS.inkLines, { min: 1 })!
  let total = 0
  segments.forEach((segment, i) => {
    const path = `${lines.base}.points[${i}]`
    if (!Array.isArray(segment)) throw new InvalidAnnotation(path, 'wrong_type', `${path} must be an array of points`)
    if (segment.length > LIMITS.pointsPerLine) throw new InvalidAnnotation(path, 'too_many', `${path} has more than ${LIMITS.pointsPerLine} points`)
    if (segment.length === 0) throw new InvalidAnnotation(path, 'missing', `${path} needs at least one point`)
    total += segment.length
    segment.forEach((p, j) => checkTuple(p, `${path}[${j}]`, 2))
  })
  if (total > LIMITS.inkPoints) lines.fail('points', 'too_many', `has more than ${LIMITS.inkPoints} points in all`)
  const intensities = lines.array('intensities', LIMITS.inkLines, { optional: true })
  intensities?.forEach((segment, i) => {
    const path = `${lines.base}.intensities[${i}]`
    if (!Array.isArray(segment) || segment.length > LIMITS.pointsPerLine) throw new InvalidAnnotation(path, 'wrong_type', `${path} must be an array of at most ${LIMITS.pointsPerLine} numbers`)
    segment.forEach((n, j) => checkNumber(n, `${path}[${j}]`, { min: 0, max: 1 }))
  })
  c.number('lineWidth', { min: 0, max: LIMITS.width })
  c.color('strokeColor', { optional: true })
  c.color('backgroundColor', { optional: true })
  c.boolean('isSignature')
  c.boolean('isDrawnNaturally')
}

function checkText(c: Checker): void {
  const text = c.object('text')!
  text.oneOf('format', ['plain', 'xhtml'], { optional: true })
  text.string('value', LIMITS.textChars)
  c.number('fontSize', { min: 0, max: LIMITS.fontSize })
  c.number('opacity', { min: 0, max: 1 })
  c.oneOf('horizontalAlign', ['left', 'center', 'right'])
  c.oneOf('verticalAlign', ['top', 'center', 'bottom'])
  c.color('fontColor', { optional: true })
  c.color('backgroundColor', { optional: true })
  c.color('borderColor', { optional: true })
  c.string('font', LIMITS.shortChars, { optional: true })
  c.number('rotation', { min: 0, max: 270, integer: true, optional: true })
  c.number('borderWidth', { min: 0, max: LIMITS.width, optional: true })
  const style = c.array('fontStyle', 2, { optional: true })
  style?.forEach((s, i) => {
    if (s !== 'bold' && s !== 'italic') c.fail(`fontStyle[${i}]`, 'not_allowed', 'must be bold or italic')
  })
}

const CHECKS: Record<AnnotationType, (c: Checker, pageCount: number) => void> = {
  'pspdfkit/markup/highlight': checkMarkup,
  'pspdfkit/markup/underline': checkMarkup,
  'pspdfkit/markup/strikeout': checkMarkup,
  'pspdfkit/markup/squiggly': checkMarkup,
  'pspdfkit/ink': checkInk,
  'pspdfkit/shape/rectangle': checkShape,
  'pspdfkit/shape/ellipse': checkShape,
  'pspdfkit/shape/line'(c) {
    checkShape(c)
    checkTuple(c.required('startPoint'), `${c.base}.startPoint`, 2)
    checkTuple(c.required('endPoint'), `${c.base}.endPoint`, 2)
    const caps = c.object('lineCaps', { optional: true })
    caps?.oneOf('start', LINE_CAPS, { optional: true })
    caps?.oneOf('end', LINE_CAPS, { optional: true })
  },
  'pspdfkit/note'(c) {
    const text = c.object('text')!
    text.oneOf('format', ['plain', 'xhtml'], { optional: true })
    text.string('value', LIMITS.textChars)
    c.oneOf('icon', NOTE_ICONS)
    c.color('color', { optional: true })
  },
  'pspdfkit/text': checkText,
  'pspdfkit/link'(c) {
    if (!c.has('action')) c.fail('action', 'missing', 'is required for a link')
    c.color('borderColor', { optional: true })
    c.number('borderWidth', { min: 0, max: LIMITS.width, optional: true })
  },
  'pspdfkit/stamp'(c) {
    c.oneOf('stampType', STAMP_TYPES)
    c.string('title', LIMITS.textChars, { optional: true, nullable: true })
    c.string('subtitle', LIMITS.textChars, { optional: true, nullable: true })
    c.color('color', { optional: true })
    c.number('rotation', { min: 0, max: 270, integer: true, optional: true })
  },
}

/** Annotation ids: client-given or generated; safe as one URL path segment. */
export const ANNOTATION_ID_RE = /^[A-Za-z0-9_-][A-Za-z0-9_.:-]{0,127}$/
