import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  bufferReader,
  inspectPdf,
  openFileReader,
  PdfInspectError,
  type InspectLimits,
  type PdfErrorReason,
  type PdfInfo,
  type PdfPageInfo,
  type RandomAccessReader,
} from '../../src/pdf/inspect.js'
import { HELVETICA_FONT, makePdf, PdfBuilder, pageContent, writeLargePdf, type FixturePage } from '../helpers/pdf-fixtures.js'

const tmp = mkdtempSync(join(tmpdir(), 'folio-pdf-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

const hasQpdf = spawnSync('sh', ['-c', 'command -v qpdf']).status === 0
const hasPdfinfo = spawnSync('sh', ['-c', 'command -v pdfinfo']).status === 0

const inspect = (pdf: Uint8Array, limits?: InspectLimits) => inspectPdf(bufferReader(pdf), limits)
const page = (width: number, height: number, rotation: PdfPageInfo['rotation'] = 0): PdfPageInfo => ({ width, height, rotation })
const LETTER = page(612, 792)

/** Asserts a rejection with one of `reasons`, within `ms` (no hang, whatever the input). */
async function expectReason(promise: Promise<unknown>, reasons: PdfErrorReason[], ms = 2000): Promise<PdfInspectError> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  try {
    await Promise.race([promise, timeout])
  } catch (error) {
    assert.ok(error instanceof PdfInspectError, `expected PdfInspectError, got ${String(error)}`)
    assert.ok(reasons.includes(error.reason), `reason ${error.reason} (${error.message}) not in ${reasons.join(', ')}`)
    return error
  } finally {
    clearTimeout(timer)
  }
  return assert.fail(`expected a rejection with ${reasons.join(' or ')}`)
}

function countingReader(inner: RandomAccessReader) {
  const stats = { bytes: 0, reads: 0 }
  const reader: RandomAccessReader = {
    size: inner.size,
    async read(position, length) {
      const data = await inner.read(position, length)
      stats.bytes += data.length
      stats.reads++
      return data
    },
  }
  return { reader, stats }
}

/** Catalog 1, /Pages 2 with `pagesExtra`, pages 3.. with the given extra entries. */
function simpleTree(pagesExtra: string, pageEntries: string[], version = '1.7'): Buffer {
  const b = new PdfBuilder(version)
  b.object(1, '<< /Type /Catalog /Pages 2 0 R >>')
  const kids = pageEntries.map((_, i) => `${3 + i} 0 R`).join(' ')
  b.object(2, `<< /Type /Pages /Kids [${kids}] /Count ${pageEntries.length} ${pagesExtra} >>`)
  pageEntries.forEach((entries, i) => b.object(3 + i, `<< /Type /Page /Parent 2 0 R ${entries} >>`))
  return b.xrefTable('/Root 1 0 R').toBuffer()
}

/** Deterministic PRNG (mulberry32) so fuzz failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const MIXED: FixturePage[] = [
  { width: 595.276, height: 841.89, rotate: -90, text: 'A4 (rotated) \\ left' },
  { width: 300, height: 400, rotate: 450, cropBox: [10, 20, 250, 380] },
  {},
]
const MIXED_INFO = [page(595.276, 841.89, 270), page(240, 360, 90), LETTER]

describe('inspectPdf on generated fixtures', () => {
  test('the default fixture is one Letter page, version 1.7, not encrypted', async () => {
    assert.deepEqual(await inspect(makePdf()), { version: '1.7', pageCount: 1, pages: [LETTER], encrypted: false })
  })

  for (const xref of ['table', 'stream'] as const) {
    test(`${xref} xref: count, sizes and rotation of every page`, async () => {
      const info = await inspect(makePdf({ pages: MIXED, xref }))
      assert.equal(info.pageCount, 3)
      assert.deepEqual(info.pages, MIXED_INFO)
    })

    test(`${xref} xref: MediaBox and Rotate inherited from /Pages`, async () => {
      assert.deepEqual((await inspect(makePdf({ pages: MIXED, xref, inheritFromPages: true }))).pages, MIXED_INFO)
    })

    test(`${xref} xref: an incremental update wins over the original page 1`, async () => {
      const info = await inspect(makePdf({ pages: MIXED, xref, incrementalUpdate: true }))
      assert.deepEqual(info.pages, [page(595.276, 841.89, 0), ...MIXED_INFO.slice(1)])
      const inherited = await inspect(makePdf({ pages: [{ rotate: 180 }, { rotate: 180 }], xref, inheritFromPages: true, incrementalUpdate: true }))
      assert.deepEqual(inherited.pages, [page(612, 792, 270), page(612, 792, 180)])
    })
  }

  test('/Rotate is normalised: negative, over 360, multiples of 360', async () => {
    const rotations = [0, 90, -90, 450, -630, 720, 180, -180]
    const info = await inspect(makePdf({ pages: rotations.map((rotate) => ({ rotate })) }))
    assert.deepEqual(info.pages.map((p) => p.rotation), [0, 90, 270, 90, 90, 0, 180, 180])
  })

  test('a /Rotate that is not a multiple of 90, or not a number, is malformed', async () => {
    await expectReason(inspect(makePdf({ pages: [{ rotate: 45 }] })), ['malformed'])
    await expectReason(inspect(simpleTree('', ['/MediaBox [0 0 10 10] /Rotate /Ninety'])), ['malformed'])
  })

  test('an /Encrypt marker with a classic xref: encrypted, page info still read', async () => {
    assert.deepEqual(await inspect(makePdf({ encryptMarker: true, pages: MIXED })), {
      version: '1.7', pageCount: 3, pages: MIXED_INFO, encrypted: true,
    })
  })

  test('an /Encrypt marker with the page tree in an object stream is encrypted_unreadable', async () => {
    await expectReason(inspect(makePdf({ encryptMarker: true, xref: 'stream' })), ['encrypted_unreadable'])
  })
})

describe('page boxes and inheritance', () => {
  test('CropBox is intersected with MediaBox; reversed corners, negative origins and reals work', async () => {
    const info = await inspect(simpleTree('', [
      '/MediaBox [612 792 0 0]',
      '/MediaBox [-100 -50 512.5 742.25]',
      '/MediaBox [0 0 612 792] /CropBox [600 780 10.5 20.25]',
      '/MediaBox [0 0 100.12345 200.98765]',
      '/MediaBox [0 0 612 792] /CropBox [-10 -10 300 300]',
      '/MediaBox [0 0 612 792] /CropBox [1000 1000 1100 1100]',
    ]))
    assert.deepEqual(info.pages, [
      page(612, 792), page(612.5, 792.25), page(589.5, 759.75), page(100.123, 200.988), page(300, 300), LETTER,
    ])
  })

  test('attributes inherit through several /Pages levels; the nearest one wins', async () => {
    const b = new PdfBuilder()
    b.object(1, '<< /Type /Catalog /Pages 2 0 R >>')
    b.object(2, '<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 3 /MediaBox [0 0 500 700] /Rotate 90 >>')
    b.object(3, '<< /Type /Pages /Parent 2 0 R /Kids [4 0 R 5 0 R] /Count 2 /CropBox [0 0 250 350] >>')
    b.object(4, '<< /Type /Page /Parent 3 0 R >>')
    b.object(5, '<< /Type /Page /Parent 3 0 R /Rotate 0 /MediaBox [0 0 200 300] >>')
    b.object(6, '<< /Type /Page /Parent 2 0 R >>')
    const info = await inspect(b.xrefTable('/Root 1 0 R').toBuffer())
    assert.deepEqual(info.pages, [page(250, 350, 90), page(200, 300, 0), page(500, 700, 90)])
  })

  test('a page with no MediaBox anywhere is US Letter; an invalid or empty box is ignored', async () => {
    const info = await inspect(simpleTree('', ['', '/MediaBox [0 0 612]', '/MediaBox [0 0 0 100]', '/MediaBox [0 0 (a) 5]']))
    assert.deepEqual(info.pages, [LETTER, LETTER, LETTER, LETTER])
    const inheritedInvalid = await inspect(simpleTree('/MediaBox [0 0 400 400]', ['/MediaBox [1 2 3]']))
    assert.deepEqual(inheritedInvalid.pages, [page(400, 400)])
  })

  test('indirect references everywhere: /Kids, /Count, /MediaBox, box members, /Rotate, chains', async () => {
    const b = new PdfBuilder()
    b.object(1, '<< /Type /Catalog /Pages 2 0 R >>')
    b.object(2, '<< /Type /Pages /Kids 8 0 R /Count 9 0 R /MediaBox 7 0 R /Rotate 10 0 R >>')
    b.object(4, '<< /Type /Page /Parent 2 0 R >>')
    b.object(5, '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 11 0 R 500] >>')
    b.object(7, '[0 0 400 600]')
    b.object(8, '[4 0 R 5 0 R]')
    b.object(9, '2')
    b.object(10, '12 0 R')
    b.object(11, '300.5')
    b.object(12, '180')
    const info = await inspect(b.xrefTable('/Root 1 0 R').toBuffer())
    assert.deepEqual(info.pages, [page(400, 600, 180), page(300.5, 500, 180)])
  })

  test('object stream with an indirect /Length, names with #xx, strings, comments, hex strings', async () => {
    const b = new PdfBuilder('1.5')
    b.stream(5, '', pageContent('objstm'))
    b.objectStream(6, [
      [1, '<< /Type /Catalog /Pages 2 0 R /Title (a (nested \\) paren) \\\\) /ID <48 65 6c 6C 6f> /Lang (x) >>'],
      [2, '<< /Type#20Ignored true /Type /Pages /Kids [4 0 R] % a comment ]>>\n /Count 1 /MediaBox [0 0 20 0 R 400] /Extra [true false null] >>'],
      [4, '<< /#54ype /Page /Parent 2 0 R /Contents 5 0 R >>'],
      [20, '300'],
    ], { length: '9 0 R' })
    b.object(9, String(b.lastStreamLength))
    const info = await inspect(b.xrefStream(10, '/Root 1 0 R').toBuffer())
    assert.deepEqual(info.pages, [page(300, 400)])
  })

  test('a hybrid file (/XRefStm in a classic trailer) finds objects in both', async () => {
    const b = new PdfBuilder('1.5')
    b.stream(5, '', pageContent('hybrid'))
    b.object(3, HELVETICA_FONT)
    b.objectStream(6, [
      [1, '<< /Type /Catalog /Pages 2 0 R >>'],
      [2, '<< /Type /Pages /Kids [4 0 R] /Count 1 >>'],
      [4, '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 321 123] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>'],
    ])
    const info = await inspect(b.xrefHybrid(7, '/Root 1 0 R').toBuffer())
    assert.deepEqual(info.pages, [page(321, 123)])
  })

  test('xref entries ending in a single EOL byte (19 bytes) are read', async () => {
    const text = makePdf({ pages: MIXED }).toString('latin1')
    const short = text.replace(/ ([nf])\r\n/g, ' $1\n') // only bytes after the table move
    assert.notEqual(short.length, text.length)
    assert.deepEqual((await inspect(Buffer.from(short, 'latin1'))).pages, MIXED_INFO)
  })

  test('an unfiltered xref stream with /W [0 2 1] (type defaults to 1) and a partial /Index', async () => {
    const b = new PdfBuilder('1.5')
    const bodies = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /MediaBox [0 0 50 60] >>']
    const rows = Buffer.alloc(bodies.length * 3)
    bodies.forEach((body, i) => {
      rows.writeUInt16BE(b.offset, i * 3)
      b.object(i + 1, body)
    })
    const startxref = b.offset
    b.stream(4, '/Type /XRef /Size 4 /Index [1 3] /W [0 2 1] /Root 1 0 R', rows).raw(`startxref\n${startxref}\n%%EOF\n`)
    assert.deepEqual((await inspect(b.toBuffer())).pages, [page(50, 60)])
  })

  test('catalog /Version overrides the header only when newer', async () => {
    const catalogVersion = (header: string, version: string) => {
      const b = new PdfBuilder(header)
      b.object(1, `<< /Type /Catalog /Pages 2 0 R /Version /${version} >>`)
      b.object(2, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>')
      b.object(3, '<< /Type /Page /Parent 2 0 R >>')
      return inspect(b.xrefTable('/Root 1 0 R').toBuffer())
    }
    assert.equal((await catalogVersion('1.4', '1.7')).version, '1.7')
    assert.equal((await catalogVersion('2.0', '1.4')).version, '2.0')
    assert.equal((await catalogVersion('1.6', '1.6')).version, '1.6')
  })
})

describe('hostile structure', () => {
  test('a /Prev that points back to its own section is not followed: the xref is rebuilt by scanning', async () => {
    const b = new PdfBuilder()
    b.object(1, '<< /Type /Catalog /Pages 2 0 R >>').object(2, '<< /Type /Pages /Kids [] /Count 0 >>')
    const info = await inspect(b.xrefTable(`/Root 1 0 R /Prev ${b.offset}`).toBuffer())
    assert.match(info.repaired ?? '', /\/Prev loop/)
    assert.equal(info.pageCount, 0)
  })

  test('a two-section /Prev cycle is not followed: rebuilt, the newest definition of an object wins', async () => {
    // The first trailer's /Prev names the second section (10 digits, so its length is fixed).
    const build = (prev: number) => {
      const b = new PdfBuilder()
      b.object(1, '<< /Type /Catalog /Pages 2 0 R >>').object(2, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>')
      b.object(3, '<< /Type /Page >>').xrefTable(`/Root 1 0 R /Prev ${String(prev).padStart(10, '0')}`)
      b.object(3, '<< /Type /Page /Rotate 90 >>')
      const second = b.offset
      return { pdf: b.xrefTable('/Root 1 0 R').toBuffer(), second }
    }
    const info = await inspect(build(build(0).second).pdf)
    assert.match(info.repaired ?? '', /\/Prev loop/)
    assert.equal(info.pageCount, 1)
    assert.equal(info.pages[0]!.rotation, 90)
  })

  test('a page tree cycle, or a page listed twice, is malformed', async () => {
    const cycle = new PdfBuilder()
    cycle.object(1, '<< /Type /Catalog /Pages 2 0 R >>')
    cycle.object(2, '<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>')
    cycle.object(3, '<< /Type /Page /Parent 2 0 R >>')
    cycle.object(4, '<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>')
    await expectReason(inspect(cycle.xrefTable('/Root 1 0 R').toBuffer()), ['malformed'])
    const twice = new PdfBuilder()
    twice.object(1, '<< /Type /Catalog /Pages 2 0 R >>').object(2, '<< /Type /Pages /Kids [3 0 R 3 0 R] /Count 2 >>')
    twice.object(3, '<< /Type /Page /Parent 2 0 R >>')
    await expectReason(inspect(twice.xrefTable('/Root 1 0 R').toBuffer()), ['malformed'])
  })

  test('a page tree deeper than maxDepth is too_complex', async () => {
    const nested = (depth: number) => {
      const b = new PdfBuilder()
      b.object(1, '<< /Type /Catalog /Pages 2 0 R >>')
      for (let n = 2; n < depth + 2; n++) b.object(n, `<< /Type /Pages /Kids [${n + 1} 0 R] /Count 1 >>`)
      b.object(depth + 2, '<< /Type /Page /MediaBox [0 0 10 10] >>')
      return b.xrefTable('/Root 1 0 R').toBuffer()
    }
    assert.equal((await inspect(nested(64))).pageCount, 1)
    await expectReason(inspect(nested(100)), ['too_complex'])
    await expectReason(inspect(nested(10), { maxDepth: 5 }), ['too_complex'])
  })

  test('maxPages, maxObjects and maxStreamBytes are enforced as too_complex', async () => {
    const three = makePdf({ pages: [{}, {}, {}] })
    assert.equal((await inspect(three, { maxPages: 3 })).pageCount, 3)
    await expectReason(inspect(three, { maxPages: 2 }), ['too_complex'])
    await expectReason(inspect(three, { maxObjects: 3 }), ['too_complex'])
    await expectReason(inspect(makePdf({ xref: 'stream' }), { maxStreamBytes: 16 }), ['too_complex'])
  })

  test('an invalid limit is a programming error (RangeError), not a verdict on the file', async () => {
    await assert.rejects(inspect(makePdf(), { maxPages: 0 }), RangeError)
  })

  test('object streams are decoded once per inspection (cached)', async () => {
    // 60 pages in one object stream: decoding it per page would pass the 4 x maxStreamBytes budget.
    const pdf = makePdf({ pages: Array.from({ length: 60 }, () => ({})), xref: 'stream' })
    assert.equal((await inspect(pdf, { maxStreamBytes: 20_000 })).pageCount, 60)
  })

  test('a huge declared /Count or content /Length costs nothing', async () => {
    const started = performance.now()
    const b = new PdfBuilder()
    b.object(1, '<< /Type /Catalog /Pages 2 0 R >>').object(2, '<< /Type /Pages /Kids [3 0 R] /Count 999999999999 >>')
    b.object(3, '<< /Type /Page /Contents 4 0 R >>').stream(4, '', 'q Q', { length: '999999999999' })
    assert.equal((await inspect(b.xrefTable('/Root 1 0 R').toBuffer())).pageCount, 1)
    assert.ok(performance.now() - started < 1000)
  })

  test('a huge /Length, /N, /Index, /W, /Columns or subsection count is refused or repaired, without allocating', async () => {
    const stream = makePdf({ xref: 'stream' }).toString('latin1')
    // Patches the object stream or the xref stream (the last two objects); startxref follows a shift.
    const startxref = Number(/startxref\n(\d+)/.exec(stream)![1])
    const patch = (from: RegExp, to: string) => {
      const at = from.exec(stream)!.index
      const patched = stream.replace(from, to)
      const delta = at < startxref ? patched.length - stream.length : 0
      return Buffer.from(patched.replace(/startxref\n\d+/, `startxref\n${startxref + delta}`), 'latin1')
    }
    // Each either fails with a reason or opens through the rebuilt cross-reference, quickly.
    const refusedOrRepaired = async (pdf: Buffer) => {
      const started = performance.now()
      try {
        const info = await inspect(pdf)
        assert.ok(info.repaired !== undefined, 'opened only through repair')
        assert.equal(info.pageCount, 1)
      } catch (error) {
        assert.ok(error instanceof PdfInspectError, String(error))
        assert.ok(['truncated', 'malformed', 'too_complex'].includes(error.reason), error.reason)
      }
      assert.ok(performance.now() - started < 2000)
    }
    await refusedOrRepaired(patch(/(\/Type \/XRef[^]*?)\/Length \d+/, '$1/Length 999999999999'))
    await refusedOrRepaired(patch(/(\/ObjStm[^>]*)\/Length \d+/, '$1/Length 999999999999'))
    await refusedOrRepaired(patch(/\/ObjStm \/N \d+/, '/ObjStm /N 999999999999'))
    await refusedOrRepaired(patch(/\/Index \[[^\]]*\]/, '/Index [0 999999999]'))
    await refusedOrRepaired(patch(/\/W \[1 4 2\]/, '/W [1 9 2]'))
    await refusedOrRepaired(patch(/\/Columns 7/, '/Columns 999999999999'))
    await refusedOrRepaired(patch(/\/Columns 7/, '/Columns 16777216'))
    const table = makePdf().toString('latin1').replace(/xref\n0 \d+\n/, 'xref\n0 999999999999\n')
    await refusedOrRepaired(Buffer.from(table, 'latin1'))
  })

  test('wrong xref offsets (all shifted, swapped, a wrong startxref) are repaired by scanning, and say so', async () => {
    const pdf = makePdf({ pages: [{}, {}] })
    const shifted = Buffer.concat([pdf.subarray(0, 15), Buffer.from('JUNK!'), pdf.subarray(15)])
    const text = pdf.toString('latin1')
    const offsets = [...text.matchAll(/^(\d{10}) 00000 n\r$/gm)].map((m) => m[1]!)
    const swapped = text.replace(`${offsets[0]} 00000 n`, `${offsets[1]} 00000 n`)
    const startxref = text.replace(/startxref\n\d+/, 'startxref\n20')
    for (const damaged of [shifted, Buffer.from(swapped, 'latin1'), Buffer.from(startxref, 'latin1')]) {
      const info = await inspect(damaged)
      assert.equal(info.pageCount, 2)
      assert.ok(info.repaired && info.repaired.length > 0)
    }
    assert.equal((await inspect(pdf)).repaired, undefined, 'an intact file is not scanned')
  })

  test('a page tree node that is not a dictionary, or a /Pages without /Kids, is malformed', async () => {
    const b = new PdfBuilder()
    b.object(1, '<< /Type /Catalog /Pages 2 0 R >>').object(2, '<< /Type /Pages /Kids [3 0 R 9 0 R] /Count 2 >>')
    b.object(3, '<< /Type /Page >>')
    await expectReason(inspect(b.xrefTable('/Root 1 0 R').toBuffer()), ['malformed'])
    const noKids = simpleTree('', ['']).toString('latin1').replace('/Kids [3 0 R]', '/Kidz [3 0 R]')
    await expectReason(inspect(Buffer.from(noKids, 'latin1')), ['malformed'])
  })
})

describe('not PDFs and cut files', () => {
  test('empty, garbage, a late or versionless header are not_pdf', async () => {
    await expectReason(inspect(Buffer.alloc(0)), ['not_pdf'])
    const random = prng(1)
    await expectReason(inspect(Buffer.from(Array.from({ length: 5000 }, () => Math.floor(random() * 256)))), ['not_pdf'])
    await expectReason(inspect(Buffer.from('<html><body>not a pdf</body></html>')), ['not_pdf'])
    await expectReason(inspect(Buffer.concat([Buffer.alloc(1100, 0x20), makePdf()])), ['not_pdf'])
    await expectReason(inspect(Buffer.from('%PDF-\n%%EOF\n')), ['not_pdf'])
  })

  test('a header alone is truncated', async () => {
    await expectReason(inspect(Buffer.from('%PDF-1.7\n')), ['truncated'])
  })

  for (const xref of ['table', 'stream'] as const) {
    test(`${xref} xref: cut at half is truncated; missing only the last 100 bytes is repaired`, async () => {
      const pdf = makePdf({ pages: MIXED, xref })
      await expectReason(inspect(pdf.subarray(0, pdf.length >> 1)), ['truncated'])
      const tail = await inspect(pdf.subarray(0, pdf.length - 100)).catch((e: unknown) => e)
      // A table xref loses only its trailer: every object is still there to be found.
      if (xref === 'table') assert.equal((tail as PdfInfo).pageCount, MIXED.length)
      else assert.ok(tail instanceof PdfInspectError || (tail as PdfInfo).pageCount === MIXED.length)
    })

    test(`${xref} xref: cut at every byte, fails with a reason or succeeds with every page (repaired before startxref)`, async () => {
      const pdf = makePdf({ pages: MIXED, xref })
      const full = await inspect(pdf)
      const digitsEnd = /startxref\n\d+/.exec(pdf.toString('latin1'))!
      const lastDigit = digitsEnd.index + digitsEnd[0].length
      const started = performance.now()
      for (let cut = 0; cut < pdf.length; cut++) {
        let info: PdfInfo | undefined
        try {
          info = await inspect(pdf.subarray(0, cut))
        } catch (error) {
          assert.ok(error instanceof PdfInspectError, `cut ${cut}: ${String(error)}`)
          assert.ok(['not_pdf', 'truncated', 'malformed'].includes(error.reason), `cut ${cut}: ${error.reason}`)
        }
        if (info) {
          // Before the startxref offset is complete, only a rebuilt xref can open it, and then
          // with every page as the intact file has them.
          if (cut <= lastDigit) assert.ok(info.repaired !== undefined, `cut ${cut} succeeded without repair`)
          assert.deepEqual(info.pages, full.pages)
        }
      }
      assert.ok(performance.now() - started < 10_000)
    })
  }

  test('an incremental update cut anywhere gives an error or one of its two revisions', async () => {
    const pdf = makePdf({ pages: MIXED, incrementalUpdate: true })
    for (let cut = 0; cut < pdf.length; cut += 7) {
      try {
        assert.equal((await inspect(pdf.subarray(0, cut))).pageCount, 3)
      } catch (error) {
        assert.ok(error instanceof PdfInspectError, `cut ${cut}: ${String(error)}`)
      }
    }
  })

  test('random corruption never escapes as anything but PdfInspectError, and never hangs', async () => {
    const random = prng(42)
    const bases = [makePdf({ pages: MIXED }), makePdf({ pages: MIXED, xref: 'stream' }), makePdf({ pages: MIXED, incrementalUpdate: true, xref: 'stream' })]
    const started = performance.now()
    for (let i = 0; i < 600; i++) {
      const pdf = Buffer.from(bases[i % bases.length]!)
      for (let n = 1 + Math.floor(random() * 4); n > 0; n--) pdf[Math.floor(random() * pdf.length)] = Math.floor(random() * 256)
      try {
        await inspect(pdf)
      } catch (error) {
        assert.ok(error instanceof PdfInspectError, `iteration ${i}: ${String(error)}`)
      }
    }
    assert.ok(performance.now() - started < 20_000)
  })
})

describe('file access', () => {
  test('openFileReader and bufferReader (of a subarray) work; a reader failure passes through unchanged', async () => {
    const path = join(tmp, 'small.pdf')
    writeFileSync(path, makePdf({ pages: MIXED }))
    const reader = await openFileReader(path)
    try {
      assert.deepEqual((await inspectPdf(reader)).pages, MIXED_INFO)
      assert.equal((await reader.read(reader.size - 4, 100)).toString('latin1'), 'EOF\n')
    } finally {
      await reader.close()
    }
    const padded = Buffer.concat([Buffer.from('xxxx'), makePdf()])
    assert.equal((await inspectPdf(bufferReader(padded.subarray(4)))).pageCount, 1)
    const failing: RandomAccessReader = { size: 1000, read: async () => { throw new Error('EIO: disk on fire') } }
    await assert.rejects(inspectPdf(failing), { message: 'EIO: disk on fire' })
  })

  test('writeLargePdf: a 5 MB file is valid and inspecting it reads a tiny part of it', async (t) => {
    const path = join(tmp, 'large.pdf')
    const { bytes, sha256 } = await writeLargePdf(path, 5_000_000)
    const onDisk = readFileSync(path)
    assert.equal(onDisk.length, bytes)
    assert.ok(bytes > 4_500_000 && bytes < 5_500_000, `${bytes} bytes`)
    assert.equal(createHash('sha256').update(onDisk).digest('hex'), sha256)
    const file = await openFileReader(path)
    const { reader, stats } = countingReader(file)
    try {
      const info = await inspectPdf(reader)
      assert.equal(info.pageCount, 2)
      assert.deepEqual(info.pages, [LETTER, LETTER])
    } finally {
      await file.close()
    }
    assert.ok(stats.bytes < 64 * 1024, `read ${stats.bytes} of ${bytes} bytes`)
    if (!hasPdfinfo) return t.skip('pdfinfo not installed')
    assert.match(execFileSync('pdfinfo', [path]).toString(), /Pages:\s+2\n/)
  })
})

describe('cross-check with qpdf and pdfinfo', () => {
  const variants: Record<string, Parameters<typeof makePdf>[0]> = {
    'table': { pages: MIXED },
    'stream': { pages: MIXED, xref: 'stream' },
    'inherited': { pages: MIXED, inheritFromPages: true },
    'inherited-stream': { pages: MIXED, xref: 'stream', inheritFromPages: true },
    'update': { pages: MIXED, incrementalUpdate: true },
    'update-stream': { pages: MIXED, xref: 'stream', incrementalUpdate: true },
  }
  const write = (name: string, pdf: Buffer) => {
    const path = join(tmp, `${name}.pdf`)
    writeFileSync(path, pdf)
    return path
  }
  const qpdf = (...args: string[]) => {
    const result = spawnSync('qpdf', args)
    // qpdf exits 3 for warnings; anything else is a failure
    assert.ok(result.status === 0 || result.status === 3, result.stderr.toString())
    return result.stdout.toString()
  }
  const pdfinfoPages = (path: string, count: number, password?: string): PdfPageInfo[] => {
    const out = execFileSync('pdfinfo', [...(password ? ['-upw', password] : []), '-f', '1', '-l', String(count), path]).toString()
    assert.match(out, new RegExp(`Pages:\\s+${count}\\n`))
    return Array.from({ length: count }, (_, i) => {
      const size = new RegExp(`Page\\s+${i + 1} size:\\s+([\\d.]+) x ([\\d.]+)`).exec(out)!
      const rot = new RegExp(`Page\\s+${i + 1} rot:\\s+(\\d+)`).exec(out)!
      return page(Number(size[1]), Number(size[2]), Number(rot[1]) as PdfPageInfo['rotation'])
    })
  }

  test('every fixture variant passes qpdf --check', (t) => {
    if (!hasQpdf) return t.skip('qpdf not installed')
    for (const [name, opts] of Object.entries(variants)) {
      assert.match(qpdf('--check', write(name, makePdf(opts))), /No syntax or stream encoding errors/, name)
    }
  })

  test('pdfinfo reports the same pages as inspectPdf', async (t) => {
    if (!hasPdfinfo) return t.skip('pdfinfo not installed')
    for (const [name, opts] of Object.entries(variants)) {
      const pdf = makePdf(opts)
      const info = await inspect(pdf)
      assert.deepEqual(pdfinfoPages(write(name, pdf), info.pageCount), info.pages, name)
    }
  })

  test('qpdf --object-streams=generate and --linearize keep the same pages', async (t) => {
    if (!hasQpdf) return t.skip('qpdf not installed')
    const source = write('source', makePdf({ pages: MIXED, inheritFromPages: true }))
    const packed = join(tmp, 'packed.pdf')
    qpdf('--object-streams=generate', source, packed)
    assert.match(readFileSync(packed).toString('latin1'), /\/ObjStm/)
    assert.deepEqual((await inspect(readFileSync(packed))).pages, MIXED_INFO)
    const linearized = join(tmp, 'linearized.pdf')
    qpdf('--linearize', '--object-streams=generate', source, linearized)
    assert.deepEqual((await inspect(readFileSync(linearized))).pages, MIXED_INFO)
  })

  test('qpdf AES-256 and AES-128 encryption of a classic-xref file: encrypted, pages read', async (t) => {
    if (!hasQpdf) return t.skip('qpdf not installed')
    const source = write('plain', makePdf({ pages: MIXED }))
    const aes256 = join(tmp, 'aes256.pdf')
    qpdf('--encrypt', 'u', 'o', '256', '--', source, aes256)
    // qpdf 11 refuses 128-bit RC4 ("weak crypto"), so 128 bits is asked for with AES.
    const aes128 = join(tmp, 'aes128.pdf')
    qpdf('--encrypt', '', 'o', '128', '--use-aes=y', '--', source, aes128)
    for (const [path, password] of [[aes256, 'u'], [aes128, '']] as const) {
      const info = await inspect(readFileSync(path))
      assert.equal(info.encrypted, true)
      assert.deepEqual(info.pages, MIXED_INFO)
      if (hasPdfinfo) assert.deepEqual(pdfinfoPages(path, 3, password || undefined), MIXED_INFO)
    }
  })

  test('qpdf encryption with object streams: the page tree is encrypted_unreadable', async (t) => {
    if (!hasQpdf) return t.skip('qpdf not installed')
    const source = write('to-pack', makePdf({ pages: MIXED }))
    const packed = join(tmp, 'packed-aes.pdf')
    qpdf('--object-streams=generate', '--encrypt', 'u', 'o', '256', '--', source, packed)
    await expectReason(inspect(readFileSync(packed)), ['encrypted_unreadable'])
  })
})
