/**
 * PDF generators for tests and benchmarks. Everything is built from scratch with exact byte
 * offsets, so the files pass `qpdf --check` (test/pdf/inspect.test.ts checks that) and can be
 * bent on purpose with `PdfBuilder` (wrong /Length, /Prev loops, deep page trees…).
 */
import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { deflateSync } from 'node:zlib'

export interface FixturePage {
  width?: number
  height?: number
  rotate?: number
  /** Drawn in Helvetica 24 pt near the top left; '' draws nothing. Default 'Page N'. */
  text?: string
  cropBox?: [number, number, number, number]
}

export interface MakePdfOptions {
  /** Default: one Letter page with the text 'Hello Folio'. */
  pages?: FixturePage[]
  /** 'stream': a cross-reference stream, with catalog, page tree and font in an object stream. */
  xref?: 'table' | 'stream'
  /** Append an incremental update that rewrites page 1 with /Rotate turned 90° further. */
  incrementalUpdate?: boolean
  /** Add an /Encrypt dictionary to the trailer (the content is not actually encrypted). */
  encryptMarker?: boolean
  /** Put the first page's MediaBox and Rotate on the /Pages node; pages state only differences. */
  inheritFromPages?: boolean
}

type XrefRecord = { type: 1; offset: number } | { type: 2; stream: number; index: number }

const latin1 = (s: string) => Buffer.from(s, 'latin1')
const toBytes = (data: string | Uint8Array) => (typeof data === 'string' ? latin1(data) : Buffer.from(data))

/** Formats a number the way PDF writers do: integers plain, reals without exponent. */
export function pdfNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(6)))
}

/**
 * Appends PDF syntax while tracking object offsets. Each xref method writes a section for the
 * objects added since the previous one; from the second section on, /Prev is added, which makes
 * it an incremental update (ISO 32000-1 §7.5.6).
 */
export class PdfBuilder {
  private readonly chunks: Buffer[] = []
  private length = 0
  private pending = new Map<number, XrefRecord>()
  private lastStartxref: number | undefined
  private maxNum = 0
  /** Byte length of the data of the last stream written (to state it in an indirect /Length). */
  lastStreamLength = 0

  constructor(version = '1.7') {
    this.raw(`%PDF-${version}\n%\xe2\xe3\xcf\xd3\n`)
  }

  get offset(): number {
    return this.length
  }

  raw(data: string | Uint8Array): this {
    const bytes = toBytes(data)
    this.chunks.push(bytes)
    this.length += bytes.length
    return this
  }

  object(num: number, body: string | Uint8Array): this {
    this.record(num, { type: 1, offset: this.length })
    return this.raw(`${num} 0 obj\n`).raw(body).raw('\nendobj\n')
  }

  /** A stream object; /Length is the data's length unless `length` overrides it (e.g. '12 0 R'). */
  stream(num: number, dict: string, data: string | Uint8Array, opts: { length?: string } = {}): this {
    const bytes = toBytes(data)
    this.lastStreamLength = bytes.length
    const head = latin1(`<< ${dict} /Length ${opts.length ?? bytes.length} >>\nstream\n`)
    return this.object(num, Buffer.concat([head, bytes, latin1('\nendstream')]))
  }

  /** §7.5.7: an object stream holding `members` ([number, body]), Flate-compressed. */
  objectStream(num: number, members: Array<[number, string]>, opts: { length?: string } = {}): this {
    const offsets: number[] = []
    let body = ''
    for (const [, text] of members) {
      offsets.push(Buffer.byteLength(body, 'latin1'))
      body += `${text}\n`
    }
    const header = `${members.map(([n], i) => `${n} ${offsets[i]}`).join(' ')}\n`
    const data = deflateSync(latin1(header + body))
    const first = Buffer.byteLength(header, 'latin1')
    this.stream(num, `/Type /ObjStm /N ${members.length} /First ${first} /Filter /FlateDecode`, data, opts)
    members.forEach(([n], index) => this.record(n, { type: 2, stream: num, index }))
    return this
  }

  /** Records object `num` as held by object stream `stream` at `index` (for hand-made object streams). */
  compressed(num: number, stream: number, index: number): this {
    this.record(num, { type: 2, stream, index })
    return this
  }

  /** A classic table (§7.5.4) for the pending objects, then trailer, startxref and %%EOF. */
  xrefTable(trailer: string): this {
    const records = this.takePending()
    if (records.some(([, r]) => r.type === 2)) throw new Error('compressed objects need xrefStream or xrefHybrid')
    const startxref = this.length
    this.raw(tableText(records, this.lastStartxref === undefined))
    return this.finish(`trailer\n<< ${this.trailerBase()} ${trailer} >>\n`, startxref)
  }

  /** A cross-reference stream (§7.5.8) for the pending objects, as object `num`. */
  xrefStream(num: number, trailer: string): this {
    const startxref = this.length
    this.record(num, { type: 1, offset: startxref })
    this.writeXrefStreamObject(num, this.takePending(), `${this.trailerBase()} ${trailer}`)
    return this.finish('', startxref)
  }

  /** A hybrid section (§7.5.8.4): compressed objects in stream `num` named by /XRefStm, the rest in a table. */
  xrefHybrid(num: number, trailer: string): this {
    const records = this.takePending()
    const streamOffset = this.length
    const isFirst = this.lastStartxref === undefined
    this.writeXrefStreamObject(num, records.filter(([, r]) => r.type === 2), `/Size ${this.maxNum + 1}`, false)
    this.record(num, { type: 1, offset: streamOffset })
    const plain = [...records.filter(([, r]) => r.type === 1), ...this.takePending()].sort((a, b) => a[0] - b[0])
    const startxref = this.length
    this.raw(tableText(plain, isFirst))
    return this.finish(`trailer\n<< ${this.trailerBase()} /XRefStm ${streamOffset} ${trailer} >>\n`, startxref)
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks)
  }

  private record(num: number, record: XrefRecord): void {
    this.pending.set(num, record)
    this.maxNum = Math.max(this.maxNum, num)
  }

  private takePending(): Array<[number, XrefRecord]> {
    const records = [...this.pending].sort((a, b) => a[0] - b[0])
    this.pending = new Map()
    return records
  }

  private trailerBase(): string {
    return `/Size ${this.maxNum + 1}${this.lastStartxref === undefined ? '' : ` /Prev ${this.lastStartxref}`}`
  }

  private finish(trailer: string, startxref: number): this {
    this.lastStartxref = startxref
    return this.raw(`${trailer}startxref\n${startxref}\n%%EOF\n`)
  }

  private writeXrefStreamObject(num: number, records: Array<[number, XrefRecord]>, dict: string, withFreeHead = this.lastStartxref === undefined): void {
    const rows: Array<[number, number, number, number]> = records.map(([n, r]) =>
      r.type === 1 ? [n, 1, r.offset, 0] : [n, 2, r.stream, r.index],
    )
    if (withFreeHead) rows.unshift([0, 0, 0, 0xffff])
    const raw = Buffer.alloc(rows.length * 8) // PNG "Up" rows: 1 filter byte + W [1 4 2]
    let previous = Buffer.alloc(7)
    rows.forEach(([, type, f2, f3], i) => {
      const row = Buffer.alloc(7)
      row.writeUInt8(type, 0)
      row.writeUInt32BE(f2, 1)
      row.writeUInt16BE(f3, 5)
      raw[i * 8] = 2
      for (let j = 0; j < 7; j++) raw[i * 8 + 1 + j] = (row[j]! - previous[j]! + 256) & 0xff
      previous = row
    })
    const index = subsections(rows.map(([n]) => n)).map(([start, count]) => `${start} ${count}`).join(' ')
    this.stream(
      num,
      `/Type /XRef ${dict} /W [1 4 2] /Index [${index}] /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 7 >>`,
      deflateSync(raw),
    )
    this.pending.delete(num) // its own entry was recorded by the caller, or belongs to the table
  }
}

/** Groups sorted object numbers into [start, count] runs. */
function subsections(nums: number[]): Array<[number, number]> {
  const runs: Array<[number, number]> = []
  for (const n of nums) {
    const last = runs[runs.length - 1]
    if (last && last[0] + last[1] === n) last[1]++
    else runs.push([n, 1])
  }
  return runs
}

function tableText(records: Array<[number, XrefRecord]>, withFreeHead: boolean): string {
  const entries = new Map<number, string>()
  if (withFreeHead) entries.set(0, '0000000000 65535 f\r\n')
  for (const [n, r] of records) if (r.type === 1) entries.set(n, `${String(r.offset).padStart(10, '0')} 00000 n\r\n`)
  const nums = [...entries.keys()].sort((a, b) => a - b)
  let text = 'xref\n'
  for (const [start, count] of subsections(nums)) {
    text += `${start} ${count}\n`
    for (let n = start; n < start + count; n++) text += entries.get(n)
  }
  return text
}

function escapeText(text: string): string {
  return text.replace(/[\\()]/g, (c) => `\\${c}`)
}

/** Real drawn text (Helvetica via /F1) so render tests see non-white pixels. */
export function pageContent(text: string, height = 792): string {
  if (text === '') return ''
  return `BT /F1 24 Tf 72 ${pdfNumber(Math.max(10, height - 92))} Td (${escapeText(text)}) Tj ET\n`
}

export const HELVETICA_FONT = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'
const ENCRYPT = `<< /Filter /Standard /V 1 /R 2 /O <${'4f'.repeat(32)}> /U <${'55'.repeat(32)}> /P -3904 >>`
const FILE_ID = `[<${'a1'.repeat(16)}> <${'a1'.repeat(16)}>]`

/** Builds a small valid PDF; see MakePdfOptions. Objects: 1 catalog, 2 pages, 3 font, 4+2i page i, 5+2i its content. */
export function makePdf(opts: MakePdfOptions = {}): Buffer {
  const pages = opts.pages ?? [{ text: 'Hello Folio' }]
  if (pages.length === 0) throw new Error('makePdf needs at least one page')
  const base = opts.inheritFromPages ? pages[0]! : undefined
  const builder = new PdfBuilder('1.7')
  const kids = pages.map((_, i) => `${4 + 2 * i} 0 R`).join(' ')
  const inherited = base ? ` /MediaBox [0 0 ${pdfNumber(base.width ?? 612)} ${pdfNumber(base.height ?? 792)}] /Rotate ${base.rotate ?? 0}` : ''
  const plain: Array<[number, string]> = [
    [1, '<< /Type /Catalog /Pages 2 0 R >>'],
    [2, `<< /Type /Pages /Kids [${kids}] /Count ${pages.length}${inherited} >>`],
    [3, HELVETICA_FONT],
    ...pages.map((page, i): [number, string] => [4 + 2 * i, pageDict(page, 5 + 2 * i, base)]),
  ]
  const encryptNum = 4 + 2 * pages.length
  const trailer = `/Root 1 0 R${opts.encryptMarker ? ` /Encrypt ${encryptNum} 0 R /ID ${FILE_ID}` : ''}`
  pages.forEach((page, i) => builder.stream(5 + 2 * i, '', pageContent(page.text ?? `Page ${i + 1}`, page.height ?? base?.height ?? 792)))
  if (opts.encryptMarker) builder.object(encryptNum, ENCRYPT)
  let next = encryptNum + 1
  if (opts.xref === 'stream') {
    // 100 objects per object stream, as qpdf writes them (and /W [1 4 2] holds indexes < 65536).
    for (let i = 0; i < plain.length; i += 100) builder.objectStream(next++, plain.slice(i, i + 100))
    builder.xrefStream(next++, trailer)
  } else {
    for (const [num, body] of plain) builder.object(num, body)
    builder.xrefTable(trailer)
  }
  if (opts.incrementalUpdate) {
    const first = pages[0]!
    const rotation = ((((first.rotate ?? 0) % 360) + 360) % 360 + 90) % 360
    builder.object(4, pageDict({ ...first, rotate: rotation }, 5, undefined, base !== undefined))
    if (opts.xref === 'stream') builder.xrefStream(next++, trailer)
    else builder.xrefTable(trailer)
  }
  return builder.toBuffer()
}

/**
 * A page dictionary. With `base` (inheritFromPages), MediaBox and Rotate are left to the /Pages
 * node when they equal the base page's, so the result reads the same as without inheritance.
 * `inheritMedia` alone (the incremental update) keeps the inherited MediaBox and states Rotate.
 */
function pageDict(page: FixturePage, contentNum: number, base?: FixturePage, inheritMedia = base !== undefined): string {
  const width = page.width ?? 612
  const height = page.height ?? 792
  const sameMedia = inheritMedia && width === ((base ?? page).width ?? 612) && height === ((base ?? page).height ?? 792)
  const media = sameMedia ? '' : ` /MediaBox [0 0 ${pdfNumber(width)} ${pdfNumber(height)}]`
  const sameRotate = base === undefined ? page.rotate === undefined : (page.rotate ?? 0) === (base.rotate ?? 0)
  const rotate = sameRotate ? '' : ` /Rotate ${page.rotate ?? 0}`
  const crop = page.cropBox ? ` /CropBox [${page.cropBox.map(pdfNumber).join(' ')}]` : ''
  return `<< /Type /Page /Parent 2 0 R${media}${crop}${rotate} /Resources << /Font << /F1 3 0 R >> >> /Contents ${contentNum} 0 R >>`
}

const FILLER_LINE = '% folio filler: harmless comment lines that make the page large\n'
const CHUNK_LINES = 16_384 // 1 MiB of filler per write

/**
 * Streams a valid PDF of about `approxBytes` to `path` without holding it in memory: 2 to 1000
 * pages, each a line of text followed by a long run of comment lines in its content stream.
 */
export async function writeLargePdf(path: string, approxBytes: number): Promise<{ bytes: number; sha256: string }> {
  if (FILLER_LINE.length !== 64) throw new Error('filler line must be 64 bytes')
  const pageCount = Math.min(1000, Math.max(2, Math.round(approxBytes / (4 * 1024 * 1024))))
  const perPage = Math.max(1024, Math.floor((approxBytes - 1024 - 800 * pageCount) / pageCount))
  const chunk = latin1(FILLER_LINE.repeat(CHUNK_LINES))
  const hash = createHash('sha256')
  const offsets: number[] = []
  const handle = await open(path, 'w')
  let position = 0
  const write = async (data: string | Buffer) => {
    const bytes = typeof data === 'string' ? latin1(data) : data
    for (let done = 0; done < bytes.length; ) done += (await handle.write(bytes, done, bytes.length - done, null)).bytesWritten
    hash.update(bytes)
    position += bytes.length
  }
  const writeObject = async (num: number, body: string) => {
    offsets[num] = position
    await write(`${num} 0 obj\n${body}\nendobj\n`)
  }
  try {
    await write('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
    const kids = Array.from({ length: pageCount }, (_, i) => `${4 + 2 * i} 0 R`).join(' ')
    await writeObject(1, '<< /Type /Catalog /Pages 2 0 R >>')
    await writeObject(2, `<< /Type /Pages /Kids [${kids}] /Count ${pageCount} /MediaBox [0 0 612 792] >>`)
    await writeObject(3, HELVETICA_FONT)
    for (let i = 0; i < pageCount; i++) {
      await writeObject(4 + 2 * i, `<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + 2 * i} 0 R >>`)
      const head = pageContent(`Large page ${i + 1}`)
      let lines = Math.max(0, Math.floor((perPage - head.length) / FILLER_LINE.length))
      offsets[5 + 2 * i] = position
      await write(`${5 + 2 * i} 0 obj\n<< /Length ${head.length + lines * FILLER_LINE.length} >>\nstream\n${head}`)
      for (; lines > 0; lines -= CHUNK_LINES) await write(lines >= CHUNK_LINES ? chunk : chunk.subarray(0, lines * FILLER_LINE.length))
      await write('\nendstream\nendobj\n')
    }
    const startxref = position
    let table = `xref\n0 ${offsets.length}\n0000000000 65535 f\r\n`
    for (let n = 1; n < offsets.length; n++) table += `${String(offsets[n]).padStart(10, '0')} 00000 n\r\n`
    await write(`${table}trailer\n<< /Size ${offsets.length} /Root 1 0 R >>\nstartxref\n${startxref}\n%%EOF\n`)
  } finally {
    await handle.close()
  }
  return { bytes: position, sha256: hash.digest('hex') }
}
