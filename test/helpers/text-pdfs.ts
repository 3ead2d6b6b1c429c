/**
 * PDFs with known text for the search, text and structure tests: several lines per page in
 * Helvetica 12 pt at known positions, an optional outline (nested, with /Dest and /URI
 * targets) and optional embedded files. Built with PdfBuilder, so offsets are exact and
 * `qpdf --check` passes; encrypted copies are made with `qpdf --encrypt` (encryptedCopy).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HELVETICA_FONT, PdfBuilder } from './pdf-fixtures.js'

export interface OutlineSpec {
  title: string
  /** Target page (a /Dest array), or a URI action. */
  page?: number
  uri?: string
  open?: boolean
  children?: OutlineSpec[]
}

export interface TextPdfOptions {
  /** Lines of each page. */
  pages: string[][]
  /** /Rotate of each page (default 0). */
  rotate?: number[]
  outline?: OutlineSpec[]
  embedded?: Array<{ name: string; data: Buffer; mime?: string }>
}

/** Where line `i` of a page is drawn: x 72, baseline 720 − 20·i (PDF user space, y up). */
export const LINE_X = 72
export const lineBaseline = (i: number) => 720 - 20 * i
export const FONT_SIZE = 12

function esc(text: string): string {
  return text.replace(/[\\()]/g, (c) => `\\${c}`)
}

/** PDF text string as UTF-16BE hex (outline titles with any characters). */
function utf16(text: string): string {
  const b = Buffer.from(text, 'utf16le')
  for (let i = 0; i < b.length; i += 2) [b[i], b[i + 1]] = [b[i + 1]!, b[i]!]
  return `<FEFF${b.toString('hex').toUpperCase()}>`
}

export function textPdf(opts: TextPdfOptions): Buffer {
  const n = opts.pages.length
  const pageNum = (i: number) => 4 + 2 * i
  const b = new PdfBuilder('1.7')
  let next = 4 + 2 * n
  const extra: string[] = []

  // Outline items: allocate numbers depth-first.
  type Item = { spec: OutlineSpec; num: number; parent: number; children: Item[] }
  const outlineRoot = opts.outline ? next++ : 0
  const build = (specs: OutlineSpec[], parent: number): Item[] => specs.map((spec) => {
    const item: Item = { spec, num: next++, parent, children: [] }
    item.children = build(spec.children ?? [], item.num)
    return item
  })
  const items = opts.outline ? build(opts.outline, outlineRoot) : []
  const countOf = (list: Item[]): number => list.reduce((s, it) => s + 1 + (it.spec.open === false ? 0 : countOf(it.children)), 0)

  let names = ''
  if (opts.embedded?.length) {
    const pairs: string[] = []
    for (const f of opts.embedded) {
      const fileNum = next++
      const specNum = next++
      b.stream(fileNum, `/Type /EmbeddedFile${f.mime ? ` /Subtype /${f.mime.replace('/', '#2F')}` : ''} /Params << /Size ${f.data.length} >>`, f.data)
      b.object(specNum, `<< /Type /Filespec /F (${esc(f.name)}) /UF ${utf16(f.name)} /EF << /F ${fileNum} 0 R >> >>`)
      pairs.push(`(${esc(f.name)}) ${specNum} 0 R`)
    }
    names = ` /Names << /EmbeddedFiles << /Names [${pairs.join(' ')}] >> >>`
  }

  b.object(1, `<< /Type /Catalog /Pages 2 0 R${opts.outline ? ` /Outlines ${outlineRoot} 0 R /PageMode /UseOutlines` : ''}${names} >>`)
  b.object(2, `<< /Type /Pages /Kids [${opts.pages.map((_, i) => `${pageNum(i)} 0 R`).join(' ')}] /Count ${n} >>`)
  b.object(3, HELVETICA_FONT)
  opts.pages.forEach((lines, i) => {
    const rotate = opts.rotate?.[i] ?? 0
    b.object(pageNum(i), `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]${rotate ? ` /Rotate ${rotate}` : ''} /Resources << /Font << /F1 3 0 R >> >> /Contents ${pageNum(i) + 1} 0 R >>`)
    const content = lines.map((l, k) => `BT /F1 ${FONT_SIZE} Tf ${LINE_X} ${lineBaseline(k)} Td (${esc(l)}) Tj ET`).join('\n')
    b.stream(pageNum(i) + 1, '', content)
  })
  if (opts.outline) {
    b.object(outlineRoot, `<< /Type /Outlines /First ${items[0]!.num} 0 R /Last ${items[items.length - 1]!.num} 0 R /Count ${countOf(items)} >>`)
    const write = (list: Item[]) => list.forEach((it, k) => {
      const s = it.spec
      const target = s.uri !== undefined ? ` /A << /S /URI /URI (${esc(s.uri)}) >>` : s.page !== undefined ? ` /Dest [${pageNum(s.page)} 0 R /XYZ 0 792 0]` : ''
      const kids = it.children.length ? ` /First ${it.children[0]!.num} 0 R /Last ${it.children[it.children.length - 1]!.num} 0 R /Count ${s.open === false ? -countOf(it.children) : countOf(it.children)}` : ''
      const prev = k > 0 ? ` /Prev ${list[k - 1]!.num} 0 R` : ''
      const nxt = k < list.length - 1 ? ` /Next ${list[k + 1]!.num} 0 R` : ''
      b.object(it.num, `<< /Title ${utf16(s.title)} /Parent ${it.parent} 0 R${prev}${nxt}${kids}${target} >>`)
      write(it.children)
    })
    write(items)
  }
  void extra
  b.xrefTable(`/Root 1 0 R /ID [<${'b2'.repeat(16)}> <${'b2'.repeat(16)}>]`)
  return b.toBuffer()
}

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'folio-text-'))
  try {
    return fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** An encrypted copy made by qpdf (AES-256 by default), with user and owner passwords. */
export function encryptedCopy(pdf: Buffer, userPassword: string, ownerPassword = `${userPassword}-owner`, bits: '256' | '128' = '256'): Buffer {
  return withDir((dir) => {
    const input = join(dir, 'in.pdf')
    const output = join(dir, 'out.pdf')
    writeFileSync(input, pdf)
    // RC4-128 (old files in the wild) needs qpdf's --allow-weak-crypto.
    const r = spawnSync('qpdf', [...(bits === '128' ? ['--allow-weak-crypto'] : []), '--encrypt', userPassword, ownerPassword, bits, '--', input, output])
    if (r.status !== 0) throw new Error(`qpdf --encrypt failed: ${r.stderr}`)
    return readFileSync(output)
  })
}

/** poppler's text of the whole file, one string per page (form feed separated). */
export function pdftotextPages(pdf: Buffer, password?: string): string[] {
  return withDir((dir) => {
    const input = join(dir, 'in.pdf')
    writeFileSync(input, pdf)
    const r = spawnSync('pdftotext', [...(password ? ['-upw', password] : []), '-layout', input, '-'])
    if (r.status !== 0) throw new Error(`pdftotext failed: ${r.stderr}`)
    return r.stdout.toString('utf8').split('\f').slice(0, -1)
  })
}
