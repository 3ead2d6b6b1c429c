/**
 * An incremental update (ISO 32000-1 §7.5.6): new and replaced objects appended after the
 * original bytes, with a cross-reference section whose /Prev points at the original's newest
 * one. The original bytes are never rewritten, so an export costs a stream of the source plus
 * a tail proportional to the annotations, whatever the file's size. When the file's newest
 * section is a cross-reference stream the update writes one too (§7.5.8; readers of 1.5+
 * files may expect it), otherwise a classic table.
 */
import { deflateSync } from 'node:zlib'
import type { PdfStructure } from './structure.js'
import { serialize } from './serialize.js'

interface Written { num: number; gen: number; offset: number }

export class IncrementalUpdate {
  private readonly chunks: Buffer[] = []
  private length = 0
  private readonly written: Written[] = []
  private nextNum: number

  constructor(private readonly structure: PdfStructure) {
    this.nextNum = structure.xrefSize
    if (!structure.endsWithEol) this.raw('\n')
  }

  /** A fresh object number (above every number the file uses). */
  allocate(): number {
    return this.nextNum++
  }

  /** Writes `num gen obj … endobj`; the same number as an existing object replaces it. */
  object(num: number, body: string, gen = 0): void {
    this.written.push({ num, gen, offset: this.structure.fileSize + this.length })
    this.raw(`${num} ${gen} obj\n`).raw(body).raw('\nendobj\n')
  }

  /** A stream object; data over 256 bytes is Flate-compressed (§7.4.4). */
  stream(num: number, dict: string, data: string | Buffer): void {
    let bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data
    let filter = ''
    if (bytes.length > 256) {
      bytes = deflateSync(bytes)
      filter = '/Filter/FlateDecode'
    }
    this.written.push({ num, gen: 0, offset: this.structure.fileSize + this.length })
    this.raw(`${num} 0 obj\n<<${dict}${filter}/Length ${bytes.length}>>\nstream\n`).raw(bytes).raw('\nendstream\nendobj\n')
  }

  /** Ends the update: cross-reference section, trailer, startxref. Returns the bytes to append. */
  finish(): Buffer {
    const s = this.structure
    const common = [
      s.root !== undefined ? `/Root ${serialize(s.root)}` : '',
      s.info !== undefined ? `/Info ${serialize(s.info)}` : '',
      s.id !== undefined ? `/ID ${serialize(s.id)}` : '',
      s.startxref !== undefined ? `/Prev ${s.startxref}` : '',
    ].join('')
    const start = s.fileSize + this.length
    if (s.xrefIsStream) {
      const num = this.allocate()
      const entries = [...this.written, { num, gen: 0, offset: start }].sort((a, b) => a.num - b.num)
      const w = start >= 2 ** 32 ? 6 : 4 // offsets of files over 4 GiB need a wider field
      const rows = Buffer.alloc(entries.length * (3 + w))
      entries.forEach((e, i) => {
        const at = i * (3 + w)
        rows.writeUInt8(1, at)
        rows.writeUIntBE(e.offset, at + 1, w)
        rows.writeUInt16BE(e.gen, at + 1 + w)
      })
      const index = runs(entries.map((e) => e.num)).map(([a, n]) => `${a} ${n}`).join(' ')
      this.stream(num, `/Type/XRef/Size ${this.nextNum}/Index[${index}]/W[1 ${w} 2]${common}`, rows)
    } else {
      const entries = [...this.written].sort((a, b) => a.num - b.num)
      let table = 'xref\n'
      for (const [first, count] of runs(entries.map((e) => e.num))) {
        table += `${first} ${count}\n`
        for (const e of entries.filter((x) => x.num >= first && x.num < first + count)) {
          table += `${String(e.offset).padStart(10, '0')} ${String(e.gen).padStart(5, '0')} n\r\n`
        }
      }
      this.raw(table).raw(`trailer\n<</Size ${this.nextNum}${common}>>\n`)
    }
    this.raw(`startxref\n${start}\n%%EOF\n`)
    return Buffer.concat(this.chunks)
  }

  private raw(data: string | Buffer): this {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data
    this.chunks.push(bytes)
    this.length += bytes.length
    return this
  }
}

/** Sorted object numbers → [first, count] runs (xref subsections). */
function runs(nums: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (const n of nums) {
    const last = out[out.length - 1]
    if (last && last[0] + last[1] === n) last[1]++
    else if (!last || last[0] + last[1] <= n) out.push([n, 1])
  }
  return out
}
