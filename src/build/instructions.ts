/**
 * Build instructions (Document Engine's `BuildInstructions`: parts, actions, output) and
 * document operations (`DocumentOperation`), validated into plain data before anything runs.
 * Every refusal names the field at fault (`parts[2].pages`, `actions[0].rotateBy`), so a
 * refused instruction has touched nothing. No PDF is read here: page ranges are checked against
 * page counts in the worker (engine.ts), with the same field names.
 */
import { FolioError } from '../errors.js'
import { mmToPt, PAGE_SIZES } from './pdf-writer.js'

export type FileRef = { kind: 'multipart'; name: string } | { kind: 'url'; url: string; sha256?: string }
export interface PageRange { start: number; end: number }
export interface Dimension { value: number; unit: 'pt' | '%' }

export interface WatermarkAction {
  type: 'watermark'
  text?: string
  image?: FileRef
  width: Dimension
  height: Dimension
  top?: Dimension
  right?: Dimension
  bottom?: Dimension
  left?: Dimension
  rotation: number
  opacity: number
  fontSize?: number
  fontColor: string
  fontStyle: string[]
}

export type Action =
  | { type: 'rotate'; rotateBy: 90 | 180 | 270 }
  | { type: 'flatten' }
  | { type: 'applyInstantJson'; file: FileRef }
  | WatermarkAction

export type Part =
  | { kind: 'file'; file: FileRef; password?: string; pages?: PageRange; actions: Action[] }
  | { kind: 'document'; id: string; layer?: string; password?: string; pages?: PageRange; actions: Action[] }
  | { kind: 'new'; pageCount: number; width: number; height: number; actions: Action[] }

export interface PdfOutput {
  type: 'pdf'
  metadata?: { title?: string; author?: string }
  labels: Array<{ pages: PageRange; label: string }>
  userPassword?: string
  ownerPassword?: string
  permissions: string[]
  optimize?: { linearize: boolean }
}
export interface ImageOutput { type: 'image'; format: 'png' | 'jpeg' | 'webp'; pages?: PageRange; width?: number; height?: number; dpi?: number }
export interface JsonContentOutput { type: 'json-content'; plainText: boolean; structuredText: boolean; keyValuePairs: boolean; tables: boolean }
export type Output = PdfOutput | ImageOutput | JsonContentOutput

export interface Instructions { parts: Part[]; actions: Action[]; output: Output }

export const PERMISSIONS = ['printing', 'modification', 'extract', 'annotations_and_forms', 'fill_forms', 'extract_accessibility', 'assemble', 'print_high_quality'] as const
const MAX_TEXT = 10_000
const MAX_ACTIONS = 50

export function invalid(field: string, message: string, reason = 'invalid'): FolioError {
  return new FolioError('invalid_instructions', { field, reason }, { message: `${field}: ${message}` })
}

function unsupported(field: string, what: string): FolioError {
  return new FolioError('unsupported_instruction', { field }, { message: `${field}: ${what} is not supported by Folio` })
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw invalid(field, `must be an integer from ${min} to ${max}`)
  return v
}

function number(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw invalid(field, `must be a number from ${min} to ${max}`)
  return v
}

function str(v: unknown, field: string, max = 1024): string {
  if (typeof v !== 'string' || v.length > max) throw invalid(field, `must be a string of at most ${max} characters`)
  return v
}

function optStr(v: unknown, field: string, max = 1024): string | undefined {
  return v === undefined ? undefined : str(v, field, max)
}

export function parseFileRef(v: unknown, field: string): FileRef {
  if (typeof v === 'string') {
    if (v.length === 0 || v.length > 256) throw invalid(field, 'must name a multipart part (1–256 characters)')
    return { kind: 'multipart', name: v }
  }
  if (isObj(v) && typeof v.url === 'string') {
    const sha256 = optStr(v.sha256, `${field}.sha256`, 64)
    if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) throw invalid(`${field}.sha256`, 'must be 64 lowercase hexadecimal digits')
    return { kind: 'url', url: str(v.url, `${field}.url`, 8192), sha256 }
  }
  throw invalid(field, 'must be the name of a multipart part or {"url": …}')
}

export function parsePageRange(v: unknown, field: string): PageRange | undefined {
  if (v === undefined) return undefined
  if (!isObj(v)) throw invalid(field, 'must be {"start", "end"}')
  const start = v.start === undefined ? 0 : int(v.start, `${field}.start`, -1_000_000, 1_000_000)
  const end = v.end === undefined ? -1 : int(v.end, `${field}.end`, -1_000_000, 1_000_000)
  return { start, end }
}

/** Document Engine's semantics: 0-based, negative counts from the end (-1 = last), both ends inclusive. */
export function resolveRange(range: PageRange | undefined, pageCount: number, field: string): number[] {
  if (!range) return Array.from({ length: pageCount }, (_, i) => i)
  const start = range.start < 0 ? pageCount + range.start : range.start
  const end = range.end < 0 ? pageCount + range.end : range.end
  if (start < 0 || start >= pageCount) throw invalid(`${field}.start`, `page ${range.start} is outside a document of ${pageCount} pages`, 'out_of_range')
  if (end < 0 || end >= pageCount) throw invalid(`${field}.end`, `page ${range.end} is outside a document of ${pageCount} pages`, 'out_of_range')
  if (end < start) throw invalid(field, 'end is before start', 'out_of_range')
  return Array.from({ length: end - start + 1 }, (_, i) => start + i)
}

function dimension(v: unknown, field: string, required: boolean): Dimension | undefined {
  if (v === undefined && !required) return undefined
  if (!isObj(v)) throw invalid(field, 'must be {"value", "unit": "pt" | "%"}')
  const value = number(v.value, `${field}.value`, 0, 100_000)
  if (v.unit !== 'pt' && v.unit !== '%') throw invalid(`${field}.unit`, 'must be "pt" or "%"')
  return { value, unit: v.unit }
}

export function parseAction(v: unknown, field: string): Action {
  if (!isObj(v)) throw invalid(field, 'must be an object with a "type"')
  switch (v.type) {
    case 'rotate':
      if (v.rotateBy !== 90 && v.rotateBy !== 180 && v.rotateBy !== 270) throw invalid(`${field}.rotateBy`, 'must be 90, 180 or 270')
      return { type: 'rotate', rotateBy: v.rotateBy }
    case 'flatten':
      if (v.annotationIds !== undefined) throw unsupported(`${field}.annotationIds`, 'flattening chosen annotations')
      return { type: 'flatten' }
    case 'applyInstantJson':
      return { type: 'applyInstantJson', file: parseFileRef(v.file, `${field}.file`) }
    case 'watermark': {
      const hasText = v.text !== undefined
      const hasImage = v.image !== undefined
      if (hasText === hasImage) throw invalid(field, 'a watermark needs exactly one of "text" and "image"')
      const fontColor = v.fontColor === undefined ? '#000000' : str(v.fontColor, `${field}.fontColor`, 7)
      if (!/^#[0-9a-fA-F]{6}$/.test(fontColor)) throw invalid(`${field}.fontColor`, 'must be #rrggbb')
      const fontStyle = v.fontStyle === undefined ? [] : v.fontStyle
      if (!Array.isArray(fontStyle) || !fontStyle.every((s) => s === 'bold' || s === 'italic')) throw invalid(`${field}.fontStyle`, 'must be a list of "bold", "italic"')
      const text = hasText ? str(v.text, `${field}.text`, MAX_TEXT) : undefined
      if (text !== undefined && text.length === 0) throw invalid(`${field}.text`, 'must not be empty')
      return {
        type: 'watermark',
        text,
        image: hasImage ? parseFileRef(v.image, `${field}.image`) : undefined,
        width: dimension(v.width, `${field}.width`, true)!,
        height: dimension(v.height, `${field}.height`, true)!,
        top: dimension(v.top, `${field}.top`, false),
        right: dimension(v.right, `${field}.right`, false),
        bottom: dimension(v.bottom, `${field}.bottom`, false),
        left: dimension(v.left, `${field}.left`, false),
        rotation: v.rotation === undefined ? 0 : number(v.rotation, `${field}.rotation`, -360, 360),
        opacity: v.opacity === undefined ? 1 : number(v.opacity, `${field}.opacity`, 0, 1),
        fontSize: v.fontSize === undefined ? undefined : number(v.fontSize, `${field}.fontSize`, 1, 1000),
        fontColor,
        fontStyle: fontStyle as string[],
      }
    }
    case 'ocr':
    case 'applyXfdf':
    case 'createRedactions':
    case 'applyRedactions':
      throw unsupported(`${field}.type`, `the "${v.type}" action`)
    default:
      throw invalid(`${field}.type`, 'must be one of rotate, watermark, flatten, applyInstantJson')
  }
}

function actions(v: unknown, field: string): Action[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) throw invalid(field, 'must be an array')
  if (v.length > MAX_ACTIONS) throw new FolioError('build_limit_exceeded', { field, limit: MAX_ACTIONS }, { message: `${field}: at most ${MAX_ACTIONS} actions` })
  return v.map((a, i) => parseAction(a, `${field}[${i}]`))
}

function layout(v: unknown, field: string): { width: number; height: number } {
  let [w, h] = PAGE_SIZES.A4!
  let margin = false
  if (v !== undefined) {
    if (!isObj(v)) throw invalid(field, 'must be an object')
    if (typeof v.size === 'string') {
      const preset = PAGE_SIZES[v.size]
      if (!preset) throw invalid(`${field}.size`, `must be one of ${Object.keys(PAGE_SIZES).join(', ')} or {"width", "height"}`)
      ;[w, h] = preset
    } else if (v.size !== undefined) {
      if (!isObj(v.size)) throw invalid(`${field}.size`, 'must be a preset name or {"width", "height"} in mm')
      w = number(v.size.width, `${field}.size.width`, 1, 5000)
      h = number(v.size.height, `${field}.size.height`, 1, 5000)
    }
    if (v.orientation !== undefined && v.orientation !== 'portrait' && v.orientation !== 'landscape') throw invalid(`${field}.orientation`, 'must be "portrait" or "landscape"')
    // A preset is portrait unless turned; a custom size is taken as given unless an orientation is asked.
    if (v.orientation === 'landscape' ? w < h : (v.orientation === 'portrait' || typeof v.size !== 'object') && w > h) [w, h] = [h, w]
    // Margins shape the content area of generated content; blank pages have none, so they are only checked.
    if (v.margin !== undefined) {
      if (!isObj(v.margin)) throw invalid(`${field}.margin`, 'must be an object')
      for (const side of ['left', 'top', 'right', 'bottom']) {
        if (v.margin[side] !== undefined) number(v.margin[side], `${field}.margin.${side}`, 0, 5000)
      }
      margin = true
    }
  }
  void margin
  return { width: mmToPt(w), height: mmToPt(h) }
}

function parsePart(v: unknown, field: string): Part {
  if (!isObj(v)) throw invalid(field, 'must be an object')
  if (v.html !== undefined) throw unsupported(`${field}.html`, 'an HTML part')
  if (v.file !== undefined) {
    if (v.layout !== undefined) throw unsupported(`${field}.layout`, 'a layout for a file part (Office and e-mail inputs)')
    return {
      kind: 'file',
      file: parseFileRef(v.file, `${field}.file`),
      password: optStr(v.password, `${field}.password`),
      pages: parsePageRange(v.pages, `${field}.pages`),
      actions: actions(v.actions, `${field}.actions`),
    }
  }
  if (v.document !== undefined) {
    if (!isObj(v.document)) throw invalid(`${field}.document`, 'must be {"id", "layer"?}')
    return {
      kind: 'document',
      id: str(v.document.id, `${field}.document.id`, 256),
      layer: optStr(v.document.layer, `${field}.document.layer`, 256),
      password: optStr(v.password, `${field}.password`),
      pages: parsePageRange(v.pages, `${field}.pages`),
      actions: actions(v.actions, `${field}.actions`),
    }
  }
  if (v.page !== undefined) {
    if (v.page !== 'new') throw invalid(`${field}.page`, 'must be "new"')
    const size = layout(v.layout, `${field}.layout`)
    return { kind: 'new', pageCount: v.pageCount === undefined ? 1 : int(v.pageCount, `${field}.pageCount`, 1, 1_000_000), ...size, actions: actions(v.actions, `${field}.actions`) }
  }
  throw invalid(field, 'must be a file, document or new-page part')
}

function parseOutput(v: unknown): Output {
  if (v === undefined) return { type: 'pdf', labels: [], permissions: [] }
  if (!isObj(v)) throw invalid('output', 'must be an object')
  const type = v.type ?? 'pdf'
  if (type === 'pdf') {
    let metadata: PdfOutput['metadata']
    if (v.metadata !== undefined) {
      if (!isObj(v.metadata)) throw invalid('output.metadata', 'must be an object')
      metadata = { title: optStr(v.metadata.title, 'output.metadata.title'), author: optStr(v.metadata.author, 'output.metadata.author') }
    }
    const labels = v.labels === undefined ? [] : v.labels
    if (!Array.isArray(labels) || labels.length > 1000) throw invalid('output.labels', 'must be an array of at most 1000 labels')
    const perms = v.user_permissions === undefined ? [] : v.user_permissions
    if (!Array.isArray(perms) || !perms.every((p) => (PERMISSIONS as readonly unknown[]).includes(p))) throw invalid('output.user_permissions', `must be a list of ${PERMISSIONS.join(', ')}`)
    let optimize: PdfOutput['optimize']
    if (v.optimize !== undefined) {
      if (!isObj(v.optimize)) throw invalid('output.optimize', 'must be an object')
      for (const k of ['grayscaleText', 'grayscaleGraphics', 'grayscaleImages', 'grayscaleFormFields', 'grayscaleAnnotations', 'disableImages', 'mrcCompression']) {
        if (v.optimize[k] === true) throw unsupported(`output.optimize.${k}`, `"${k}"`)
      }
      if (v.optimize.linearize !== undefined && typeof v.optimize.linearize !== 'boolean') throw invalid('output.optimize.linearize', 'must be a boolean')
      optimize = { linearize: v.optimize.linearize === true }
    }
    const userPassword = optStr(v.user_password, 'output.user_password', 127)
    const ownerPassword = optStr(v.owner_password, 'output.owner_password', 127)
    if (perms.length > 0 && userPassword === undefined && ownerPassword === undefined) throw invalid('output.user_permissions', 'needs user_password or owner_password')
    return {
      type: 'pdf',
      metadata,
      labels: labels.map((l: unknown, i: number) => {
        if (!isObj(l)) throw invalid(`output.labels[${i}]`, 'must be {"pages", "label"}')
        return { pages: parsePageRange(l.pages ?? {}, `output.labels[${i}].pages`)!, label: str(l.label, `output.labels[${i}].label`, 256) }
      }),
      userPassword,
      ownerPassword,
      permissions: perms as string[],
      optimize,
    }
  }
  if (type === 'image') {
    const format = v.format === undefined ? 'png' : v.format === 'jpg' ? 'jpeg' : v.format
    if (format !== 'png' && format !== 'jpeg' && format !== 'webp') throw invalid('output.format', 'must be png, jpeg, jpg or webp')
    const out: ImageOutput = {
      type: 'image',
      format,
      pages: parsePageRange(v.pages, 'output.pages'),
      width: v.width === undefined ? undefined : int(v.width, 'output.width', 1, 5000),
      height: v.height === undefined ? undefined : int(v.height, 'output.height', 1, 5000),
      dpi: v.dpi === undefined ? undefined : number(v.dpi, 'output.dpi', 1, 2400),
    }
    if (out.width === undefined && out.height === undefined && out.dpi === undefined) throw invalid('output', 'an image output needs width, height or dpi')
    return out
  }
  if (type === 'json-content') {
    const flag = (k: string, d: boolean) => {
      if (v[k] === undefined) return d
      if (typeof v[k] !== 'boolean') throw invalid(`output.${k}`, 'must be a boolean')
      return v[k] as boolean
    }
    return { type: 'json-content', plainText: flag('plainText', true), structuredText: flag('structuredText', false), keyValuePairs: flag('keyValuePairs', false), tables: flag('tables', true) }
  }
  if (type === 'pdfa' || type === 'docx' || type === 'xlsx' || type === 'pptx') throw unsupported('output.type', `"${String(type)}" output`)
  throw invalid('output.type', 'must be pdf, image or json-content')
}

export function parseInstructions(v: unknown, limits: { maxParts: number }): Instructions {
  if (!isObj(v)) throw invalid('instructions', 'must be an object with "parts"')
  if (!Array.isArray(v.parts) || v.parts.length === 0) throw invalid('parts', 'must be a non-empty array')
  if (v.parts.length > limits.maxParts) {
    throw new FolioError('build_limit_exceeded', { field: 'parts', limit: limits.maxParts }, { message: `parts: at most ${limits.maxParts} parts (BUILD_MAX_PARTS)` })
  }
  return {
    parts: v.parts.map((p, i) => parsePart(p, `parts[${i}]`)),
    actions: actions(v.actions, 'actions'),
    output: parseOutput(v.output),
  }
}

/** Every multipart name the instructions refer to (file parts, Instant JSON, watermark images). */
export function multipartNames(ins: { parts: Part[]; actions: Action[] }): string[] {
  const names = new Set<string>()
  const fromActions = (as: Action[]) => {
    for (const a of as) {
      if (a.type === 'applyInstantJson' && a.file.kind === 'multipart') names.add(a.file.name)
      if (a.type === 'watermark' && a.image?.kind === 'multipart') names.add(a.image.name)
    }
  }
  for (const p of ins.parts) {
    if (p.kind === 'file' && p.file.kind === 'multipart') names.add(p.file.name)
    fromActions(p.actions)
  }
  fromActions(ins.actions)
  return [...names]
}
