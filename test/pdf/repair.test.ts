/**
 * Damaged cross-references are rebuilt by scanning (src/pdf/repair.ts) and accepted with the page
 * count that poppler (an independent reader) finds; hostile structures are refused by a named
 * work budget or opened, quickly, with bounded memory, never by running out of time.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { bufferReader, inspectPdf, PdfInspectError } from '../../src/pdf/inspect.js'
import { readStructure } from '../../src/pdf/structure.js'
import { damagedPdfs, structureAttacks } from '../helpers/hostile-pdfs.js'
import { needPdfTools, pdfinfo } from '../helpers/pdf-tools.js'

describe('xref repair', () => {
  for (const { name, pdf, pages } of damagedPdfs()) {
    test(`damaged file "${name}" is accepted with the page count poppler finds, and the repair is reported`, async (t) => {
      const info = await inspectPdf(bufferReader(pdf))
      assert.equal(info.pageCount, pages)
      assert.ok(info.repaired && info.repaired.length > 0, 'the repair is reported')
      const structure = await readStructure(bufferReader(pdf))
      assert.equal(structure.pages.length, pages)
      assert.equal(structure.startxref, undefined, 'an update of a repaired file does not chain to the broken section')
      if (!needPdfTools(t)) return
      assert.match(pdfinfo(pdf), new RegExp(`^Pages:\\s+${pages}$`, 'm'))
    })
  }
})

describe('structure attacks meet a work budget, not the clock', () => {
  const refusedBy: Record<string, string[]> = {
    'page-tree-fan-out': ['malformed'],
    'object-stream-claims': ['too_complex:stream_bytes', 'too_complex:object_stream_entries', 'malformed'],
    'flate-bomb-object-stream': ['too_complex:stream_bytes'],
    'flate-bomb-double': ['too_complex:stream_bytes'],
    'flate-bomb-xref-stream': ['too_complex:stream_bytes'],
    'deep-nesting-arrays': ['too_complex:depth'],
    'deep-nesting-page-tree': ['too_complex:depth'],
  }
  for (const { name, pdf, attack } of structureAttacks()) {
    test(`${name} (${attack}): refused with a named limit or opened, within 5 s and 300 MB`, async () => {
      const rss = process.memoryUsage.rss()
      const started = performance.now()
      let outcome: string
      try {
        const info = await inspectPdf(bufferReader(pdf))
        outcome = `ok:${info.pageCount}`
      } catch (e) {
        assert.ok(e instanceof PdfInspectError, String(e))
        outcome = e.reason === 'too_complex' ? `too_complex:${e.limit}` : e.reason
      }
      const ms = performance.now() - started
      assert.ok(ms < 5000, `${name} took ${Math.round(ms)} ms`)
      assert.ok(process.memoryUsage.rss() - rss < 300 * 1024 * 1024, 'memory stays bounded')
      const expected = refusedBy[name]
      if (expected) assert.ok(expected.includes(outcome), `${name}: ${outcome}`)
      else assert.match(outcome, /^ok:\d+$/, `${name} opens (through repair where its xref loops): ${outcome}`)
    })
  }
})
