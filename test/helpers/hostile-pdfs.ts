/**
 * Malformed and hostile PDFs for the renderer's tests (issue #6), generated, never stored.
 *
 * Most keep a correct cross-reference table and page tree, so they pass Folio's upload
 * inspection (src/pdf/), and put the hostility where only a renderer looks: the content stream,
 * the resources, the XObjects. `truncated` and `garbage` fail the inspection and are fed to the
 * worker pool directly.
 */
import { constants as zlibConstants, deflateRawSync, deflateSync } from 'node:zlib'
import { HELVETICA_FONT, makePdf, PdfBuilder } from './pdf-fixtures.js'

type Extra = [num: number, kind: 'obj', body: string] | [num: number, kind: 'stream', dict: string, data: string | Uint8Array]

/** One Letter page; `resources` and `content` go in as given; `extra` objects start at 6. */
export function onePagePdf(opts: { resources?: string; content?: string | Uint8Array; contentDict?: string; contentLength?: string; pageExtra?: string; extra?: Extra[] }): Buffer {
  const b = new PdfBuilder('1.7')
  b.object(1, '<< /Type /Catalog /Pages 2 0 R >>')
  b.object(2, '<< /Type /Pages /Kids [4 0 R] /Count 1 >>')
  b.object(3, HELVETICA_FONT)
  b.object(4, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources ${opts.resources ?? '<< /Font << /F1 3 0 R >> >>'} /Contents 5 0 R${opts.pageExtra ?? ''} >>`)
  b.stream(5, opts.contentDict ?? '', opts.content ?? '', { length: opts.contentLength })
  for (const e of opts.extra ?? []) {
    if (e[1] === 'obj') b.object(e[0], e[2])
    else b.stream(e[0], e[2], e[3])
  }
  b.xrefTable('/Root 1 0 R')
  return b.toBuffer()
}

/** A page with 'Hello' and a black square annotation (appearance stream) at [100 100 300 300]. */
export function annotatedPdf(): Buffer {
  return onePagePdf({
    content: 'BT /F1 24 Tf 72 700 Td (Hello) Tj ET',
    pageExtra: ' /Annots [6 0 R]',
    extra: [
      [6, 'obj', '<< /Type /Annot /Subtype /Square /Rect [100 100 300 300] /F 4 /AP << /N 7 0 R >> >>'],
      [7, 'stream', '/Type /XObject /Subtype /Form /BBox [0 0 200 200]', '0 0 0 rg 0 0 200 200 re f'],
    ],
  })
}

const form = (resources: string) => `/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources ${resources}`

/** A chain of `levels` form XObjects, each drawing the next `fan` times: fan^levels leaf draws. */
export function fanOutPdf(levels: number, fan: number): Buffer {
  const extra: Extra[] = []
  for (let l = 0; l < levels; l++) {
    const n = 6 + l
    const last = l === levels - 1
    const body = last ? '0 0 m 612 792 l S 0 792 m 612 0 l S' : Array.from({ length: fan }, () => '/N Do').join(' ')
    extra.push([n, 'stream', form(last ? '<< >>' : `<< /XObject << /N ${n + 1} 0 R >> >>`), body])
  }
  return onePagePdf({ resources: '<< /XObject << /N 6 0 R >> >>', content: '/N Do', extra })
}

export interface HostileCase {
  name: string
  pdf: Buffer
  /** Whether Folio's upload inspection accepts it (so it can be rendered over HTTP). */
  passesUpload: boolean
}

/** The corpus; each entry says what it attacks. */
export function hostileCorpus(): HostileCase[] {
  const valid = makePdf({ pages: [{ text: 'Truncated' }, { text: 'Page 2' }] })
  return [
    // Cut in the middle: no trailer, no xref.
    { name: 'truncated', pdf: valid.subarray(0, Math.floor(valid.length * 0.6)), passesUpload: false },
    // A PDF header followed by noise.
    { name: 'garbage', pdf: Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(4096, 0x9b)]), passesUpload: false },
    // /Resources is an object that is a reference to itself.
    { name: 'recursive-reference', pdf: onePagePdf({ resources: '6 0 R', content: 'BT /F1 24 Tf 72 700 Td (x) Tj ET', extra: [[6, 'obj', '6 0 R']] }), passesUpload: true },
    // 50,000 nested arrays inside the resources (parsers that recurse per level overflow).
    { name: 'deep-nesting', pdf: onePagePdf({ resources: '6 0 R', content: 'BT /F1 24 Tf 72 700 Td (deep) Tj ET', extra: [[6, 'obj', `<< /Font << /F1 3 0 R >> /X ${'['.repeat(50_000)}${']'.repeat(50_000)} >>`]] }), passesUpload: true },
    // 200,000 nested q (save state) operators in the content stream.
    { name: 'deep-graphics-state', pdf: onePagePdf({ content: `${'q '.repeat(200_000)}0 0 m 100 100 l S ${'Q '.repeat(200_000)}` }), passesUpload: true },
    // An image declaring 2,000,000 × 2,000,000 pixels with three bytes of data.
    { name: 'huge-image', pdf: onePagePdf({ resources: '<< /XObject << /I 6 0 R >> >>', content: 'q 612 0 0 792 0 0 cm /I Do Q', extra: [[6, 'stream', '/Type /XObject /Subtype /Image /Width 2000000 /Height 2000000 /ColorSpace /DeviceRGB /BitsPerComponent 8', 'abc']] }), passesUpload: true },
    // A content stream declaring a /Length of ~1 TB.
    { name: 'huge-length', pdf: onePagePdf({ content: 'BT /F1 24 Tf 72 700 Td (long) Tj ET', contentLength: '999999999999' }), passesUpload: true },
    // A form XObject that draws itself twice: exponential recursion, exhausts memory.
    { name: 'self-drawing-form', pdf: onePagePdf({ resources: '<< /XObject << /X 6 0 R >> >>', content: '/X Do', extra: [[6, 'stream', form('<< /XObject << /X 6 0 R >> >>'), 'q 0.5 0 0 0.5 0 0 cm /X Do Q q 0.5 0 0 0.5 306 396 cm /X Do Q 0 0 m 10 10 l S']] }), passesUpload: true },
    // A Flate bomb: ~20 KB of deflate expanding to 18 MB of content, a million strokes.
    { name: 'flate-bomb', pdf: onePagePdf({ contentDict: '/Filter /FlateDecode', content: deflateSync(Buffer.from('0 0 m 612 792 l S\n'.repeat(1_000_000), 'latin1'), { level: 9 }) }), passesUpload: true },
  ]
}

/**
 * A zlib stream inflating to `mib` MiB of zeros, built from one compressed MiB repeated
 * (full-flush blocks are byte-aligned and independent), so a 1 GiB bomb costs ~1 MB and no
 * gigabyte is ever deflated by the test.
 */
export function zeroBomb(mib: number): Buffer {
  const block = deflateRawSync(Buffer.alloc(1 << 20), { level: 9, finishFlush: zlibConstants.Z_FULL_FLUSH })
  const adler = Buffer.alloc(4)
  adler.writeUInt32BE((((mib * (1 << 20)) % 65521) * 65536 + 1) >>> 0) // Adler-32 of zeros: A = 1, B = n mod 65521
  return Buffer.concat([Buffer.from([0x78, 0xda]), ...Array<Buffer>(mib).fill(block), Buffer.from([0x03, 0x00]), adler])
}

export interface StructureAttack {
  name: string
  pdf: Buffer
  /** What it attacks in the structure reader. */
  attack: string
}

const CATALOG = '<< /Type /Catalog /Pages 2 0 R >>'
const PAGE = '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>'

/** Pages whose boxes live in objects of one object stream whose header claims `entries`. */
function objectStreamScan(entries: number, pages: number): Buffer {
  const b = new PdfBuilder('1.7')
  const kids = Array.from({ length: pages }, (_, i) => `${10 + i} 0 R`).join(' ')
  b.object(1, CATALOG).object(2, `<< /Type /Pages /Kids [${kids}] /Count ${pages} >>`)
  // The box objects sit at the end of the header; the xref's index hints point at slot 0, so a
  // reader that scans for the number instead of indexing it walks the whole header each time.
  const filler = Array.from({ length: entries - pages }, (_, i) => `${100_000 + i} 0`).join(' ')
  const boxes = Array.from({ length: pages }, (_, i) => `${10_000 + i} 0`).join(' ')
  const header = `${filler} ${boxes}\n`
  const body = Array.from({ length: pages }, () => '[0 0 612 792]').join('\n')
  const data = deflateSync(Buffer.from(header + body, 'latin1'), { level: 9 })
  b.stream(5, `/Type /ObjStm /N ${entries} /First ${Buffer.byteLength(header)} /Filter /FlateDecode`, data)
  for (let i = 0; i < pages; i++) {
    b.object(10 + i, `<< /Type /Page /Parent 2 0 R /MediaBox ${10_000 + i} 0 R >>`)
    b.compressed(10_000 + i, 5, 0)
  }
  b.xrefStream(20_000, '/Root 1 0 R')
  return b.toBuffer()
}

/** Object streams whose /N claims `claimed` entries, padded so /First can hold them (compresses to little). */
function objectStreamClaims(streams: number, claimed: number): Buffer {
  const b = new PdfBuilder('1.7')
  b.object(1, CATALOG).object(2, `<< /Type /Pages /Kids [${Array.from({ length: streams }, (_, i) => `${10 + i} 0 R`).join(' ')}] /Count ${streams} >>`)
  const first = 4 * claimed
  const data = deflateSync(Buffer.concat([Buffer.from('1 0 '), Buffer.alloc(first, 0x20), Buffer.from(PAGE)]), { level: 9 })
  for (let s = 0; s < streams; s++) {
    b.stream(100 + s, `/Type /ObjStm /N ${claimed} /First ${first} /Filter /FlateDecode`, data)
    b.compressed(10 + s, 100 + s, 0)
  }
  b.xrefStream(200, '/Root 1 0 R')
  return b.toBuffer()
}

/** A page tree whose /Kids arrays are shared by direct /Pages dictionaries: fan^levels visits. */
function pageTreeFanOut(fan: number, levels: number, padding: number): Buffer {
  const b = new PdfBuilder('1.7')
  b.object(1, CATALOG).object(2, `<< /Type /Pages /Kids 3 0 R /Count 1 >>`)
  for (let l = 0; l < levels; l++) {
    const last = l === levels - 1
    const item = last ? PAGE.replace(' /Parent 2 0 R', '') : `<< /Type /Pages /Kids ${4 + l} 0 R >>`
    b.object(3 + l, `[${Array.from({ length: fan }, () => item).join(' ')}${last ? ' '.repeat(padding) : ''}]`)
  }
  b.xrefTable('/Root 1 0 R')
  return b.toBuffer()
}

/** One page, with `stream` (an object stream or the xref stream) carrying a 1 GiB Flate bomb. */
function bombInObjectStream(double: boolean): Buffer {
  const b = new PdfBuilder('1.7')
  b.object(1, CATALOG).object(2, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>')
  const bomb = zeroBomb(1024)
  b.stream(5, `/Type /ObjStm /N 1 /First 4 /Filter ${double ? '[/FlateDecode /FlateDecode]' : '/FlateDecode'}`, double ? deflateSync(bomb) : bomb)
  b.compressed(3, 5, 0)
  b.xrefStream(6, '/Root 1 0 R')
  return b.toBuffer()
}

/** The cross-reference stream itself is a 1 GiB bomb (decoded before anything else). */
function bombAsXrefStream(): Buffer {
  const b = new PdfBuilder('1.7')
  b.object(1, CATALOG).object(2, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>').object(3, PAGE)
  const start = b.offset
  b.stream(4, '/Type /XRef /Size 5 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode', zeroBomb(1024))
  b.raw(`startxref\n${start}\n%%EOF\n`)
  return b.toBuffer()
}

/** Trailers whose /Prev chain loops: the newest back to itself, or two sections to each other. */
function prevLoop(kind: 'self' | 'pair' | 'stream'): Buffer {
  const b = new PdfBuilder('1.7')
  b.object(1, CATALOG).object(2, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>').object(3, PAGE)
  if (kind === 'self') return b.xrefTable(`/Root 1 0 R /Prev ${b.offset}`).toBuffer()
  if (kind === 'stream') return b.xrefStream(9, `/Root 1 0 R /Prev ${b.offset}`).toBuffer()
  b.xrefTable('/Root 1 0 R /Prev 0000000000')
  b.object(3, PAGE.replace('612 792', '595 842'))
  b.xrefTable('/Root 1 0 R')
  // Point the first section's /Prev at the second (same width: offsets stay valid).
  const text = b.toBuffer().toString('latin1')
  const second = text.lastIndexOf('\nxref\n') + 1
  return Buffer.from(text.replace('/Prev 0000000000', `/Prev ${String(second).padStart(10, '0')}`), 'latin1')
}

/** Nesting: 100 000 arrays inside the catalog, or a chain of 10 000 /Pages nodes. */
function deepNesting(kind: 'arrays' | 'page-tree'): Buffer {
  const b = new PdfBuilder('1.7')
  if (kind === 'arrays') {
    b.object(1, `<< /Type /Catalog /Pages 2 0 R /X ${'['.repeat(100_000)}${']'.repeat(100_000)} >>`).object(2, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>').object(3, PAGE)
    return b.xrefTable('/Root 1 0 R').toBuffer()
  }
  const depth = 10_000
  b.object(1, CATALOG)
  for (let i = 0; i < depth; i++) b.object(2 + i, `<< /Type /Pages /Kids [${3 + i} 0 R] /Count 1 >>`)
  b.object(2 + depth, PAGE)
  return b.xrefTable('/Root 1 0 R').toBuffer()
}

/** The structure attacks on the upload inspector and the annotation reader (generated, never stored). */
export function structureAttacks(): StructureAttack[] {
  return [
    { name: 'page-tree-fan-out', attack: '30^4 page tree visits through shared /Kids, one array padded with 10 KB', pdf: pageTreeFanOut(30, 4, 10_000) },
    { name: 'object-stream-scan', attack: 'a 1.5M-entry object stream header looked up from 500 page boxes', pdf: objectStreamScan(1_500_000, 500) },
    { name: 'object-stream-claims', attack: 'four object streams whose /N claims 16.5M entries each', pdf: objectStreamClaims(4, 16_500_000) },
    { name: 'flate-bomb-object-stream', attack: '1 GiB of zeros in an object stream', pdf: bombInObjectStream(false) },
    { name: 'flate-bomb-double', attack: 'an object stream Flate-encoded twice around a 1 GiB bomb', pdf: bombInObjectStream(true) },
    { name: 'flate-bomb-xref-stream', attack: 'the cross-reference stream is a 1 GiB bomb', pdf: bombAsXrefStream() },
    { name: 'prev-loop-self', attack: 'a trailer /Prev pointing at its own section', pdf: prevLoop('self') },
    { name: 'prev-loop-pair', attack: 'two sections whose /Prev name each other', pdf: prevLoop('pair') },
    { name: 'prev-loop-stream', attack: 'an xref stream whose /Prev is itself', pdf: prevLoop('stream') },
    { name: 'deep-nesting-arrays', attack: '100 000 nested arrays in the catalog', pdf: deepNesting('arrays') },
    { name: 'deep-nesting-page-tree', attack: 'a chain of 10 000 /Pages nodes', pdf: deepNesting('page-tree') },
  ]
}

/** Damaged files that poppler, qpdf and PDFium open; `pages` is the page count they find. */
export function damagedPdfs(): Array<{ name: string; pdf: Buffer; pages: number }> {
  const base = makePdf({ pages: [{ text: 'One' }, { text: 'Two' }, { text: 'Three' }] })
  const text = base.toString('latin1')
  const startxref = Number(/startxref\n(\d+)/.exec(text)![1])
  const xrefAt = text.lastIndexOf('xref\n', startxref + 1)
  const trailerAt = text.indexOf('trailer', xrefAt)
  const shiftedOffsets = text.replace(/^(\d{10}) 00000 n/gm, (_, o: string) => `${String(Number(o) + 7).padStart(10, '0')} 00000 n`)
  return [
    { name: 'startxref-off-by-a-few-bytes', pdf: Buffer.from(text.replace(/startxref\n\d+/, `startxref\n${startxref + 3}`), 'latin1'), pages: 3 },
    { name: 'no-xref-table', pdf: Buffer.from(text.slice(0, xrefAt) + text.slice(trailerAt).replace(/startxref\n\d+/, 'startxref\n0'), 'latin1'), pages: 3 },
    { name: 'all-offsets-shifted', pdf: Buffer.from(shiftedOffsets, 'latin1'), pages: 3 },
    { name: 'junk-before-header-objects-moved', pdf: Buffer.concat([base.subarray(0, 15), Buffer.from('% an editor wrote this line\n'), base.subarray(15)]), pages: 3 },
    { name: 'no-startxref-no-eof', pdf: Buffer.from(text.slice(0, text.lastIndexOf('startxref')), 'latin1'), pages: 3 },
  ]
}
