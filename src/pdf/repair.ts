/**
 * Rebuilding a damaged or missing cross-reference, as poppler (XRef::constructXRef), qpdf
 * (QPDF::reconstruct_xref) and PDFium (CPDF_Parser rebuild) do: read the file from start to end,
 * note where each `N G obj` header begins (a later definition of a number wins: it is the newer
 * incremental update), take the trailer from the last `trailer` dictionary that names a /Root,
 * else from a cross-reference stream dictionary, else use the last /Type /Catalog object. Objects
 * inside object streams are found by reading the headers of the /Type /ObjStm streams found.
 *
 * The scan is bounded like everything else: bytes scanned (maxScanBytes, which also caps the
 * file size this is tried on), objects noted (maxObjects), and the stream budgets of the context.
 */
import { overBudget, fail } from './errors.js'
import { isDict, Lexer, nameOf, parseAtOffset, parseValue, PdfStream, Ref, type PdfDict, type PdfValue } from './lexer.js'
import { isCount, readIndirectAt, readStreamData, type InspectContext, type XrefEntry } from './objects.js'
import type { XrefView } from './xref.js'

const CHUNK = 1024 * 1024
const OVERLAP = 64 // a header split across two chunks is seen whole in the second
/** Files larger than this are not scanned (rebuild refused as `bytes_scanned`). */
export const MAX_SCAN_BYTES = 1024 * 1024 * 1024

// `N G obj` at the start of a token: object numbers up to 10 digits, generations up to 5.
const HEADER = /(?<![0-9A-Za-z.+-])(\d{1,10})[\0\t\n\f\r ]+(\d{1,5})[\0\t\n\f\r ]*obj(?![A-Za-z0-9])/g
const TRAILER = /trailer(?![A-Za-z0-9])/g
const TYPE_MARK = /\/Type[\0\t\n\f\r ]*\/(Catalog|ObjStm|XRef)(?![A-Za-z0-9])/g

export class RebuiltXref implements XrefView {
  constructor(
    private readonly entries: Map<number, XrefEntry>,
    readonly newestTrailer: PdfDict,
  ) {}

  async lookup(num: number): Promise<XrefEntry | null> {
    return this.entries.get(num) ?? null
  }

  trailerValue(key: string): PdfValue | undefined {
    const v = this.newestTrailer.get(key)
    return v === null ? undefined : v
  }

  get size(): number {
    return this.entries.size
  }
}

export async function rebuildXref(ctx: InspectContext): Promise<RebuiltXref> {
  const { file } = ctx
  if (file.size > MAX_SCAN_BYTES) overBudget('bytes_scanned', `the cross-reference is damaged and the file is larger than ${MAX_SCAN_BYTES} bytes, the most Folio scans to repair it`)
  const offsets = new Map<number, { offset: number; gen: number }>()
  const trailers: number[] = []
  const marks: Array<{ type: string; at: number }> = []
  for (let start = 0; start < file.size; start += CHUNK) {
    const from = Math.max(0, start - OVERLAP)
    const text = (await file.read(from, Math.min(file.size, start + CHUNK) - from)).toString('latin1')
    const seen = start - from // matches starting in the overlap were found in the previous chunk
    for (const m of text.matchAll(HEADER)) {
      if (m.index! < seen) continue
      const num = Number(m[1])
      offsets.set(num, { offset: from + m.index!, gen: Number(m[2]) })
      if (offsets.size > ctx.limits.maxObjects) overBudget('objects', `more than ${ctx.limits.maxObjects} objects found while repairing`)
    }
    for (const m of text.matchAll(TRAILER)) if (m.index! >= seen) trailers.push(from + m.index!)
    for (const m of text.matchAll(TYPE_MARK)) if (m.index! >= seen) marks.push({ type: m[1]!, at: from + m.index! })
  }
  if (offsets.size === 0) fail('malformed', 'the cross-reference is damaged and no object was found in the file')

  const entries = new Map<number, XrefEntry>()
  for (const [num, { offset }] of offsets) entries.set(num, { kind: 'offset', offset })
  const sorted = [...offsets].sort((a, b) => a[1].offset - b[1].offset)
  /** The object whose header starts last before `at` (the one a mark belongs to). */
  const owner = (at: number): number | undefined => {
    let low = 0
    let high = sorted.length - 1
    let found: number | undefined
    while (low <= high) {
      const mid = (low + high) >> 1
      if (sorted[mid]![1].offset <= at) {
        found = mid
        low = mid + 1
      } else high = mid - 1
    }
    return found === undefined ? undefined : sorted[found]![0]
  }

  // Objects inside object streams (§7.5.7): each header says which numbers the stream holds.
  const plain = new Set(offsets.keys())
  const streamNums = new Set<number>()
  for (const mark of marks) if (mark.type === 'ObjStm') { const n = owner(mark.at); if (n !== undefined) streamNums.add(n) }
  const lengthOf = async (v: PdfValue | undefined): Promise<PdfValue | undefined> => {
    if (!(v instanceof Ref)) return v
    const e = entries.get(v.num)
    return e?.kind === 'offset' ? ((await readIndirectAt(ctx, e.offset, v.num)) as PdfValue) : undefined
  }
  for (const num of streamNums) {
    try {
      const object = await readIndirectAt(ctx, offsets.get(num)!.offset, num)
      if (!(object instanceof PdfStream) || nameOf(object.dict.get('Type')) !== 'ObjStm') continue
      const n = object.dict.get('N')
      const first = object.dict.get('First')
      if (!isCount(n) || !isCount(first)) continue
      ctx.objectStreamEntries += n
      if (ctx.objectStreamEntries > ctx.limits.maxObjectStreamEntries) overBudget('object_stream_entries', `object stream headers claim more than ${ctx.limits.maxObjectStreamEntries} entries`)
      const data = await readStreamData(ctx, object, await lengthOf(object.dict.get('Length')))
      const lexer = new Lexer(data.subarray(0, Math.min(first, data.length)), 0, true, 'malformed')
      for (let i = 0; i < n; i++) {
        const a = lexer.readToken()
        const b = lexer.readToken()
        if (a.kind !== 'number' || b.kind !== 'number' || !a.isInteger) break
        // A plain definition found by the scan is newer than (or equal to) one inside a stream.
        if (!plain.has(a.value) && !entries.has(a.value)) entries.set(a.value, { kind: 'compressed', streamNum: num, index: i })
      }
      file.charge(lexer.pos)
    } catch (e) {
      if ((e as { reason?: string }).reason === 'too_complex') throw e
      // A damaged object stream loses its objects, not the whole repair.
    }
  }

  const trailer = new Map(await findTrailer(ctx, trailers, marks, owner, entries))
  // /Size must exceed every object number in use, so that new objects do not reuse one.
  let size = 0
  for (const n of entries.keys()) if (n >= size) size = n + 1
  const declared = trailer.get('Size')
  if (!(typeof declared === 'number' && declared >= size)) trailer.set('Size', size)
  trailer.delete('Prev')
  return new RebuiltXref(entries, trailer)
}

async function findTrailer(
  ctx: InspectContext,
  trailers: number[],
  marks: Array<{ type: string; at: number }>,
  owner: (at: number) => number | undefined,
  entries: Map<number, XrefEntry>,
): Promise<PdfDict> {
  // Newest first: the last classic trailer with a /Root whose object exists.
  for (const at of trailers.reverse()) {
    try {
      const dict = await parseAtOffset(ctx.file, at, (lexer) => {
        lexer.readToken() // `trailer`
        return parseValue(lexer)
      })
      if (isDict(dict) && dict.get('Root') instanceof Ref && entries.has((dict.get('Root') as Ref).num)) return dict
    } catch (e) {
      if ((e as { reason?: string }).reason === 'too_complex') throw e
    }
  }
  // Then a cross-reference stream's dictionary (it carries the trailer keys, §7.5.8.2).
  for (const mark of marks.filter((m) => m.type === 'XRef').reverse()) {
    const num = owner(mark.at)
    const entry = num === undefined ? undefined : entries.get(num)
    if (entry?.kind !== 'offset') continue
    try {
      const object = await readIndirectAt(ctx, entry.offset, num)
      const dict = object instanceof PdfStream ? object.dict : undefined
      if (dict && dict.get('Root') instanceof Ref && entries.has((dict.get('Root') as Ref).num)) return dict
    } catch (e) {
      if ((e as { reason?: string }).reason === 'too_complex') throw e
    }
  }
  // Last, the newest /Type /Catalog object itself.
  for (const mark of marks.filter((m) => m.type === 'Catalog').reverse()) {
    const num = owner(mark.at)
    if (num === undefined) continue
    let size = 0
    for (const n of entries.keys()) if (n >= size) size = n + 1
    return new Map<string, PdfValue>([['Root', new Ref(num, 0)], ['Size', size]])
  }
  return fail('malformed', 'the cross-reference is damaged and no trailer or catalog was found')
}
