import { fail, overBudget } from './errors.js'
import { isDict, nameOf, parseAtOffset, parseValue, PdfStream, type Lexer, type PdfDict, type PdfValue } from './lexer.js'
import { isCount, readIndirectAt, readStreamData, type InspectContext, type XrefEntry, type XrefLookup } from './objects.js'
import type { FileWindow } from './reader.js'

// Cross-reference data, ISO 32000-1 §7.5.4 (tables), §7.5.6 (incremental updates), §7.5.8
// (streams and hybrid files). Tables are not loaded: only subsection headers are read, and each
// entry is read when an object is looked up (entries are fixed width), so a table of a million
// objects costs a few reads, not 20 MB of memory.

/** What readers need of cross-reference data, loaded (XrefChain) or rebuilt by scanning (repair.ts). */
export interface XrefView extends XrefLookup {
  /** The newest trailer (a /Type /XRef stream dictionary when that section is a stream). */
  readonly newestTrailer: PdfDict
  /** A trailer entry from the newest trailer that has it (null counts as absent, §7.3.9). */
  trailerValue(key: string): PdfValue | undefined
}

interface XrefSection {
  readonly trailer: PdfDict
  /** The entry this section gives, or undefined when the section does not mention the object. */
  lookup(num: number): Promise<XrefEntry | undefined>
}

const TAIL_WINDOW = 2048 // §7.5.5: startxref and %%EOF end the file; leave room for trailing junk
const MAX_SECTIONS = 4096 // /Prev chain length (one per incremental update)
const MAX_SUBSECTIONS = 65_536
const FREE: XrefEntry = { kind: 'free' }

/** All sections, newest first: the first section that mentions an object decides (§7.5.6). */
export class XrefChain implements XrefView {
  constructor(private readonly sections: XrefSection[]) {}

  async lookup(num: number): Promise<XrefEntry | null> {
    for (const section of this.sections) {
      const entry = await section.lookup(num)
      if (entry) return entry.kind === 'free' ? null : entry
    }
    return null
  }

  /** The newest section's trailer (a /Type /XRef stream dictionary when that section is a stream). */
  get newestTrailer(): PdfDict {
    return this.sections[0]!.trailer
  }

  /** A trailer entry from the newest trailer that has it (null counts as absent, §7.3.9). */
  trailerValue(key: string): PdfValue | undefined {
    for (const { trailer } of this.sections) {
      const value = trailer.get(key)
      if (value !== undefined && value !== null) return value
    }
    return undefined
  }
}

/** §7.5.5: the offset after the last `startxref` near the end of the file. */
export async function readStartxref(file: FileWindow): Promise<number> {
  const length = Math.min(file.size, TAIL_WINDOW)
  const tail = (await file.read(file.size - length, length)).toString('latin1')
  const at = tail.lastIndexOf('startxref')
  if (at < 0) fail('truncated', 'no startxref near the end of the file: it is cut or unfinished')
  const match = /^startxref[\0\t\n\f\r ]*(\d+)([\s\S]?)/.exec(tail.slice(at))
  if (!match) fail('truncated', 'startxref is not followed by an offset')
  // A file that ends in the middle of the offset's digits was cut there; the number is wrong.
  if (match[2] === '') fail('truncated', 'the file ends inside the startxref offset')
  const offset = Number(match[1])
  if (!Number.isSafeInteger(offset) || offset >= file.size) fail('malformed', 'startxref points outside the file')
  return offset
}

/** Follows the /Prev chain from `startxref`; a section seen twice is a loop (`malformed`). */
export async function loadXref(ctx: InspectContext, startxref: number): Promise<XrefChain> {
  const sections: XrefSection[] = []
  const seen = new Set<number>()
  let offset: number | undefined = startxref
  while (offset !== undefined) {
    if (seen.has(offset)) fail('malformed', `cross-reference /Prev loop at byte ${offset}`)
    if (seen.size >= MAX_SECTIONS) overBudget('xref_sections', `more than ${MAX_SECTIONS} cross-reference sections`)
    seen.add(offset)
    const section = await loadSection(ctx, offset)
    sections.push(section)
    const prev = section.trailer.get('Prev')
    if (prev === undefined || prev === null) offset = undefined
    else if (isCount(prev)) offset = prev
    else fail('malformed', 'bad /Prev in trailer')
  }
  return new XrefChain(sections)
}

async function loadSection(ctx: InspectContext, offset: number): Promise<XrefSection> {
  const afterKeyword = await parseAtOffset(ctx.file, offset, (lexer) => {
    const token = lexer.readToken()
    return token.kind === 'keyword' && token.value === 'xref' ? lexer.absolutePosition : undefined
  }, 64)
  return afterKeyword === undefined ? loadStreamSection(ctx, offset) : loadTableSection(ctx, afterKeyword)
}

interface Subsection {
  start: number
  count: number
  /** Absolute offset of the first entry. */
  position: number
  /** 20 per the spec; 19 for writers that end entries with a single EOL byte. */
  width: number
}

type TableStep = { kind: 'trailer'; trailer: PdfDict } | { kind: 'subsection'; subsection: Subsection }

async function loadTableSection(ctx: InspectContext, position: number): Promise<XrefSection> {
  const subsections: Subsection[] = []
  let trailer: PdfDict | undefined
  for (let at = position; trailer === undefined; ) {
    const step = await parseAtOffset(ctx.file, at, readSubsectionOrTrailer, 1024)
    if (step.kind === 'trailer') trailer = step.trailer
    else {
      if (subsections.length >= MAX_SUBSECTIONS) overBudget('xref_sections', `more than ${MAX_SUBSECTIONS} xref subsections`)
      const { subsection } = step
      subsections.push(subsection)
      at = subsection.position + subsection.count * subsection.width
      // A count larger than the file can hold is never allocated; it only moves `at` past the end.
      if (at >= ctx.file.size) fail('truncated', 'the cross-reference table runs past the end of the file')
    }
  }
  // §7.5.8.4: a hybrid file's classic trailer names an xref stream for objects the table omits.
  const xrefStm = trailer.get('XRefStm')
  let hybrid: StreamSection | undefined
  if (xrefStm !== undefined && xrefStm !== null) {
    if (!isCount(xrefStm)) fail('malformed', 'bad /XRefStm in trailer')
    hybrid = await loadStreamSection(ctx, xrefStm)
  }
  return new TableSection(ctx.file, subsections, trailer, hybrid)
}

function readSubsectionOrTrailer(lexer: Lexer): TableStep {
  const first = lexer.readToken()
  if (first.kind === 'eof') lexer.unexpectedEnd()
  if (first.kind === 'keyword' && first.value === 'trailer') {
    const trailer = parseValue(lexer)
    if (!isDict(trailer)) lexer.malformed('trailer is not a dictionary')
    return { kind: 'trailer', trailer }
  }
  const count = lexer.readToken()
  if (count.kind === 'eof') lexer.unexpectedEnd()
  if (first.kind !== 'number' || !isCount(first.value) || count.kind !== 'number' || !isCount(count.value)) {
    lexer.malformed('bad cross-reference subsection header')
  }
  lexer.skipWhitespace()
  const position = lexer.absolutePosition
  const width = count.value === 0 ? 20 : entryWidth(lexer)
  return { kind: 'subsection', subsection: { start: first.value, count: count.value, position, width } }
}

const ENTRY = /^(\d{10}) (\d{5}) ([nf])$/

/** §7.5.4: `nnnnnnnnnn ggggg n` + a 2-byte EOL. Anything else is refused, not repaired. */
function entryWidth(lexer: Lexer): number {
  if (lexer.isAtEnd(19)) lexer.unexpectedEnd()
  const { buf, pos } = lexer
  if (!ENTRY.test(buf.toString('latin1', pos, pos + 18))) lexer.malformed('bad cross-reference entry')
  const [a, b] = [buf[pos + 18], buf[pos + 19]]
  if ((a === 0x20 || a === 0x0d) && (b === 0x0a || b === 0x0d)) return 20
  if (a === 0x0a || a === 0x0d) return 19
  return lexer.malformed('cross-reference entries are not 20 bytes long')
}

class TableSection implements XrefSection {
  private readonly isSortedDisjoint: boolean

  constructor(
    private readonly file: FileWindow,
    private readonly subsections: Subsection[],
    readonly trailer: PdfDict,
    private readonly hybrid: StreamSection | undefined,
  ) {
    this.isSortedDisjoint = subsections.every((s, i) => i === 0 || s.start >= subsections[i - 1]!.start + subsections[i - 1]!.count)
  }

  async lookup(num: number): Promise<XrefEntry | undefined> {
    const subsection = this.find(num)
    if (!subsection) return this.hybrid?.lookup(num)
    const entry = await this.readEntry(subsection.position + (num - subsection.start) * subsection.width)
    // In a hybrid file, objects moved to object streams may be listed as free in the table.
    if (entry.kind === 'free' && this.hybrid) return (await this.hybrid.lookup(num)) ?? entry
    return entry
  }

  private find(num: number): Subsection | undefined {
    const { subsections } = this
    if (!this.isSortedDisjoint) return subsections.find((s) => num >= s.start && num < s.start + s.count)
    let low = 0
    let high = subsections.length - 1
    while (low <= high) {
      const mid = (low + high) >> 1
      const s = subsections[mid]!
      if (num < s.start) high = mid - 1
      else if (num >= s.start + s.count) low = mid + 1
      else return s
    }
    return undefined
  }

  private async readEntry(position: number): Promise<XrefEntry> {
    if (position + 18 > this.file.size) fail('truncated', 'cross-reference entry past the end of the file')
    const match = ENTRY.exec((await this.file.read(position, 18)).toString('latin1'))
    if (!match) fail('malformed', `bad cross-reference entry at byte ${position}`)
    const offset = Number(match[1])
    // Some writers mark deleted objects "0000000000 00000 n"; offset 0 is the header, never an object.
    return match[3] === 'f' || offset === 0 ? FREE : { kind: 'offset', offset }
  }
}

interface IndexRange {
  start: number
  count: number
  firstRow: number
}

/** §7.5.8: a cross-reference stream, decoded once (never encrypted, §7.6.1) and kept. */
class StreamSection implements XrefSection {
  constructor(
    readonly trailer: PdfDict,
    private readonly data: Buffer,
    private readonly widths: [number, number, number],
    private readonly ranges: IndexRange[],
  ) {}

  async lookup(num: number): Promise<XrefEntry | undefined> {
    const range = this.ranges.find((r) => num >= r.start && num < r.start + r.count)
    if (!range) return undefined
    const [w0, w1, w2] = this.widths
    let at = (range.firstRow + num - range.start) * (w0 + w1 + w2)
    const type = w0 === 0 ? 1 : readField(this.data, at, w0) // §7.5.8.2 Table 17: default type 1
    at += w0
    const field2 = readField(this.data, at, w1)
    const field3 = readField(this.data, at + w1, w2)
    if (type === 1) return { kind: 'offset', offset: field2 }
    if (type === 2) return { kind: 'compressed', streamNum: field2, index: field3 }
    return FREE // type 0, and §7.5.8.3: unknown types are references to the null object
  }
}

function readField(data: Buffer, at: number, width: number): number {
  let value = 0
  for (let i = 0; i < width; i++) value = value * 256 + data[at + i]!
  return value
}

async function loadStreamSection(ctx: InspectContext, offset: number): Promise<StreamSection> {
  const object = await readIndirectAt(ctx, offset)
  if (!(object instanceof PdfStream) || nameOf(object.dict.get('Type')) !== 'XRef') {
    fail('malformed', `no cross-reference table or stream at byte ${offset}`)
  }
  const { dict } = object
  const w = dict.get('W')
  if (!Array.isArray(w) || w.length !== 3 || !w.every((x) => isCount(x) && x <= 8)) fail('malformed', 'bad /W in xref stream')
  const widths = w as [number, number, number]
  const rowWidth = widths[0] + widths[1] + widths[2]
  const size = dict.get('Size')
  if (!isCount(size)) fail('malformed', 'bad /Size in xref stream')
  const index = dict.get('Index') ?? [0, size]
  if (!Array.isArray(index) || index.length % 2 !== 0 || !index.every(isCount)) fail('malformed', 'bad /Index in xref stream')
  // §7.5.8.2: the xref stream dictionary's entries are direct, /Length included; nothing to resolve yet.
  const data = await readStreamData(ctx, object, dict.get('Length'))
  if (index.length / 2 > MAX_SUBSECTIONS) overBudget('xref_sections', `more than ${MAX_SUBSECTIONS} xref stream /Index ranges`)
  const ranges: IndexRange[] = []
  let rows = 0
  for (let i = 0; i < index.length; i += 2) {
    const [start, count] = [index[i] as number, index[i + 1] as number]
    ranges.push({ start, count, firstRow: rows })
    rows += count
  }
  if (rowWidth === 0 || rows * rowWidth > data.length) fail('malformed', 'xref stream data is shorter than its /Index')
  return new StreamSection(dict, data, widths, ranges)
}
