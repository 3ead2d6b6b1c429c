import { fail } from './errors.js'
import { decodeStreamData } from './filters.js'
import { isDict, Lexer, parseAtOffset, parseValue, PdfStream, Ref, type PdfDict, type PdfObject, type PdfValue } from './lexer.js'
import type { FileWindow } from './reader.js'
import type { XrefEntry } from './xref.js'

export interface Limits {
  maxPages: number
  maxObjects: number
  maxStreamBytes: number
  maxDepth: number
}

/** State of one inspection, shared by the xref loader and the object store. */
export interface InspectContext {
  readonly file: FileWindow
  readonly limits: Limits
  /** Set once the trailer is known; strings and streams (but not xref streams) are then unreadable. */
  encrypted: boolean
  /** Bytes decoded so far; capped at DECODED_BUDGET_FACTOR × maxStreamBytes for the inspection. */
  decodedBytes: number
}

/** Many object streams of just under the per-stream cap must not add up to gigabytes. */
const DECODED_BUDGET_FACTOR = 4
const MAX_REF_HOPS = 32 // `1 0 obj 2 0 R endobj` chains; also ends reference loops
const OBJECT_STREAM_CACHE_SIZE = 16

/** Reads `num gen obj … endobj` at `offset` (§7.3.10); with `expectedNum`, the header must match it. */
export function readIndirectAt(ctx: InspectContext, offset: number, expectedNum?: number): Promise<PdfObject> {
  return parseAtOffset(ctx.file, offset, (lexer) => {
    const num = lexer.readToken()
    const gen = lexer.readToken()
    const keyword = lexer.readToken()
    if (num.kind === 'eof' || gen.kind === 'eof' || keyword.kind === 'eof') lexer.unexpectedEnd()
    const isHeader =
      num.kind === 'number' && num.isInteger && gen.kind === 'number' && gen.isInteger &&
      keyword.kind === 'keyword' && keyword.value === 'obj'
    // No search for the object elsewhere: a wrong xref offset is `malformed` (see inspect.ts).
    if (!isHeader) fail('malformed', `no object at byte ${offset}`)
    if (expectedNum !== undefined && num.value !== expectedNum) {
      fail('malformed', `xref puts object ${expectedNum} at byte ${offset}, which holds object ${num.value}`)
    }
    const value = parseValue(lexer)
    if (!isDict(value)) return value
    const next = lexer.readToken()
    if (next.kind !== 'keyword' || next.value !== 'stream') return value
    lexer.skipStreamEol()
    return new PdfStream(value, lexer.absolutePosition)
  })
}

/** Reads `length` bytes of stream data and decodes them, within the stream byte limits. */
export async function readStreamData(ctx: InspectContext, stream: PdfStream, length: PdfObject | undefined): Promise<Buffer> {
  const { maxStreamBytes } = ctx.limits
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) fail('malformed', 'bad stream /Length')
  // Checked before any allocation, so `/Length 999999999999` costs nothing.
  if (stream.dataOffset + length > ctx.file.size) fail('truncated', `stream data at byte ${stream.dataOffset} runs past the end of the file`)
  if (length > maxStreamBytes) fail('too_complex', `a stream of ${length} bytes exceeds ${maxStreamBytes}`)
  const raw = await ctx.file.read(stream.dataOffset, length)
  const data = decodeStreamData(raw, stream.dict, maxStreamBytes)
  ctx.decodedBytes += data.length
  if (ctx.decodedBytes > DECODED_BUDGET_FACTOR * maxStreamBytes) {
    fail('too_complex', `more than ${DECODED_BUDGET_FACTOR * maxStreamBytes} bytes of streams decoded`)
  }
  return data
}

export interface XrefLookup {
  lookup(num: number): Promise<XrefEntry | null>
}

/** Resolves indirect references through the cross-reference data, one object at a time. */
export class ObjectStore {
  private objectsResolved = 0
  private readonly streams = new Map<number, ObjectStream>()
  private readonly loadingStreams = new Set<number>()

  constructor(
    private readonly ctx: InspectContext,
    private readonly xref: XrefLookup,
  ) {}

  /** Follows references to a direct object; a reference to a free or missing object is null (§7.3.10). */
  async resolve(value: PdfObject | undefined): Promise<PdfObject | undefined> {
    let current = value
    for (let hops = 0; current instanceof Ref; hops++) {
      if (hops >= MAX_REF_HOPS) fail('malformed', `reference chain longer than ${MAX_REF_HOPS}`)
      current = await this.load(current)
    }
    return current
  }

  private async load(ref: Ref): Promise<PdfObject> {
    if (++this.objectsResolved > this.ctx.limits.maxObjects) {
      fail('too_complex', `more than ${this.ctx.limits.maxObjects} objects resolved`)
    }
    const entry = await this.xref.lookup(ref.num)
    if (entry === null || entry.kind === 'free') return null
    if (entry.kind === 'offset') return readIndirectAt(this.ctx, entry.offset, ref.num)
    // §7.6.3: object streams are encrypted like any stream; without the key their objects are lost.
    if (this.ctx.encrypted) {
      fail('encrypted_unreadable', `object ${ref.num} is in an object stream of an encrypted file`)
    }
    return (await this.objectStream(entry.streamNum)).get(ref.num, entry.index)
  }

  /** §7.5.7: decoded object streams are cached (LRU) so sibling pages cost one decode. */
  private async objectStream(num: number): Promise<ObjectStream> {
    const cached = this.streams.get(num)
    if (cached) {
      this.streams.delete(num)
      this.streams.set(num, cached)
      return cached
    }
    if (this.loadingStreams.has(num)) fail('malformed', `object stream ${num} depends on itself`)
    this.loadingStreams.add(num)
    try {
      const entry = await this.xref.lookup(num)
      if (entry?.kind !== 'offset') fail('malformed', `object stream ${num} is not stored as a plain object`)
      const object = await readIndirectAt(this.ctx, entry.offset, num)
      if (!(object instanceof PdfStream)) fail('malformed', `object ${num} is not an object stream`)
      const data = await readStreamData(this.ctx, object, await this.resolve(object.dict.get('Length')))
      const stream = new ObjectStream(object.dict, data, num)
      this.streams.set(num, stream)
      if (this.streams.size > OBJECT_STREAM_CACHE_SIZE) this.streams.delete(this.streams.keys().next().value!)
      return stream
    } finally {
      this.loadingStreams.delete(num)
    }
  }
}

/** A decoded object stream: `/N` pairs of (object number, offset from `/First`), then the objects. */
class ObjectStream {
  private readonly first: number
  private readonly table: Float64Array

  constructor(
    dict: PdfDict,
    private readonly data: Buffer,
    private readonly num: number,
  ) {
    const n = dict.get('N')
    const first = dict.get('First')
    if (!isCount(n) || !isCount(first) || first > data.length) fail('malformed', `bad /N or /First in object stream ${num}`)
    // Each pair takes at least 4 bytes ("1 0 "), so /N cannot make us allocate more than /First allows.
    if (4 * n - 1 > first) fail('malformed', `object stream ${num}: /N ${n} does not fit in /First ${first}`)
    this.first = first
    this.table = new Float64Array(2 * n)
    const lexer: Lexer = new Lexer(data.subarray(0, first), 0, true, 'malformed')
    for (let i = 0; i < 2 * n; i++) {
      const token = lexer.readToken()
      if (token.kind !== 'number' || !token.isInteger || token.value < 0) lexer.malformed(`bad object stream ${num} header`)
      this.table[i] = token.value
    }
  }

  get(objectNum: number, index: number): PdfValue {
    const count = this.table.length / 2
    let at = index < count && this.table[2 * index] === objectNum ? index : -1
    for (let i = 0; at < 0 && i < count; i++) if (this.table[2 * i] === objectNum) at = i
    if (at < 0) fail('malformed', `object ${objectNum} is missing from object stream ${this.num}`)
    const start = this.first + this.table[2 * at + 1]!
    const next = at + 1 < count ? this.first + this.table[2 * at + 3]! : this.data.length
    const end = next > start && next <= this.data.length ? next : this.data.length
    if (start >= this.data.length) fail('malformed', `object ${objectNum} lies outside object stream ${this.num}`)
    return parseValue(new Lexer(this.data.subarray(start, end), 0, true, 'malformed'))
  }
}

export function isCount(value: PdfObject | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}
