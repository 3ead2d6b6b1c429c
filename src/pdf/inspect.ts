/**
 * Random-access PDF structure inspector: validates an uploaded file and learns its page count,
 * page sizes and rotation by reading only the header, the tail (startxref), the cross-reference
 * data and the page tree — a few KiB for a 500 MB file, with memory independent of file size.
 *
 * Repair: when the cross-reference as written does not lead to a page tree (a wrong startxref,
 * no xref table, shifted offsets), it is rebuilt by scanning the file for `N G obj`, as poppler,
 * qpdf and PDFium do (repair.ts), and `repaired` says why. Only an intact file costs no scan.
 *
 * Every operation runs within work budgets (objects.ts Limits) and, in Folio, inside a worker
 * thread (src/workers/): the inspector never runs on the main thread.
 *
 * Layout: lexer.ts (object syntax), xref.ts (tables, streams, /Prev chain), repair.ts (rebuild),
 * document.ts (xref as written, else rebuilt), objects.ts (indirect objects, object streams,
 * budgets), filters.ts (Flate + predictors), reader.ts (file access).
 */
import { withDocument } from './document.js'
import { fail, overBudget, PdfInspectError } from './errors.js'
import { isDict, nameOf, Ref, type PdfDict, type PdfObject } from './lexer.js'
import { DEFAULT_LIMITS, newContext, ObjectStore, type InspectContext, type Limits } from './objects.js'
import { FileWindow, ReaderFailure, type RandomAccessReader } from './reader.js'

export { PdfInspectError, type PdfErrorReason } from './errors.js'
export { bufferReader, openFileReader, type RandomAccessReader } from './reader.js'

export interface PdfPageInfo {
  /** Points (1/72 in), rounded to 3 decimals: CropBox ∩ MediaBox, before rotation. */
  width: number
  height: number
  /** Inherited /Rotate, normalised to 0–359 (clockwise degrees, §7.7.3.3). */
  rotation: 0 | 90 | 180 | 270
}

export interface PdfInfo {
  /** From the header, or the catalog's /Version when that is newer (§7.2.2, §7.7.2). */
  version: string
  pageCount: number
  pages: PdfPageInfo[]
  /** The trailer has /Encrypt. Page info is still read when the page tree is not in an object stream. */
  encrypted: boolean
  /** Set when the cross-reference was damaged and rebuilt by scanning: what was wrong. */
  repaired?: string
}

/** Overrides of the work budgets (objects.ts DEFAULT_LIMITS); each a positive integer. */
export type InspectLimits = Partial<Limits>

const HEADER_WINDOW = 1024 // §7.5.2 wants the header at byte 0; Acrobat accepts it within 1024
/** US Letter, used when no /MediaBox is found on a page or its ancestors (see pageInfo). */
export const LETTER: Rect = [0, 0, 612, 792]

/** Normalised rectangle: lower-left x, lower-left y, upper-right x, upper-right y. */
export type Rect = [number, number, number, number]
export type Rotation = PdfPageInfo['rotation']

/**
 * Reads the structure of the PDF behind `reader`. Rejects with `PdfInspectError` for anything
 * wrong with the file; an error thrown by `reader` itself (I/O) is passed through unchanged.
 */
export async function inspectPdf(reader: RandomAccessReader, limits: InspectLimits = {}): Promise<PdfInfo> {
  const ctx = newContext(new FileWindow(reader), resolveLimits(limits))
  try {
    return await inspect(ctx)
  } catch (error) {
    if (error instanceof PdfInspectError) throw error
    if (error instanceof ReaderFailure) throw error.error
    // A parser bug must still read as "this file could not be read", never as a crash.
    throw new PdfInspectError('malformed', 'the PDF structure could not be read', { cause: error })
  }
}

function resolveLimits(limits: InspectLimits): Limits {
  const resolved = { ...DEFAULT_LIMITS }
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const value = limits[key]
    if (value === undefined) continue
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`InspectLimits.${key} must be a positive integer`)
    resolved[key] = value
  }
  return resolved
}

async function inspect(ctx: InspectContext): Promise<PdfInfo> {
  const headerVersion = await readHeaderVersion(ctx.file)
  return withDocument(ctx, async ({ xref, store, repaired }) => {
    const catalog = await store.resolve(xref.trailerValue('Root'))
    if (!isDict(catalog)) fail('malformed', 'the trailer has no /Root catalog dictionary')
    const version = newerVersion(headerVersion, nameOf(await store.resolve(catalog.get('Version'))))
    const pages = (await walkPageTree(store, catalog.get('Pages'), ctx.limits)).map((p) => pageInfo(p.attributes))
    const info: PdfInfo = { version, pageCount: pages.length, pages, encrypted: ctx.encrypted }
    if (repaired !== undefined) info.repaired = repaired
    return info
  })
}

export async function readHeaderVersion(file: FileWindow): Promise<string> {
  if (file.size === 0) fail('not_pdf', 'the file is empty')
  const head = (await file.read(0, HEADER_WINDOW)).toString('latin1')
  const match = /%PDF-(\d+\.\d+)/.exec(head)
  if (!match) fail('not_pdf', 'no %PDF- header in the first 1024 bytes')
  return match[1]!
}

function newerVersion(header: string, catalog: string | undefined): string {
  const parse = (v: string) => v.split('.').map(Number) as [number, number]
  if (catalog === undefined || !/^\d+\.\d+$/.test(catalog)) return header
  const [a, b] = [parse(header), parse(catalog)]
  return b[0] > a[0] || (b[0] === a[0] && b[1] > a[1]) ? catalog : header
}

/** Inheritable page attributes (§7.7.3.4), as resolved for one page. */
export interface Inherited {
  mediaBox?: Rect
  cropBox?: Rect
  rotation: Rotation
  /** as written (often a reference); not resolved here */
  resources?: PdfObject
}

/** A leaf of the page tree: the page dictionary, its reference, and what it inherits. */
export interface PageNode {
  ref: Ref | undefined
  dict: PdfDict
  attributes: Inherited
}

interface PendingNode {
  node: PdfObject | undefined
  inherited: Inherited
  depth: number
}

/**
 * §7.7.3: depth-first, in page order, with an explicit stack (no recursion to overflow).
 * Inheritable attributes (§7.7.3.4) are passed down from each /Pages node to its kids.
 * /Count is not trusted: the pages are counted, so a declared /Count costs nothing.
 */
export async function walkPageTree(store: ObjectStore, root: PdfObject | undefined, limits: Pick<Limits, 'maxDepth' | 'maxPages' | 'maxPageTreeNodes'>): Promise<PageNode[]> {
  const pages: PageNode[] = []
  const visited = new Set<number>()
  const kidsSeen = new Set<number>()
  const stack: PendingNode[] = [{ node: root, inherited: { rotation: 0 }, depth: 1 }]
  let nodes = 0
  while (stack.length > 0) {
    const { node, inherited, depth } = stack.pop()!
    // Direct /Pages dictionaries sharing one /Kids array fan out without any node being reached
    // twice by reference: counting every node visited bounds that work, whatever the shape.
    if (++nodes > limits.maxPageTreeNodes) overBudget('page_tree_nodes', `more than ${limits.maxPageTreeNodes} page tree nodes visited`)
    if (node instanceof Ref) {
      // Each node has one parent (§7.7.3.2); a node reached twice is a cycle or a shared page.
      if (visited.has(node.num)) fail('malformed', `page tree node ${node.num} is reached twice`)
      visited.add(node.num)
    }
    const dict = await store.resolve(node)
    if (!isDict(dict)) fail('malformed', 'a page tree node is not a dictionary')
    const attributes = await inheritAttributes(store, dict, inherited)
    const type = nameOf(dict.get('Type'))
    const kids = dict.get('Kids')
    if (type === 'Pages' || (type !== 'Page' && kids !== undefined)) {
      if (depth > limits.maxDepth) overBudget('depth', `page tree deeper than ${limits.maxDepth}`)
      // One /Kids array belongs to one node (§7.7.3.2); an indirect array listed twice is shared.
      if (kids instanceof Ref) {
        if (kidsSeen.has(kids.num)) fail('malformed', `page tree /Kids array ${kids.num} is shared by several nodes`)
        kidsSeen.add(kids.num)
      }
      const list = await store.resolve(kids)
      if (!Array.isArray(list)) fail('malformed', 'a /Pages node has no /Kids array')
      for (let i = list.length - 1; i >= 0; i--) stack.push({ node: list[i], inherited: attributes, depth: depth + 1 })
    } else {
      if (pages.length >= limits.maxPages) overBudget('pages', `more than ${limits.maxPages} pages`)
      pages.push({ ref: node instanceof Ref ? node : undefined, dict, attributes })
    }
  }
  return pages
}

async function inheritAttributes(store: ObjectStore, dict: PdfDict, inherited: Inherited): Promise<Inherited> {
  const mediaBox = await readRect(store, dict.get('MediaBox'))
  const cropBox = await readRect(store, dict.get('CropBox'))
  const rotate = await store.resolve(dict.get('Rotate'))
  const resources = dict.get('Resources')
  const none = (v: unknown) => v === undefined || v === null
  if (!mediaBox && !cropBox && none(rotate) && none(resources)) return inherited
  return {
    mediaBox: mediaBox ?? inherited.mediaBox,
    cropBox: cropBox ?? inherited.cropBox,
    rotation: none(rotate) ? inherited.rotation : normaliseRotation(rotate as PdfObject),
    resources: none(resources) ? inherited.resources : resources,
  }
}

/** §7.7.3.3: /Rotate is a multiple of 90; -90 and 450 are accepted as 270 and 90. */
export function normaliseRotation(value: PdfObject): Rotation {
  if (typeof value !== 'number' || !Number.isFinite(value) || value % 90 !== 0) fail('malformed', 'bad /Rotate')
  return ((((value % 360) + 360) % 360) + 0) as Rotation
}

/**
 * §7.9.5: a rectangle is any two opposite corners. A box that is not 4 numbers or has no area is
 * ignored (the inherited or default box applies), as pdf.js does, rather than failing the file.
 */
export async function readRect(store: ObjectStore, value: PdfObject | undefined): Promise<Rect | undefined> {
  const array = await store.resolve(value)
  if (!Array.isArray(array) || array.length !== 4) return undefined
  const numbers: number[] = []
  for (const item of array) {
    const n = await store.resolve(item)
    if (typeof n !== 'number' || !Number.isFinite(n)) return undefined
    numbers.push(n)
  }
  const [x1, y1, x2, y2] = numbers as Rect
  const rect: Rect = [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)]
  return rect[2] > rect[0] && rect[3] > rect[1] ? rect : undefined
}

function pageInfo({ mediaBox, cropBox, rotation }: Inherited): PdfPageInfo {
  // A page without /MediaBox on itself or any ancestor breaks §7.7.3.3 (MediaBox is required);
  // pdf.js, poppler and MuPDF all show it as US Letter, so it is reported as Letter, not refused.
  const media = mediaBox ?? LETTER
  const view = (cropBox && intersect(cropBox, media)) ?? media
  return { width: round3(view[2] - view[0]), height: round3(view[3] - view[1]), rotation }
}

/** §14.11.2: the crop box is clipped to the media box; an empty intersection falls back to it. */
export function intersect(a: Rect, b: Rect): Rect | undefined {
  const r: Rect = [Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3])]
  return r[2] > r[0] && r[3] > r[1] ? r : undefined
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000 + 0
}
