/**
 * The build engine: runs inside a build worker (worker.ts), never on the main thread. It turns
 * validated instructions (instructions.ts) or document operations (operations.ts) whose files
 * are already on local disk into one PDF in the job's work folder. Page assembly, rotation,
 * overlays, flattening, encryption and optimisation are qpdf runs (qpdf.ts, each with the time
 * left of the job's deadline); Folio's own writers add what qpdf's command line cannot (blank
 * and watermark pages, annotations from Instant JSON, metadata, page labels).
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { appendFile, copyFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { FolioError } from '../errors.js'
import { API_ACTOR } from '../annotations/items.js'
import { parseItems, type WriteItem } from '../annotations/items.js'
import { buildExport, readPdfAnnotations } from '../annotations/pdf-export.js'
import { FONT_RESOURCES, fontVariant, show, textWidth } from '../annotations/pdf-text.js'
import { IncrementalUpdate } from '../pdf/incremental.js'
import { inspectPdf, openFileReader, type PdfPageInfo } from '../pdf/inspect.js'
import { isDict, Name, PdfString, Ref, type PdfDict, type PdfValue } from '../pdf/lexer.js'
import { num, serialize, text } from '../pdf/serialize.js'
import { readStructure, type PdfStructure } from '../pdf/structure.js'
import { invalid, resolveRange, type Action, type PageRange, type PdfOutput, type WatermarkAction } from './instructions.js'
import { runQpdf, QpdfError } from './qpdf.js'
import { writeSimplePdf, type SimplePage } from './pdf-writer.js'
import { UnicodeText, unicodeFontsAvailable } from './unicode-font.js'
import { planOperations, type Operation } from './operations.js'

/** Where an output page came from: which input (part or operation input) and which page of it. */
export interface PageOrigin { input: number; page: number; rotate: number }

export interface EngineInput {
  /** A PDF on disk, or blank pages Folio writes. */
  path?: string
  password?: string
  blank?: { pageCount: number; width: number; height: number; color?: string }
  pages?: PageRange
  actions: ResolvedAction[]
  /** The field named in errors about this input (`parts[1]`). */
  field: string
}

export type ResolvedAction =
  | Exclude<Action, { type: 'applyInstantJson' } | WatermarkAction>
  | { type: 'applyInstantJson'; path: string; field: string }
  | (Omit<WatermarkAction, 'image'> & { imagePath?: string; field: string })

export interface BuildJob {
  kind: 'build'
  workdir: string
  deadline: number
  maxPages: number
  inputs: EngineInput[]
  actions: ResolvedAction[]
  /** PDF options; image and JSON outputs are made from the PDF by the caller. */
  pdf?: PdfOutput
  /** Inputs whose annotations (as written into the built file) are returned for import. */
  importFrom?: number[]
}

export interface OperationsJob {
  kind: 'operations'
  workdir: string
  deadline: number
  maxPages: number
  /** inputs[0] is the document; the others are importDocument files. */
  inputs: Array<{ path: string; field: string }>
  operations: Operation[]
  /** applyInstantJson operations: the part each names, on disk (written into the file, pdf_with_operations). */
  instantJson: Array<{ path: string; field: string }>
}

export type EngineJob = BuildJob | OperationsJob

export interface EngineResult {
  path: string
  size: number
  sha256: string
  /** Annotations of the built file on pages from `importFrom` inputs (Instant JSON content). */
  imported: Array<{ content: Record<string, unknown> }>
  pageCount: number
  pages: PdfPageInfo[]
  version: string
  /** Per output page, its origin; null for pages that come from no input (never today). */
  origins: Array<PageOrigin | null>
}

let counter = 0

function timeLeft(deadline: number): number {
  const left = deadline - Date.now()
  if (left <= 0) throw new FolioError('build_failed', { reason: 'timeout' }, { message: 'The build ran past BUILD_TIMEOUT_MS' })
  return left
}

async function qpdf(job: { deadline: number }, args: string[], field?: string): Promise<string> {
  try {
    return await runQpdf(args, { timeoutMs: timeLeft(job.deadline) })
  } catch (e) {
    if (e instanceof QpdfError) {
      if (e.reason === 'timeout') throw new FolioError('build_failed', { reason: 'timeout' }, { message: 'The build ran past BUILD_TIMEOUT_MS', cause: e })
      throw new FolioError('build_failed', { reason: e.reason === 'missing' ? 'engine_error' : 'unreadable', ...(field ? { field } : {}) }, {
        message: field ? `${field}: the file could not be processed as a PDF` : 'The PDF could not be processed',
        cause: e,
      })
    }
    throw e
  }
}

function tmp(job: { workdir: string }, name: string): string {
  return join(job.workdir, `${++counter}-${name}.pdf`)
}

async function pageCount(job: { deadline: number }, path: string, field: string): Promise<number> {
  const out = await qpdf(job, ['--show-npages', path], field)
  const n = Number(out.trim())
  if (!Number.isSafeInteger(n) || n < 1) throw new FolioError('build_failed', { reason: 'unreadable', field }, { message: `${field}: the PDF has no pages` })
  return n
}

/** qpdf page list: 1-based numbers, runs compressed (`1-3,7`). */
function qpdfPages(pages: number[]): string {
  const out: string[] = []
  let i = 0
  while (i < pages.length) {
    let j = i
    while (j + 1 < pages.length && pages[j + 1] === pages[j]! + 1) j++
    out.push(i === j ? `${pages[i]! + 1}` : `${pages[i]! + 1}-${pages[j]! + 1}`)
    i = j + 1
  }
  return out.join(',')
}

function hexColor(c: string): string {
  const n = parseInt(c.slice(1), 16)
  return `${num(((n >> 16) & 255) / 255)} ${num(((n >> 8) & 255) / 255)} ${num((n & 255) / 255)}`
}

export function blankPdf(pages: Array<{ width: number; height: number; color?: string }>): Buffer {
  return writeSimplePdf(pages.map((p) => ({
    box: [0, 0, p.width, p.height],
    content: p.color && p.color.toLowerCase() !== '#ffffff' ? `${hexColor(p.color)} rg 0 0 ${num(p.width)} ${num(p.height)} re f` : '',
  })))
}

async function structureOf(path: string): Promise<{ structure: PdfStructure; close(): Promise<void> }> {
  const reader = await openFileReader(path)
  try {
    return { structure: await readStructure(reader), close: () => reader.close() }
  } catch (e) {
    await reader.close()
    throw new FolioError('build_failed', { reason: 'unreadable' }, { message: 'The PDF structure could not be read', cause: e })
  }
}

// ---- actions ----

async function rotate(job: EngineJob, path: string, by: number): Promise<string> {
  const out = tmp(job, 'rotated')
  await qpdf(job, [path, out, `--rotate=+${by}`])
  return out
}

async function flatten(job: EngineJob, path: string): Promise<string> {
  const out = tmp(job, 'flat')
  await qpdf(job, [path, out, '--flatten-annotations=all'])
  return out
}

const MAX_INSTANT_JSON_BYTES = 16 * 1024 * 1024

/** Writes the Instant JSON's annotations into the file, keeping the annotations it already has. */
async function applyInstantJson(job: EngineJob, path: string, jsonPath: string, field: string): Promise<string> {
  const raw = await readFile(jsonPath)
  if (raw.length > MAX_INSTANT_JSON_BYTES) throw new FolioError('build_limit_exceeded', { field, limit: MAX_INSTANT_JSON_BYTES }, { message: `${field}: Instant JSON over 16 MiB` })
  let doc: unknown
  try {
    doc = JSON.parse(raw.toString('utf8'))
  } catch {
    throw invalid(field, 'is not valid JSON')
  }
  const annotations = (doc as { annotations?: unknown } | null)?.annotations
  if (typeof doc !== 'object' || doc === null || !Array.isArray(annotations)) throw invalid(field, 'is not an Instant JSON document with "annotations"')
  if (annotations.length > 10_000) throw new FolioError('build_limit_exceeded', { field, limit: 10_000 }, { message: `${field}: at most 10000 annotations` })
  const { structure, close } = await structureOf(path)
  try {
    if (structure.encrypted) throw new FolioError('build_failed', { reason: 'unreadable', field }, { message: `${field}: annotations cannot be written into an encrypted PDF` })
    let parsed
    try {
      parsed = parseItems(annotations as WriteItem[], structure.pages.length, API_ACTOR, { base: (i) => `${field}.annotations[${i}]`, requireId: false, contentIsItem: true })
    } catch (e) {
      if (e instanceof FolioError) throw invalid(String((e.details as { path?: string }).path ?? field), e.message)
      throw e
    }
    const now = new Date()
    const existing = (await readPdfAnnotations(structure, 50_000)).annotations
    const ids = new Set(parsed.map((p) => p.id))
    const items = [
      ...existing.filter((a) => !a.id || !ids.has(a.id)).map((a, i) => ({ id: a.id ?? `pdf-${i}`, content: a.content, createdBy: null, createdAt: now, updatedAt: now })),
      ...parsed.map((p) => ({ id: p.id, content: p.content, createdBy: p.userId, createdAt: now, updatedAt: now })),
    ]
    const tail = await buildExport(structure, items, { flatten: false })
    const out = tmp(job, 'annotated')
    await copyFile(path, out)
    if (tail) await appendFile(out, tail)
    return out
  } finally {
    await close()
  }
}

function dim(d: { value: number; unit: 'pt' | '%' } | undefined, of: number): number | undefined {
  if (!d) return undefined
  return d.unit === '%' ? (d.value / 100) * of : d.value
}

/** Maps displayed-page coordinates (origin bottom-left) into the page's user space (§8.3.2.3, /Rotate). */
function displayToUser(view: number[], rotation: number): string {
  const [x0, y0, x1, y1] = view as [number, number, number, number]
  switch (rotation) {
    case 90: return `0 1 -1 0 ${num(x1)} ${num(y0)} cm`
    case 180: return `-1 0 0 -1 ${num(x1)} ${num(y1)} cm`
    case 270: return `0 -1 1 0 ${num(x0)} ${num(y1)} cm`
    default: return `1 0 0 1 ${num(x0)} ${num(y0)} cm`
  }
}

async function watermark(job: EngineJob, path: string, a: Extract<ResolvedAction, { type: 'watermark' }>): Promise<string> {
  const { structure, close } = await structureOf(path)
  let pages: SimplePage[]
  let extra: Array<{ body: string | Buffer }> = []
  // Text beyond WinAnsi (Cyrillic, Greek, CJK…) is drawn with an embedded Unicode font subset.
  let nextExtra = 3 // writeSimplePdf numbers its extra objects from 3
  const unicode = a.text !== undefined && /[^\x20-\x7e\xa0-\xff]/.test(a.text) && unicodeFontsAvailable() ? new UnicodeText(() => nextExtra++) : undefined
  const laidOut = unicode ? unicode.layout(a.text!) : undefined
  let fontResources = FONT_RESOURCES
  try {
    if (a.imagePath) extra = await imageXObject(a.imagePath, a.field)
    if (unicode) {
      extra = unicode.objects().map(({ body }) => ({ body }))
      fontResources = unicode.fontResources(laidOut!.runs)
    }
    pages = structure.pages.map((p) => {
      const [x0, y0, x1, y1] = p.view
      const uw = x1 - x0
      const uh = y1 - y0
      const W = p.rotation === 90 || p.rotation === 270 ? uh : uw
      const H = p.rotation === 90 || p.rotation === 270 ? uw : uh
      const w = dim(a.width, W)!
      const h = dim(a.height, H)!
      const left = dim(a.left, W)
      const right = dim(a.right, W)
      const top = dim(a.top, H)
      const bottom = dim(a.bottom, H)
      const x = left ?? (right !== undefined ? W - right - w : (W - w) / 2)
      const yTop = top ?? (bottom !== undefined ? H - bottom - h : (H - h) / 2)
      const cx = x + w / 2
      const cy = H - (yTop + h / 2)
      const rad = (a.rotation * Math.PI) / 180
      const cos = Math.cos(rad)
      const sin = Math.sin(rad)
      let body: string
      if (laidOut) {
        const size = a.fontSize ?? Math.max(1, Math.min(h * 0.8, laidOut.width > 0 ? (w * 0.95) / laidOut.width : h))
        const shown = laidOut.runs.map((r) => `/${r.font} ${num(size)} Tf <${r.hex}> Tj`).join(' ')
        body = `BT ${hexColor(a.fontColor)} rg ${num((-laidOut.width * size) / 2)} ${num(-size * 0.35)} Td ${shown} ET`
      } else if (a.text !== undefined) {
        const variant = fontVariant(a.fontStyle)
        const bold = variant === 'FB' || variant === 'FBI'
        const unit = textWidth(a.text, 1, bold)
        const size = a.fontSize ?? Math.max(1, Math.min(h * 0.8, unit > 0 ? (w * 0.95) / unit : h))
        const tw = textWidth(a.text, size, bold)
        body = `BT /${variant} ${num(size)} Tf ${hexColor(a.fontColor)} rg ${num(-tw / 2)} ${num(-size * 0.35)} Td ${show(a.text)} Tj ET`
      } else {
        body = `${num(w)} 0 0 ${num(h)} ${num(-w / 2)} ${num(-h / 2)} cm /Im0 Do`
      }
      const content = `q ${displayToUser(p.view, p.rotation)} /GS0 gs 1 0 0 1 ${num(cx)} ${num(cy)} cm ${num(cos)} ${num(sin)} ${num(-sin)} ${num(cos)} 0 0 cm ${body} Q`
      return {
        box: [x0, y0, x1, y1] as [number, number, number, number],
        rotation: p.rotation,
        content,
        resources: `${fontResources}/ExtGState<</GS0<</Type/ExtGState/ca ${num(a.opacity)}/CA ${num(a.opacity)}>>>>${a.imagePath ? '/XObject<</Im0 3 0 R>>' : ''}`,
      }
    })
  } finally {
    await close()
  }
  const wm = tmp(job, 'wm')
  await writeFile(wm, writeSimplePdf(pages, extra))
  const out = tmp(job, 'watermarked')
  await qpdf(job, [path, '--overlay', wm, '--', out])
  return out
}

/** An image file (PNG/JPEG/WebP…, decoded by sharp) as an image XObject with its alpha as /SMask. */
async function imageXObject(path: string, field: string): Promise<Array<{ body: Buffer }>> {
  const { default: sharp } = await import('sharp')
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } }
  try {
    raw = await sharp(path, { limitInputPixels: 25_000_000 }).ensureAlpha().raw().toBuffer({ resolveWithObject: true })
  } catch (e) {
    throw new FolioError('build_failed', { reason: 'unreadable', field }, { message: `${field}: the image could not be decoded`, cause: e })
  }
  const { width, height } = raw.info
  const rgb = Buffer.alloc(width * height * 3)
  const alpha = Buffer.alloc(width * height)
  for (let i = 0; i < width * height; i++) {
    rgb[i * 3] = raw.data[i * 4]!
    rgb[i * 3 + 1] = raw.data[i * 4 + 1]!
    rgb[i * 3 + 2] = raw.data[i * 4 + 2]!
    alpha[i] = raw.data[i * 4 + 3]!
  }
  const { deflateSync } = await import('node:zlib')
  const color = deflateSync(rgb)
  const mask = deflateSync(alpha)
  // writeSimplePdf numbers extras from 3: the image is 3 0 R and its mask 4 0 R.
  const stream = (dict: string, data: Buffer) => Buffer.concat([Buffer.from(`${dict.slice(0, -2)}/Length ${data.length}>>\nstream\n`, 'latin1'), data, Buffer.from('\nendstream', 'latin1')])
  return [
    { body: stream(`<</Type/XObject/Subtype/Image/Width ${width}/Height ${height}/ColorSpace/DeviceRGB/BitsPerComponent 8/Filter/FlateDecode/SMask 4 0 R>>`, color) },
    { body: stream(`<</Type/XObject/Subtype/Image/Width ${width}/Height ${height}/ColorSpace/DeviceGray/BitsPerComponent 8/Filter/FlateDecode>>`, mask) },
  ]
}

async function applyActions(job: EngineJob, path: string, actions: ResolvedAction[]): Promise<string> {
  let current = path
  for (const a of actions) {
    if (a.type === 'rotate') current = await rotate(job, current, a.rotateBy)
    else if (a.type === 'flatten') current = await flatten(job, current)
    else if (a.type === 'applyInstantJson') current = await applyInstantJson(job, current, a.path, a.field)
    else current = await watermark(job, current, a)
  }
  return current
}

// ---- metadata, labels, final pass ----

function pdfString(s: string): PdfString {
  return new PdfString(Buffer.from(text(s), 'latin1'))
}

/** Info (title, author) and /PageLabels as an incremental update, before the final qpdf pass. */
async function writeMetadata(job: EngineJob, path: string, metadata: { title?: string; author?: string } | undefined, labels: Array<string | undefined> | undefined): Promise<string> {
  if (!metadata && !labels) return path
  const { structure, close } = await structureOf(path)
  try {
    const s = { ...structure }
    const update = new IncrementalUpdate(s)
    if (metadata) {
      const old = await structure.resolve(structure.info)
      const info: PdfDict = isDict(old) ? new Map(old) : new Map()
      if (metadata.title !== undefined) info.set('Title', pdfString(metadata.title))
      if (metadata.author !== undefined) info.set('Author', pdfString(metadata.author))
      const n = update.allocate()
      update.object(n, serialize(info))
      s.info = new Ref(n, 0)
    }
    if (labels && structure.root instanceof Ref) {
      const catalog = await structure.resolve(structure.root)
      if (isDict(catalog)) {
        const nums: PdfValue[] = []
        let prev: string | undefined | null = null
        labels.forEach((label, i) => {
          if (label === prev) return
          prev = label
          nums.push(i, label === undefined ? new Map<string, PdfValue>([['S', new Name('D')], ['St', i + 1]]) : new Map<string, PdfValue>([['P', pdfString(label)]]))
        })
        const copy = new Map(catalog)
        copy.set('PageLabels', new Map<string, PdfValue>([['Nums', nums]]))
        update.object(structure.root.num, serialize(copy), structure.root.gen)
      }
    }
    const out = tmp(job, 'meta')
    await copyFile(path, out)
    await appendFile(out, update.finish())
    return out
  } finally {
    await close()
  }
}

const QPDF_PERMISSIONS: Record<string, string> = {
  modification: '--modify-other=y',
  extract: '--extract=y',
  annotations_and_forms: '--annotate=y',
  fill_forms: '--form=y',
  extract_accessibility: '--accessibility=y',
  assemble: '--assemble=y',
}

async function finalPass(job: EngineJob, path: string, pdf: PdfOutput | undefined, rewritten: boolean): Promise<string> {
  const encrypt = pdf !== undefined && (pdf.userPassword !== undefined || pdf.ownerPassword !== undefined)
  // qpdf wrote the file last already: another full rewrite would only cost time (large files).
  if (!pdf?.optimize && !encrypt && !rewritten) return path
  const out = tmp(job, 'final')
  const args = [path, out]
  if (pdf?.optimize) {
    args.push('--object-streams=generate', '--compress-streams=y', '--recompress-flate')
    if (pdf.optimize.linearize) args.push('--linearize')
  }
  if (pdf && (pdf.userPassword !== undefined || pdf.ownerPassword !== undefined)) {
    const { randomBytes } = await import('node:crypto')
    const user = pdf.userPassword ?? ''
    // Without an owner password a random one: nobody can lift the permissions.
    const owner = pdf.ownerPassword ?? randomBytes(24).toString('base64url')
    const perms = new Set(pdf.permissions)
    const print = perms.has('print_high_quality') ? 'full' : perms.has('printing') ? 'low' : 'none'
    args.push('--encrypt', user, owner, '256', `--print=${print}`)
    for (const [perm, flag] of Object.entries(QPDF_PERMISSIONS)) args.push(perms.has(perm) ? flag : flag.replace(/=y$/, '=n'))
    args.push('--')
  }
  await qpdf(job, args)
  return out
}

async function finish(job: EngineJob, path: string, origins: Array<PageOrigin | null>): Promise<EngineResult> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  const reader = await openFileReader(path)
  try {
    const info = await inspectPdf(reader)
    let imported: EngineResult['imported'] = []
    const from = job.kind === 'build' ? job.importFrom : undefined
    if (from && from.length > 0 && !info.encrypted) {
      const wanted = new Set(from)
      const { annotations } = await readPdfAnnotations(await readStructure(reader), 50_000)
      imported = annotations.filter((a) => {
        const o = origins[a.content.pageIndex]
        return o !== null && o !== undefined && wanted.has(o.input)
      }).map((a) => ({ content: a.content as Record<string, unknown> }))
    }
    return { path, size: reader.size, sha256: hash.digest('hex'), imported, pageCount: info.pageCount, pages: info.pages, version: info.version, origins }
  } finally {
    await reader.close()
  }
}

function tooManyPages(limit: number): FolioError {
  return new FolioError('build_limit_exceeded', { field: 'parts', limit }, { message: `The result would have more than ${limit} pages (BUILD_MAX_PAGES)` })
}

// ---- the two jobs ----

export async function runBuild(job: BuildJob): Promise<EngineResult> {
  const files: string[] = []
  const origins: PageOrigin[] = []
  let total = 0
  for (const [i, input] of job.inputs.entries()) {
    let path: string
    let selected: number[]
    if (input.blank) {
      total += input.blank.pageCount
      if (total > job.maxPages) throw tooManyPages(job.maxPages)
      path = tmp(job, 'blank')
      await writeFile(path, blankPdf(Array.from({ length: input.blank.pageCount }, () => input.blank!)))
      selected = Array.from({ length: input.blank.pageCount }, (_, k) => k)
    } else {
      path = input.path!
      if (input.password !== undefined) {
        const out = tmp(job, 'decrypted')
        await qpdf(job, [`--password=${input.password}`, '--decrypt', path, out], input.field)
        path = out
      }
      const count = await pageCount(job, path, input.field)
      selected = resolveRange(input.pages, count, `${input.field}.pages`)
      total += selected.length
      if (total > job.maxPages) throw tooManyPages(job.maxPages)
      if (selected.length !== count) {
        const out = tmp(job, 'selected')
        await qpdf(job, [path, '--pages', path, qpdfPages(selected), '--', out], input.field)
        path = out
      }
    }
    const rotation = input.actions.reduce((r, a) => (a.type === 'rotate' ? (r + a.rotateBy) % 360 : r), 0)
    for (const page of selected) origins.push({ input: i, page, rotate: rotation })
    files.push(await applyActions(job, path, input.actions))
  }
  let merged = files[0]!
  if (files.length > 1) {
    merged = tmp(job, 'merged')
    const args = [files[0]!, '--pages']
    for (const f of files) args.push(f, '1-z')
    args.push('--', merged)
    await qpdf(job, args)
  }
  const globalRotation = job.actions.reduce((r, a) => (a.type === 'rotate' ? (r + a.rotateBy) % 360 : r), 0)
  if (globalRotation) for (const o of origins) o.rotate = (o.rotate + globalRotation) % 360
  let out = await applyActions(job, merged, job.actions)
  let labels: Array<string | undefined> | undefined
  if (job.pdf && job.pdf.labels.length > 0) {
    labels = new Array<string | undefined>(origins.length).fill(undefined)
    job.pdf.labels.forEach((l, i) => {
      for (const p of resolveRange(l.pages, origins.length, `output.labels[${i}].pages`)) labels![p] = l.label
    })
  }
  const before = out
  out = await writeMetadata(job, out, job.pdf?.metadata, labels)
  out = await finalPass(job, out, job.pdf, out !== before || job.actions.some((a) => a.type === 'applyInstantJson') || job.inputs.length === 1 && files[0] === job.inputs[0]!.path)
  return finish(job, out, origins)
}

export async function runOperations(job: OperationsJob): Promise<EngineResult> {
  const counts: number[] = []
  for (const input of job.inputs) counts.push(await pageCount(job, input.path, input.field))
  const { pages: plan, blanks } = planOperations(job.operations, counts[0]!, counts.slice(1), job.maxPages)
  if (plan.length === 0) throw invalid('operations', 'the result would have no pages', 'no_pages')
  const paths = job.inputs.map((i) => i.path)
  if (blanks.length > 0) {
    const blank = tmp(job, 'blank')
    await writeFile(blank, blankPdf(blanks))
    paths.push(blank)
  }
  const blankInput = job.inputs.length
  const args = [paths[0]!, '--pages']
  let i = 0
  while (i < plan.length) {
    const input = plan[i]!.input
    const run: number[] = []
    while (i < plan.length && plan[i]!.input === input) run.push(plan[i++]!.page)
    args.push(paths[input === -1 ? blankInput : input]!, qpdfPages(run))
  }
  args.push('--')
  const byRotation = new Map<number, number[]>()
  plan.forEach((p, k) => {
    if (p.rotate) byRotation.set(p.rotate, [...(byRotation.get(p.rotate) ?? []), k])
  })
  for (const [by, pages] of byRotation) args.push(`--rotate=+${by}:${qpdfPages(pages)}`)
  let out = tmp(job, 'assembled')
  args.push(out)
  await qpdf(job, args)
  for (const j of job.instantJson) out = await applyInstantJson(job, out, j.path, j.field)
  if (job.operations.some((o) => o.type === 'flattenAnnotations')) out = await flatten(job, out)
  const labels = plan.some((p) => p.label !== undefined) ? plan.map((p) => p.label) : undefined
  let metadata: { title?: string; author?: string } | undefined
  for (const o of job.operations) if (o.type === 'updateMetadata') metadata = { ...metadata, ...o.metadata }
  const before = out
  out = await writeMetadata(job, out, metadata, labels)
  out = await finalPass(job, out, undefined, out !== before || job.instantJson.length > 0)
  return finish(job, out, plan.map((p) => (p.input === -1 ? null : { input: p.input, page: p.page, rotate: p.rotate })))
}
