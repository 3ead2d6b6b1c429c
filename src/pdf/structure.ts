/**
 * The parts of a PDF that annotation import and export need, read with the same random-access
 * machinery as the inspector (memory independent of the file size): the newest trailer, the
 * page objects (reference, dictionary, visible box, rotation, inherited resources) and each
 * page's /Annots. The caller resolves further objects through `resolve`.
 */
import { withDocument } from './document.js'
import { fail, PdfInspectError } from './errors.js'
import { intersect, LETTER, walkPageTree, type Rect, type Rotation } from './inspect.js'
import { isDict, nameOf, Ref, type PdfDict, type PdfObject, type PdfValue } from './lexer.js'
import { DEFAULT_LIMITS, newContext, ObjectStore, type Limits } from './objects.js'
import { FileWindow, ReaderFailure, type RandomAccessReader } from './reader.js'

export interface PdfPageObject {
  index: number
  /** The page object's reference; pages are always indirect objects in a well-formed file (§7.7.3.2). */
  ref: Ref | undefined
  dict: PdfDict
  /** CropBox ∩ MediaBox in default user space: [x0, y0, x1, y1]. */
  view: Rect
  rotation: Rotation
  /** /Resources as found on the page or inherited from a /Pages node (unresolved). */
  resources: PdfValue | undefined
}

export interface PdfStructure {
  fileSize: number
  /** The newest cross-reference section: where an incremental update's /Prev points (undefined when it was rebuilt). */
  startxref: number | undefined
  /** Set when the cross-reference was damaged and rebuilt by scanning: what was wrong. */
  repaired: string | undefined
  /** /Size of the newest trailer: the first free object number for new objects. */
  xrefSize: number
  /** The newest section is a cross-reference stream (an update should write one too). */
  xrefIsStream: boolean
  encrypted: boolean
  root: PdfValue | undefined
  info: PdfValue | undefined
  id: PdfValue | undefined
  pages: PdfPageObject[]
  /** The last byte of the file is an end-of-line (else an update starts with one). */
  endsWithEol: boolean
  resolve(value: PdfObject | undefined): Promise<PdfObject | undefined>
}

// Export reads every page's annotations and their appearance objects: twice the object budget.
const LIMITS: Limits = { ...DEFAULT_LIMITS, maxObjects: 2 * DEFAULT_LIMITS.maxObjects }

export async function readStructure(reader: RandomAccessReader): Promise<PdfStructure> {
  const ctx = newContext(new FileWindow(reader), LIMITS)
  try {
    return await withDocument(ctx, async ({ xref, store, startxref, repaired }) => {
      const catalog = await store.resolve(xref.trailerValue('Root'))
      if (!isDict(catalog)) fail('malformed', 'the trailer has no /Root catalog dictionary')
      const size = xref.newestTrailer.get('Size')
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) fail('malformed', 'the trailer has no valid /Size')
      const last = ctx.file.size > 0 ? (await ctx.file.read(ctx.file.size - 1, 1))[0] : 0x0a
      return {
        fileSize: ctx.file.size,
        startxref,
        repaired,
        xrefSize: size,
        xrefIsStream: nameOf(xref.newestTrailer.get('Type')) === 'XRef',
        encrypted: ctx.encrypted,
        root: xref.trailerValue('Root'),
        info: xref.trailerValue('Info'),
        id: xref.trailerValue('ID'),
        pages: await walkPages(store, catalog.get('Pages')),
        endsWithEol: last === 0x0a || last === 0x0d,
        resolve: async (value) => {
          try {
            return await store.resolve(value)
          } catch (error) {
            throw wrap(error)
          }
        },
      }
    })
  } catch (error) {
    throw wrap(error)
  }
}

function wrap(error: unknown): unknown {
  if (error instanceof PdfInspectError) return error
  if (error instanceof ReaderFailure) return error.error
  return new PdfInspectError('malformed', 'the PDF structure could not be read', { cause: error })
}

/** §7.7.3: the page tree in page order (the inspector's walker), as page objects. */
async function walkPages(store: ObjectStore, root: PdfValue | undefined): Promise<PdfPageObject[]> {
  return (await walkPageTree(store, root, LIMITS)).map(({ ref, dict, attributes }, index) => {
    const media = attributes.mediaBox ?? LETTER
    return {
      index,
      ref,
      dict,
      view: (attributes.cropBox && intersect(attributes.cropBox, media)) ?? media,
      rotation: attributes.rotation,
      resources: attributes.resources as PdfValue | undefined,
    }
  })
}

/** One entry of a page's /Annots: the array item as written, and the annotation dictionary. */
export interface PageAnnotation {
  item: PdfValue
  ref: Ref | undefined
  dict: PdfDict
}

/** The page's annotations; entries that are not dictionaries are skipped (readers ignore them). */
export async function pageAnnotations(structure: PdfStructure, page: PdfPageObject, max = 100_000): Promise<PageAnnotation[]> {
  const list = await structure.resolve(page.dict.get('Annots'))
  if (!Array.isArray(list)) return []
  const out: PageAnnotation[] = []
  for (const item of list.slice(0, max)) {
    const dict = await structure.resolve(item)
    if (isDict(dict)) out.push({ item, ref: item instanceof Ref ? item : undefined, dict })
  }
  return out
}
