import { fail, overBudget } from './errors.js'
import { decodeStreamData } from './filters.js'
import { isDict, Lexer, parseAtOffset, parseValue, PdfStream, Ref, type PdfDict, type PdfObject, type PdfValue } from './lexer.js'
import type { FileWindow } from './reader.js'

/**
 * Work budgets of one operation (an inspection, a structure read). Each counts work done, not
 * objects present in the file, so a small file that makes the reader repeat itself (shared
 * subtrees, padding, headers claiming millions of entries) runs out of budget, not of time.
 */
export interface Limits {
  /** Pages in the tree. */
  maxPages: number
  /** Indirect objects loaded (each at most once: resolved objects are memoised). */
  maxObjects: number
  /** Bytes of one decoded xref or object stream. */
  maxStreamBytes: number
  /** Nesting of /Pages nodes. */
  maxDepth: number
  /** Page tree nodes visited (pages and /Pages nodes, direct or indirect). */
  maxPageTreeNodes: number
  /** Bytes of object syntax tokenised. */
  maxLexedBytes: number
  /** Bytes of streams decoded. */
  maxDecodedBytes: number
  /** Entries claimed by object stream headers (/N), summed over the streams read. */
  maxObjectStreamEntries: number
}

export const DEFAULT_LIMITS: Limits = {
  maxPages: 100_000,
  maxObjects: 1_000_000,
  maxStreamBytes: 32 * 1024 * 1024,
  maxDepth: 64,
  maxPageTreeNodes: 300_000,
  maxLexedBytes: 256 * 1024 * 1024,
  maxDecodedBytes: 128 * 1024 * 1024,
  maxObjectStreamEntries: 2_000_000,
}

/** State of one operation, shared by the xref loader and the object store. */
export interface InspectContext {
  readonly file: FileWindow
  readonly limits: Limits
  /** Set once the trailer is known; strings and streams (but not xref streams) are then unreadable. */
  encrypted: boolean
  /** Bytes decoded so far (maxDecodedBytes). */
  decodedBytes: number
  /** Object stream entries claimed so far (maxObjectStreamEntries). */
  objectStreamEntries: number
}

export function newContext(file: FileWindow, limits: Limits): InspectContext {
  file.lexBudget = limits.maxLexedBytes
  return { file, limits, encrypted: false, decodedBytes: 0, objectStreamEntries: 0 }
}

/** Where the cross-reference data puts an object (ISO 32000-1 §7.5.4, §7.5.8.3). */
export type XrefEntry =
  | { kind: 'offset'; offset: number }
  | { kind: 'compressed'; streamNum: number; index: number }
  | { kind: 'free' }

export interface XrefLookup {
  lookup(num: number): Promise<XrefEntry | null>
}

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
    // A wrong xref offset is `malformed` here; inspect.ts then rebuilds the xref by scanning (repair.ts).
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

/** Reads `length` bytes of stream data and decodes them, within the stream byte budgets. */
export async function readStreamData(ctx: InspectContext, stream: PdfStream, length: PdfObject | undefined): Promise<Buffer> {
  const { maxStreamBytes, maxDecodedBytes } = ctx.limits
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) fail('malformed', 'bad stream /Length')
  // Checked before any allocation, so `/Length 999999999999` costs nothing.
  if (stream.dataOffset + length > ctx.file.size) fail('truncated', `stream data at byte ${stream.dataOffset} runs past the end of the file`)
  if (length > maxStreamBytes) overBudget('stream_bytes', `a stream of ${length} bytes exceeds ${maxStreamBytes}`)
  const raw = await ctx.file.read(stream.dataOffset, length)
  // What is left of the operation's budget also caps this one stream, so many streams of just
  // under the per-stream cap cannot add up to gigabytes.
  const left = maxDecodedBytes - ctx.decodedBytes
  if (left <= 0) overBudget('bytes_decoded', `more than ${maxDecodedBytes} bytes of streams decoded`)
  let data: Buffer
  try {
    data = decodeStreamData(raw, stream.dict, Math.min(maxStreamBytes, left))
  } catch (e) {
    if (left < maxStreamBytes && (e as { limit?: string }).limit === 'stream_bytes') overBudget('bytes_decoded', `more than ${maxDecodedBytes} bytes of streams decoded`)
    throw e
  }
  ctx.decodedBytes += data.length
  return data
}

/** Resolves indirect references through the cross-reference data; each object is loaded once. */
export class ObjectStore {
  private objectsLoaded = 0
  private readonly loaded = new Map<number, Promise<PdfObject>>()
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

  /** Memoised: a file that references one object from many places pays for it once. */
  private load(ref: Ref): Promise<PdfObject> {
    let hit = this.loaded.get(ref.num)
    if (!hit) {
      hit = this.loadOnce(ref)
      this.loaded.set(ref.num, hit)
    }
    return hit
  }

  private async loadOnce(ref: Ref): Promise<PdfObject> {
    if (++this.objectsLoaded > this.ctx.limits.maxObjects) {
      overBudget('objects', `more than ${this.ctx.limits.maxObjects} objects loaded`)
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
      const stream = new ObjectStream(this.ctx, object.dict, data, num)
      this.streams.set(num, stream)
      if (this.streams.size > OBJECT_STREAM_CACHE_SIZE) this.streams.delete(this.streams.keys().next().value!)
      return stream
    } finally {
      this.loadingStreams.delete(num)
    }
  }
}

/**
 * A decoded object stream: `/N` pairs of (object number, offset from `/First`), then the objects.
 * The header table is two Uint32Arrays (8 bytes an entry), allocated only after /N has been
 * charged to the operation's entry budget; lookups use the xref's index hint, else a
 * number → slot hash table built once, never a scan per lookup.
 */
class ObjectStream {
  private readonly first: number
  private readonly nums: Uint32Array
  private readonly offsets: Uint32Array
  private table: Int32Array | undefined

  constructor(
    private readonly ctx: InspectContext,
    dict: PdfDict,
    private readonly data: Buffer,
    private readonly num: number,
  ) {
    const n = dict.get('N')
    const first = dict.get('First')
    if (!isCount(n) || !isCount(first) || first > data.length) fail('malformed', `bad /N or /First in object stream ${num}`)
    // Each pair takes at least 4 bytes ("1 0 "), so /N cannot claim more than /First allows.
    if (4 * n - 1 > first) fail('malformed', `object stream ${num}: /N ${n} does not fit in /First ${first}`)
    ctx.objectStreamEntries += n
    if (ctx.objectStreamEntries > ctx.limits.maxObjectStreamEntries) {
      overBudget('object_stream_entries', `object stream headers claim more than ${ctx.limits.maxObjectStreamEntries} entries`)
    }
    this.first = first
    this.nums = new Uint32Array(n)
    this.offsets = new Uint32Array(n)
    ctx.file.charge(readHeaderPairs(data, first, n, this.nums, this.offsets, num))
  }

  private slot(objectNum: number, index: number): number {
    const { nums } = this
    if (index < nums.length && nums[index] === objectNum) return index
    // An open-addressing hash of number → slot (the first occurrence wins, as the scan it
    // replaces did), built once in O(N), 8 bytes an entry at most twice over.
    let table = this.table
    if (!table) {
      let size = 1
      while (size < 2 * nums.length) size <<= 1
      table = new Int32Array(size).fill(-1)
      const mask = size - 1
      for (let i = 0; i < nums.length; i++) {
        let h = Math.imul(nums[i]!, 0x9e3779b1) & mask
        while (table[h] !== -1 && nums[table[h]!] !== nums[i]) h = (h + 1) & mask
        if (table[h] === -1) table[h] = i
      }
      this.table = table
    }
    const mask = table.length - 1
    for (let h = Math.imul(objectNum, 0x9e3779b1) & mask; table[h] !== -1; h = (h + 1) & mask) {
      if (nums[table[h]!] === objectNum) return table[h]!
    }
    return -1
  }

  get(objectNum: number, index: number): PdfValue {
    const at = this.slot(objectNum, index)
    if (at < 0) fail('malformed', `object ${objectNum} is missing from object stream ${this.num}`)
    const count = this.nums.length
    const start = this.first + this.offsets[at]!
    const next = at + 1 < count ? this.first + this.offsets[at + 1]! : this.data.length
    const end = next > start && next <= this.data.length ? next : this.data.length
    if (start >= this.data.length) fail('malformed', `object ${objectNum} lies outside object stream ${this.num}`)
    const lexer = new Lexer(this.data.subarray(start, end), 0, true, 'malformed')
    try {
      return parseValue(lexer)
    } finally {
      this.ctx.file.charge(lexer.pos)
    }
  }
}

/**
 * §7.5.7: the header is 2N unsigned integers separated by white space. Read byte by byte (not
 * through the general lexer: a header of a million entries is two million tokens). Returns the
 * bytes consumed, which the caller charges to the lexing budget.
 */
function readHeaderPairs(data: Buffer, end: number, n: number, nums: Uint32Array, offsets: Uint32Array, streamNum: number): number {
  let pos = 0
  for (let i = 0; i < 2 * n; i++) {
    while (pos < end && (data[pos] === 0x20 || data[pos] === 0x0a || data[pos] === 0x0d || data[pos] === 0x09 || data[pos] === 0x0c || data[pos] === 0x00)) pos++
    let value = 0
    const start = pos
    while (pos < end && data[pos]! >= 0x30 && data[pos]! <= 0x39) {
      value = value * 10 + (data[pos]! - 0x30)
      pos++
    }
    if (pos === start || value > 0xffffffff || (pos < end && data[pos] !== 0x20 && data[pos] !== 0x0a && data[pos] !== 0x0d && data[pos] !== 0x09 && data[pos] !== 0x0c && data[pos] !== 0x00)) {
      fail('malformed', `bad object stream ${streamNum} header`)
    }
    if (i % 2 === 0) nums[i >> 1] = value
    else offsets[i >> 1] = value
  }
  return pos
}

export function isCount(value: PdfObject | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}
