/**
 * Malformed and hostile PDFs for the renderer's tests (issue #6), generated, never stored.
 *
 * Most keep a correct cross-reference table and page tree, so they pass Folio's upload
 * inspection (src/pdf/), and put the hostility where only a renderer looks: the content stream,
 * the resources, the XObjects. `truncated` and `garbage` fail the inspection and are fed to the
 * worker pool directly.
 */
import { deflateSync } from 'node:zlib'
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
