/**
 * Document operations (Document Engine's `DocumentOperation`, for apply_operations and
 * pdf_with_operations): parsed on the main thread into plain data, then planned against the
 * real page counts in the worker. The plan is the list of output pages, each naming its input
 * (0 = the document, k = the k-th importDocument file, -1 = a blank page) and source page, with
 * the rotation and label it carries; labels and rotations travel with their pages through
 * later moves.
 */
import { FolioError } from '../errors.js'
import { invalid } from './instructions.js'

export type PageRef = number | 'first' | 'last'
export type PageSet = PageRef[] | 'all'

export type Operation =
  | { type: 'addPage'; after?: PageRef; before?: PageRef; width: number; height: number; color: string; rotateBy: number; field: string }
  | { type: 'duplicatePages'; pageIndexes: PageSet; field: string }
  | { type: 'movePages'; pageIndexes: PageSet; after?: PageRef; before?: PageRef; field: string }
  | { type: 'removePages'; pageIndexes: PageSet; field: string }
  | { type: 'keepPages'; pageIndexes: PageSet; field: string }
  | { type: 'rotatePages'; pageIndexes: PageSet; rotateBy: number; field: string }
  | { type: 'setPageLabel'; pageIndexes: PageSet; pageLabel: string; field: string }
  | { type: 'importDocument'; after?: PageRef; before?: PageRef; document: string; field: string }
  | { type: 'applyInstantJson'; dataFilePath: string; field: string }
  | { type: 'flattenAnnotations'; field: string }
  | { type: 'updateMetadata'; metadata: { title?: string; author?: string }; field: string }

export interface PlannedPage { input: number; page: number; rotate: number; label?: string }

const MAX_OPERATIONS = 1000
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function pageRef(v: unknown, field: string): PageRef {
  if (v === 'first' || v === 'last') return v
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 10_000_000) return v
  throw invalid(field, 'must be a page index, "first" or "last"')
}

function pageSet(v: unknown, field: string): PageSet {
  if (v === 'all') return 'all'
  if (!Array.isArray(v) || v.length === 0 || v.length > 100_000) throw invalid(field, 'must be "all" or a non-empty array of page indexes')
  return v.map((x, i) => pageRef(x, `${field}[${i}]`))
}

function position(o: Record<string, unknown>, field: string, required: boolean): { after?: PageRef; before?: PageRef } {
  const hasAfter = o.afterPageIndex !== undefined
  const hasBefore = o.beforePageIndex !== undefined
  if (hasAfter && hasBefore) throw invalid(field, 'give afterPageIndex or beforePageIndex, not both')
  if (!hasAfter && !hasBefore) {
    if (required) throw invalid(`${field}.afterPageIndex`, 'afterPageIndex or beforePageIndex is required', 'missing')
    return {}
  }
  return hasAfter ? { after: pageRef(o.afterPageIndex, `${field}.afterPageIndex`) } : { before: pageRef(o.beforePageIndex, `${field}.beforePageIndex`) }
}

function rotation(v: unknown, field: string, allowZero: boolean): number {
  if (v === 90 || v === 180 || v === 270 || (allowZero && v === 0)) return v as number
  throw invalid(field, allowZero ? 'must be 0, 90, 180 or 270' : 'must be 90, 180 or 270')
}

function text(v: unknown, field: string, max: number): string {
  if (typeof v !== 'string' || v.length > max) throw invalid(field, `must be a string of at most ${max} characters`)
  return v
}

export function parseOperations(v: unknown, limits: { maxParts: number }): Operation[] {
  if (!Array.isArray(v) || v.length === 0) throw invalid('operations', 'must be a non-empty array')
  if (v.length > MAX_OPERATIONS) throw new FolioError('build_limit_exceeded', { field: 'operations', limit: MAX_OPERATIONS }, { message: `operations: at most ${MAX_OPERATIONS}` })
  const ops = v.map((o, i): Operation => {
    const field = `operations[${i}]`
    if (!isObj(o)) throw invalid(field, 'must be an object with a "type"')
    switch (o.type) {
      case 'addPage': {
        const color = o.backgroundColor === undefined ? '#ffffff' : text(o.backgroundColor, `${field}.backgroundColor`, 7)
        if (!/^#[0-9a-fA-F]{6}$/.test(color)) throw invalid(`${field}.backgroundColor`, 'must be #rrggbb')
        const size = (k: string) => {
          const n = o[k]
          if (typeof n !== 'number' || !Number.isFinite(n) || n < 1 || n > 14_400) throw invalid(`${field}.${k}`, 'must be a number of points from 1 to 14400')
          return n
        }
        return { type: 'addPage', ...position(o, field, true), width: size('pageWidth'), height: size('pageHeight'), color, rotateBy: o.rotateBy === undefined ? 0 : rotation(o.rotateBy, `${field}.rotateBy`, true), field }
      }
      case 'duplicatePages':
      case 'removePages':
      case 'keepPages':
        return { type: o.type, pageIndexes: pageSet(o.pageIndexes, `${field}.pageIndexes`), field }
      case 'movePages':
        return { type: 'movePages', pageIndexes: pageSet(o.pageIndexes, `${field}.pageIndexes`), ...position(o, field, true), field }
      case 'rotatePages':
        return { type: 'rotatePages', pageIndexes: pageSet(o.pageIndexes, `${field}.pageIndexes`), rotateBy: rotation(o.rotateBy, `${field}.rotateBy`, false), field }
      case 'setPageLabel':
        return { type: 'setPageLabel', pageIndexes: pageSet(o.pageIndexes, `${field}.pageIndexes`), pageLabel: text(o.pageLabel, `${field}.pageLabel`, 256), field }
      case 'importDocument': {
        const document = text(o.document, `${field}.document`, 256)
        if (document === '') throw invalid(`${field}.document`, 'must name a multipart part')
        return { type: 'importDocument', ...position(o, field, false), document, field }
      }
      case 'applyInstantJson': {
        const name = text(o.dataFilePath, `${field}.dataFilePath`, 256)
        if (name === '') throw invalid(`${field}.dataFilePath`, 'must name a multipart part')
        return { type: 'applyInstantJson', dataFilePath: name, field }
      }
      case 'flattenAnnotations':
        if (o.pageIndexes !== undefined || o.annotationIds !== undefined) {
          throw new FolioError('unsupported_instruction', { field: `${field}.${o.pageIndexes !== undefined ? 'pageIndexes' : 'annotationIds'}` }, { message: `${field}: flattening chosen pages or annotations is not supported; flatten all` })
        }
        return { type: 'flattenAnnotations', field }
      case 'updateMetadata': {
        if (!isObj(o.metadata)) throw invalid(`${field}.metadata`, 'must be {"title"?, "author"?}')
        return {
          type: 'updateMetadata',
          metadata: {
            title: o.metadata.title === undefined ? undefined : text(o.metadata.title, `${field}.metadata.title`, 1024),
            author: o.metadata.author === undefined ? undefined : text(o.metadata.author, `${field}.metadata.author`, 1024),
          },
          field,
        }
      }
      case 'applyXfdf':
      case 'performOcr':
      case 'applyRedactions':
        throw new FolioError('unsupported_instruction', { field: `${field}.type` }, { message: `${field}.type: "${o.type}" is not supported by Folio` })
      default:
        throw invalid(`${field}.type`, 'is not a known operation')
    }
  })
  const imports = ops.filter((o) => o.type === 'importDocument').length
  if (imports > limits.maxParts) throw new FolioError('build_limit_exceeded', { field: 'operations', limit: limits.maxParts }, { message: `at most ${limits.maxParts} importDocument operations (BUILD_MAX_PARTS)` })
  return ops
}

function index(ref: PageRef, count: number, field: string): number {
  const i = ref === 'first' ? 0 : ref === 'last' ? count - 1 : ref
  if (i < 0 || i >= count) throw invalid(field, `page ${String(ref)} is outside a document of ${count} pages`, 'out_of_range')
  return i
}

function indexes(set: PageSet, count: number, field: string): Set<number> {
  if (set === 'all') return new Set(Array.from({ length: count }, (_, i) => i))
  return new Set(set.map((r, i) => index(r, count, `${field}[${i}]`)))
}

/** Where to insert: before `before`, after `after`, or at the end. */
function insertAt(op: { after?: PageRef; before?: PageRef; field: string }, count: number): number {
  if (op.before !== undefined) return index(op.before, count, `${op.field}.beforePageIndex`)
  if (op.after !== undefined) return index(op.after, count, `${op.field}.afterPageIndex`) + 1
  return count
}

/**
 * Applies the page operations in order. `importCounts[k]` is the page count of the k-th
 * importDocument file (input k + 1). Returns the plan and the blank pages it refers to.
 */
export function planOperations(ops: Operation[], pageCount: number, importCounts: number[], maxPages: number) {
  let pages: PlannedPage[] = Array.from({ length: pageCount }, (_, page) => ({ input: 0, page, rotate: 0 }))
  const blanks: Array<{ width: number; height: number; color: string }> = []
  let imported = 0
  const limit = () => {
    if (pages.length > maxPages) throw new FolioError('build_limit_exceeded', { field: 'operations', limit: maxPages }, { message: `The result would have more than ${maxPages} pages (BUILD_MAX_PAGES)` })
  }
  for (const op of ops) {
    switch (op.type) {
      case 'addPage': {
        const at = insertAt(op, pages.length)
        blanks.push({ width: op.width, height: op.height, color: op.color })
        pages.splice(at, 0, { input: -1, page: blanks.length - 1, rotate: op.rotateBy })
        break
      }
      case 'duplicatePages': {
        const set = indexes(op.pageIndexes, pages.length, `${op.field}.pageIndexes`)
        pages = pages.flatMap((p, i) => (set.has(i) ? [p, { ...p }] : [p]))
        break
      }
      case 'movePages': {
        const set = indexes(op.pageIndexes, pages.length, `${op.field}.pageIndexes`)
        const at = insertAt(op, pages.length)
        const order = op.pageIndexes === 'all' ? [...set] : [...new Set(op.pageIndexes.map((r) => index(r, pages.length, op.field)))]
        const moving = order.map((i) => pages[i]!)
        const before = pages.slice(0, at).filter((_, i) => !set.has(i))
        const after = pages.slice(at).filter((_, i) => !set.has(i + at))
        pages = [...before, ...moving, ...after]
        break
      }
      case 'removePages': {
        const set = indexes(op.pageIndexes, pages.length, `${op.field}.pageIndexes`)
        pages = pages.filter((_, i) => !set.has(i))
        if (pages.length === 0) throw invalid(`${op.field}.pageIndexes`, 'would remove every page', 'no_pages')
        break
      }
      case 'keepPages': {
        const set = indexes(op.pageIndexes, pages.length, `${op.field}.pageIndexes`)
        pages = pages.filter((_, i) => set.has(i))
        break
      }
      case 'rotatePages': {
        const set = indexes(op.pageIndexes, pages.length, `${op.field}.pageIndexes`)
        pages = pages.map((p, i) => (set.has(i) ? { ...p, rotate: (p.rotate + op.rotateBy) % 360 } : p))
        break
      }
      case 'setPageLabel': {
        const set = indexes(op.pageIndexes, pages.length, `${op.field}.pageIndexes`)
        pages = pages.map((p, i) => (set.has(i) ? { ...p, label: op.pageLabel } : p))
        break
      }
      case 'importDocument': {
        const at = insertAt(op, pages.length)
        const input = ++imported
        const count = importCounts[input - 1]!
        pages.splice(at, 0, ...Array.from({ length: count }, (_, page) => ({ input, page, rotate: 0 })))
        break
      }
      default:
        break
    }
    limit()
  }
  return { pages, blanks }
}
