/**
 * Small standalone PDFs that Folio writes itself for the Build API: blank pages (new-page parts,
 * addPage) and watermark pages (one per target page, the same box and rotation, overlaid by
 * qpdf). Classic cross-reference table; every value written is a number, a name Folio chose or
 * an escaped string, nothing from a client as PDF syntax.
 */
import { num } from '../pdf/serialize.js'

export interface SimplePage {
  /** [x0, y0, x1, y1] in points. */
  box: [number, number, number, number]
  rotation?: number
  /** Content stream operators (latin1). */
  content?: string
  /** Resource dictionary body, e.g. `/Font<<…>>`. */
  resources?: string
}

export function writeSimplePdf(pages: SimplePage[], extra: Array<{ body: string | Buffer }> = []): Buffer {
  const chunks: Buffer[] = []
  let length = 0
  const offsets: number[] = []
  const push = (b: string | Buffer) => {
    const buf = typeof b === 'string' ? Buffer.from(b, 'latin1') : b
    chunks.push(buf)
    length += buf.length
  }
  const obj = (n: number, body: string | Buffer) => {
    offsets[n] = length
    push(`${n} 0 obj\n`)
    push(body)
    push('\nendobj\n')
  }
  push('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
  // 1 catalog, 2 pages, 3.. extra objects, then page + content pairs
  const firstPage = 3 + extra.length
  const kids = pages.map((_, i) => `${firstPage + i * 2} 0 R`).join(' ')
  obj(1, '<</Type/Catalog/Pages 2 0 R>>')
  obj(2, `<</Type/Pages/Count ${pages.length}/Kids[${kids}]>>`)
  extra.forEach((e, i) => obj(3 + i, e.body))
  pages.forEach((p, i) => {
    const n = firstPage + i * 2
    const content = Buffer.from(p.content ?? '', 'latin1')
    const rotate = p.rotation ? `/Rotate ${p.rotation}` : ''
    obj(n, `<</Type/Page/Parent 2 0 R/MediaBox[${p.box.map(num).join(' ')}]${rotate}/Resources<<${p.resources ?? ''}>>/Contents ${n + 1} 0 R>>`)
    obj(n + 1, Buffer.concat([Buffer.from(`<</Length ${content.length}>>\nstream\n`, 'latin1'), content, Buffer.from('\nendstream', 'latin1')]))
  })
  const size = firstPage + pages.length * 2
  const xref = length
  let table = `xref\n0 ${size}\n0000000000 65535 f\r\n`
  for (let n = 1; n < size; n++) table += `${String(offsets[n]).padStart(10, '0')} 00000 n\r\n`
  push(table)
  push(`trailer\n<</Size ${size}/Root 1 0 R>>\nstartxref\n${xref}\n%%EOF\n`)
  return Buffer.concat(chunks)
}

const MM = 72 / 25.4

/** Page size presets of PageLayout, in mm (ISO 216 and US). */
export const PAGE_SIZES: Record<string, [number, number]> = {
  A0: [841, 1189], A1: [594, 841], A2: [420, 594], A3: [297, 420], A4: [210, 297], A5: [148, 210],
  A6: [105, 148], A7: [74, 105], A8: [52, 74], Letter: [215.9, 279.4], Legal: [215.9, 355.6],
}

export function mmToPt(mm: number): number {
  return mm * MM
}
