/**
 * Opening a PDF's object graph for one operation: the cross-reference data as written, or, when
 * that is damaged (a wrong startxref, no xref table, shifted offsets), rebuilt by scanning the
 * file (repair.ts). `withDocument` runs the operation on the file as written first and, when it
 * fails on damage (`malformed`, `truncated`), once more on the rebuilt cross-reference, within
 * the same budgets; the result says what was repaired. Budget refusals are never retried.
 */
import { PdfInspectError } from './errors.js'
import { ObjectStore, type InspectContext } from './objects.js'
import { rebuildXref } from './repair.js'
import { loadXref, readStartxref, type XrefView } from './xref.js'

export interface OpenedDocument {
  xref: XrefView
  store: ObjectStore
  /** The newest cross-reference section as written (an incremental update's /Prev); undefined when rebuilt. */
  startxref: number | undefined
  /** Why the cross-reference was rebuilt, when it was. */
  repaired: string | undefined
}

function repairable(e: unknown): e is PdfInspectError {
  return e instanceof PdfInspectError && (e.reason === 'malformed' || e.reason === 'truncated')
}

export async function withDocument<T>(ctx: InspectContext, fn: (doc: OpenedDocument) => Promise<T>): Promise<T> {
  let first: PdfInspectError
  try {
    const startxref = await readStartxref(ctx.file)
    const xref = await loadXref(ctx, startxref)
    ctx.encrypted = xref.trailerValue('Encrypt') !== undefined
    return await fn({ xref, store: new ObjectStore(ctx, xref), startxref, repaired: undefined })
  } catch (e) {
    if (!repairable(e)) throw e
    first = e
  }
  let xref: XrefView
  try {
    xref = await rebuildXref(ctx)
  } catch (e) {
    // A file that cannot be repaired either is refused for its original problem.
    if (repairable(e)) throw first
    throw e
  }
  ctx.encrypted = xref.trailerValue('Encrypt') !== undefined
  try {
    return await fn({ xref, store: new ObjectStore(ctx, xref), startxref: undefined, repaired: first.message })
  } catch (e) {
    if (repairable(e)) throw first
    throw e
  }
}
