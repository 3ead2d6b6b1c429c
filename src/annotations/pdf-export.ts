/**
 * Writing Folio's annotations into the PDF (issue #5, spec §3 `GET …/pdf`), and reading the
 * PDF's own annotations (import on upload, the "base layer" of a new layer).
 *
 * The export is an incremental update of the source (src/pdf/incremental.ts): for each page
 * that changes, the page object is rewritten with a new /Annots — the source's annotations
 * that are not importable (kept as they are) followed by one annotation object per Folio
 * annotation, each with an appearance stream. Importable source annotations are dropped: they
 * became Folio annotations at upload and are written from there (or were deleted there).
 * With `flatten`, the appearance streams are drawn into the page content instead (§8.10 form
 * XObjects invoked after the original content, which is wrapped in q/Q so its graphics state
 * cannot leak into them).
 */
import { FolioError } from '../errors.js'
import { isDict, Name, Ref, type PdfDict, type PdfValue } from '../pdf/lexer.js'
import { IncrementalUpdate } from '../pdf/incremental.js'
import { num, serialize, text } from '../pdf/serialize.js'
import { pageAnnotations, type PageAnnotation, type PdfPageObject, type PdfStructure } from '../pdf/structure.js'
import { buildAnnotation } from './appearance.js'
import { UnicodeText, unicodeFontsAvailable } from '../build/unicode-font.js'
import type { Content } from './instant-json.js'
import { importContext, isPopupOf, pdfToInstant, type ImportContext } from './pdf-import.js'

export interface ExportItem {
  id: string
  content: Content
  createdBy: string | null
  createdAt: Date
  updatedAt: Date
}

export interface ImportedAnnotation { id?: string; content: Content }

/** The source's importable annotations, in page order (at most `max`; `more` says if some were left). */
export async function readPdfAnnotations(structure: PdfStructure, max: number): Promise<{ annotations: ImportedAnnotation[]; more: boolean }> {
  const ctx = importContext(structure)
  const out: ImportedAnnotation[] = []
  if (structure.encrypted) return { annotations: out, more: false } // strings are encrypted: not read (see docs)
  for (const page of structure.pages) {
    for (const a of await pageAnnotations(structure, page)) {
      const converted = await pdfToInstant(ctx, page, a.dict, a.ref)
      if (!converted) continue
      if (out.length >= max) return { annotations: out, more: true }
      out.push(converted)
    }
  }
  return { annotations: out, more: false }
}

/** Splits a page's source annotations into those kept and the number dropped (importable + their popups). */
async function keptAnnotations(ctx: ImportContext, page: PdfPageObject, list: PageAnnotation[]): Promise<{ kept: PageAnnotation[]; dropped: number }> {
  if (ctx.structure.encrypted) return { kept: list, dropped: 0 } // nothing was imported from it
  const droppedNums = new Set<number>()
  const keep: boolean[] = []
  for (const a of list) {
    const importable = (await pdfToInstant(ctx, page, a.dict, a.ref)) !== undefined
    if (importable && a.ref) droppedNums.add(a.ref.num)
    keep.push(!importable)
  }
  const kept = list.filter((a, i) => keep[i] && !isPopupOf(a.dict, droppedNums))
  return { kept, dropped: list.length - kept.length }
}

/** Annotation flags (§12.5.3) from Instant JSON's; Print unless noPrint. */
function flagBits(c: Content): number {
  const flags = Array.isArray(c.flags) ? (c.flags as string[]) : []
  const bits: Record<string, number> = { invisible: 1, hidden: 2, noZoom: 8, noRotate: 16, noView: 32, readOnly: 64, locked: 128, toggleNoView: 256, lockedContents: 512 }
  return flags.reduce((acc, f) => acc | (bits[f] ?? 0), flags.includes('noPrint') ? 0 : 4)
}

function pdfDate(d: Date): string {
  const iso = d.toISOString() // §7.9.4: D:YYYYMMDDHHmmSSOHH'mm
  return `D:${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`
}

function contentsOf(c: Content): string | undefined {
  if (c.type === 'pspdfkit/note' || c.type === 'pspdfkit/text') return (c.text as { value?: string }).value
  return typeof c.note === 'string' ? c.note : undefined
}

const rectText = (r: number[]) => `[${r.map(num).join(' ')}]`

async function contentRefs(structure: PdfStructure, value: PdfValue | undefined): Promise<PdfValue[]> {
  if (value instanceof Ref) {
    const resolved = await structure.resolve(value)
    return Array.isArray(resolved) ? resolved : [value]
  }
  return Array.isArray(value) ? value : []
}

/**
 * The bytes to append to the source for `items` (one layer's annotations), or undefined when
 * the PDF would not change (no annotations, nothing imported to drop).
 */
export async function buildExport(structure: PdfStructure, items: ExportItem[], opts: { flatten: boolean }): Promise<Buffer | undefined> {
  if (structure.encrypted && items.length > 0) throw new FolioError('pdf_encrypted')
  const ctx = importContext(structure)
  const byPage = new Map<number, ExportItem[]>()
  for (const item of items) {
    const list = byPage.get(item.content.pageIndex) ?? []
    list.push(item)
    byPage.set(item.content.pageIndex, list)
  }
  const update = new IncrementalUpdate(structure)
  const pageRef = (i: number) => {
    const ref = structure.pages[i]?.ref
    return ref ? `${ref.num} ${ref.gen} R` : undefined
  }
  // Text beyond WinAnsi gets embedded font subsets, written once after all appearances.
  const unicode = items.some((i) => i.content.type === 'pspdfkit/text') && unicodeFontsAvailable() ? new UnicodeText(() => update.allocate()) : undefined
  let changed = false
  for (const page of structure.pages) {
    const mine = byPage.get(page.index) ?? []
    const { kept, dropped } = await keptAnnotations(ctx, page, await pageAnnotations(structure, page))
    if (mine.length === 0 && dropped === 0) continue
    if (!page.ref) throw new FolioError('invalid_pdf', { reason: 'malformed' }, { message: `page ${page.index} is not an indirect object and cannot be updated` })
    changed = true
    const dict: PdfDict = new Map(page.dict)
    const annots: string[] = kept.map((a) => serialize(a.item))
    const draws: Array<{ name: string; ref: string }> = []
    for (const item of mine) {
      const parts = buildAnnotation(item.content, page.view, { pageRef, unicode })
      let ap: number | undefined
      if (parts.appearance) {
        ap = update.allocate()
        update.stream(ap, `/Type/XObject/Subtype/Form/BBox${rectText(parts.rect)}/Resources<<${parts.appearance.resources}>>`, parts.appearance.ops)
      }
      // Flattening burns what is drawn; links are behaviour, not ink, and stay annotations.
      if (opts.flatten && item.content.type !== 'pspdfkit/link') {
        const hidden = Array.isArray(item.content.flags) && (item.content.flags as string[]).some((f) => f === 'hidden' || f === 'noView')
        if (ap !== undefined && !hidden) draws.push({ name: '', ref: `${ap} 0 R` })
        continue
      }
      const c = item.content
      const contents = contentsOf(c)
      const author = typeof c.creatorName === 'string' ? c.creatorName : item.createdBy ?? undefined
      const annot = update.allocate()
      update.object(annot, [
        `<</Type/Annot/Subtype/${parts.subtype}/Rect${rectText(parts.rect)}/P ${pageRef(page.index)}`,
        `/NM${text(item.id)}/M${text(pdfDate(item.updatedAt))}/CreationDate${text(pdfDate(item.createdAt))}/F ${flagBits(c)}`,
        contents ? `/Contents${text(contents)}` : '',
        author ? `/T${text(author)}` : '',
        parts.entries,
        ap !== undefined ? `/AP<</N ${ap} 0 R>>` : '',
        '>>',
      ].join(''))
      annots.push(`${annot} 0 R`)
    }
    let body = serializeWithout(dict, ['Annots', ...(opts.flatten && draws.length > 0 ? ['Contents', 'Resources'] : [])])
    if (annots.length > 0) body += `/Annots[${annots.join(' ')}]`
    if (opts.flatten && draws.length > 0) body += await flattenEntries(structure, page, update, draws)
    update.object(page.ref.num, `<<${body}>>`, page.ref.gen)
  }
  if (!changed) return undefined
  for (const { num, body } of unicode?.objects() ?? []) update.object(num, body.toString('latin1'))
  return update.finish()
}

function serializeWithout(dict: PdfDict, drop: string[]): string {
  let out = ''
  for (const [key, value] of dict) if (!drop.includes(key)) out += `${serialize(new Name(key))} ${serialize(value)}`
  return out
}

/** /Contents [q, original…, drawing] and /Resources with the appearance XObjects added. */
async function flattenEntries(structure: PdfStructure, page: PdfPageObject, update: IncrementalUpdate, draws: Array<{ name: string; ref: string }>): Promise<string> {
  const resources = await structure.resolve(page.resources)
  const res: PdfDict = isDict(resources) ? new Map(resources) : new Map()
  const existing = await structure.resolve(res.get('XObject'))
  const xobjects: PdfDict = isDict(existing) ? new Map(existing) : new Map()
  res.delete('XObject')
  let ops = 'Q\n'
  let n = 0
  for (const d of draws) {
    while (xobjects.has(`FolioA${n}`)) n++ // a name the page does not use yet
    d.name = `FolioA${n}`
    xobjects.set(d.name, new Name('placeholder'))
    ops += `q /${d.name} Do Q\n`
  }
  const xobjectText = [...xobjects].map(([k, v]) => {
    const own = draws.find((d) => d.name === k)
    return `${serialize(new Name(k))} ${own ? own.ref : serialize(v)}`
  }).join('')
  const open = update.allocate()
  update.stream(open, '', 'q\n')
  const close = update.allocate()
  update.stream(close, '', ops)
  const original = (await contentRefs(structure, page.dict.get('Contents'))).map(serialize)
  let resText = ''
  for (const [k, v] of res) resText += `${serialize(new Name(k))} ${serialize(v)}`
  return `/Contents[${open} 0 R ${original.join(' ')} ${close} 0 R]/Resources<<${resText}/XObject<<${xobjectText}>>>>`
}

/** Whether the source has annotations an export would drop (cheap check for "unchanged"). */
export async function hasImportable(structure: PdfStructure): Promise<boolean> {
  if (structure.encrypted) return false
  const ctx = importContext(structure)
  for (const page of structure.pages) {
    for (const a of await pageAnnotations(structure, page)) if (await pdfToInstant(ctx, page, a.dict, a.ref)) return true
  }
  return false
}

