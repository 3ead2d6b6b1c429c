/**
 * Text in any script for Folio-drawn PDF content (watermarks): glyphs from a Unicode font
 * (DejaVu Sans for Latin, Greek and Cyrillic; Droid Sans Fallback for CJK: Debian packages
 * fonts-dejavu-core and fonts-droid-fallback, free licences), subset with fontkit (MIT) and
 * embedded as a Type 0 / CIDFontType2 font with Identity-H encoding and a ToUnicode CMap
 * (ISO 32000-1 §9.7, §9.10.3), so every reader draws the same glyphs and text extraction
 * (pdftotext) gives back exactly the characters written.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { deflateSync } from 'node:zlib'

/** Where the fonts are looked for, first match wins per file. */
export const FONT_FILES = [
  ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'],
  ['/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf', '/usr/share/fonts/truetype/droid/DroidSansFallback.ttf'],
]

interface Glyph { id: number; advanceWidth: number }
interface Font {
  unitsPerEm: number
  ascent: number
  descent: number
  capHeight: number
  bbox: { minX: number; minY: number; maxX: number; maxY: number }
  hasGlyphForCodePoint(cp: number): boolean
  glyphForCodePoint(cp: number): Glyph
  createSubset(): { includeGlyph(g: Glyph): number; encode(): Uint8Array }
}

let loaded: Font[] | undefined

function fonts(): Font[] {
  if (loaded) return loaded
  const require = createRequire(import.meta.url)
  const fontkit = require('fontkit') as { openSync(path: string): Font }
  loaded = []
  for (const candidates of FONT_FILES) {
    const path = candidates.find((p) => existsSync(p))
    if (path) loaded.push(fontkit.openSync(path))
  }
  return loaded
}

export function unicodeFontsAvailable(): boolean {
  return fonts().length > 0
}

/** Glyphs used so far per font; `objects` writes the fonts once the text is laid out. */
export class UnicodeText {
  private readonly used: Array<{ subset: ReturnType<Font['createSubset']>; cids: Map<number, { cid: number; width: number; text: string }>; nums: number[] } | undefined> = []

  /** `allocate` gives object numbers: five are reserved per font at its first use. */
  constructor(private readonly allocate: () => number) {}

  /** `/Font<<…>>` entries for the fonts the runs use (their object numbers are reserved). */
  fontResources(runs: Array<{ font: string }>): string {
    const names = [...new Set(runs.map((r) => r.font))]
    return `/Font<<${names.map((n) => `/${n} ${this.used[Number(n.slice(1))]!.nums[0]} 0 R`).join('')}>>`
  }

  /** Runs of one font each: resource name, hex string of CIDs, width in text space units of 1 pt. */
  layout(text: string): { runs: Array<{ font: string; hex: string }>; width: number } {
    const fs = fonts()
    const runs: Array<{ font: string; hex: string }> = []
    let width = 0
    for (const ch of text) {
      const cp = ch.codePointAt(0)!
      let index = fs.findIndex((f) => f.hasGlyphForCodePoint(cp))
      if (index < 0) index = 0 // .notdef of the first font: drawn as a box, never silently another character
      const font = fs[index]!
      let u = this.used[index]
      if (!u) this.used[index] = u = { subset: font.createSubset(), cids: new Map(), nums: [this.allocate(), this.allocate(), this.allocate(), this.allocate(), this.allocate()] }
      const glyph = font.glyphForCodePoint(cp)
      let entry = u.cids.get(glyph.id)
      if (!entry) {
        entry = { cid: u.subset.includeGlyph(glyph), width: Math.round((glyph.advanceWidth * 1000) / font.unitsPerEm), text: ch }
        u.cids.set(glyph.id, entry)
      }
      width += entry.width / 1000
      const name = `U${index}`
      const hex = entry.cid.toString(16).padStart(4, '0')
      const last = runs[runs.length - 1]
      if (last && last.font === name) last.hex += hex
      else runs.push({ font: name, hex })
    }
    return { runs, width }
  }

  /**
   * The font objects, at their reserved numbers: per used font a Type 0 font, its CIDFont, font
   * descriptor, FontFile2 and ToUnicode. Call once all text is laid out.
   */
  objects(): Array<{ num: number; body: Buffer }> {
    const fs = fonts()
    const out: Array<{ num: number; body: Buffer }> = []
    this.used.forEach((u, index) => {
      if (!u) return
      const font = fs[index]!
      const scale = 1000 / font.unitsPerEm
      const file = Buffer.from(u.subset.encode())
      const entries = [...u.cids.values()].sort((a, b) => a.cid - b.cid)
      const [type0, cidFont, descriptor, fontFile, toUnicode] = u.nums as [number, number, number, number, number]
      const bodies: Buffer[] = []
      const name = `FOLIO${String.fromCharCode(65 + index)}+Unicode`
      const widths = entries.map((e) => `${e.cid}[${e.width}]`).join(' ')
      const b = font.bbox
      bodies.push(
        Buffer.from(`<</Type/Font/Subtype/Type0/BaseFont/${name}/Encoding/Identity-H/DescendantFonts[${cidFont} 0 R]/ToUnicode ${toUnicode} 0 R>>`, 'latin1'),
        Buffer.from(`<</Type/Font/Subtype/CIDFontType2/BaseFont/${name}/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>/FontDescriptor ${descriptor} 0 R/CIDToGIDMap/Identity/DW 1000/W[${widths}]>>`, 'latin1'),
        Buffer.from(`<</Type/FontDescriptor/FontName/${name}/Flags 4/FontBBox[${Math.round(b.minX * scale)} ${Math.round(b.minY * scale)} ${Math.round(b.maxX * scale)} ${Math.round(b.maxY * scale)}]/ItalicAngle 0/Ascent ${Math.round(font.ascent * scale)}/Descent ${Math.round(font.descent * scale)}/CapHeight ${Math.round((font.capHeight || font.ascent) * scale)}/StemV 80/FontFile2 ${fontFile} 0 R>>`, 'latin1'),
        stream(`/Length1 ${file.length}`, file),
        stream('', Buffer.from(toUnicodeCMap(entries), 'latin1')),
      )
      bodies.forEach((body, i) => out.push({ num: [type0, cidFont, descriptor, fontFile, toUnicode][i]!, body }))
    })
    return out.sort((a, b) => a.num - b.num)
  }
}

function stream(dict: string, data: Buffer): Buffer {
  const z = deflateSync(data)
  return Buffer.concat([Buffer.from(`<<${dict}/Filter/FlateDecode/Length ${z.length}>>\nstream\n`, 'latin1'), z, Buffer.from('\nendstream', 'latin1')])
}

function utf16Hex(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) out += s.charCodeAt(i).toString(16).padStart(4, '0')
  return out
}

/** §9.10.3: each CID maps to the character it was chosen for (UTF-16BE; astral as surrogate pairs). */
function toUnicodeCMap(entries: Array<{ cid: number; text: string }>): string {
  const lines: string[] = []
  for (let i = 0; i < entries.length; i += 100) {
    const chunk = entries.slice(i, i + 100)
    lines.push(`${chunk.length} beginbfchar`, ...chunk.map((e) => `<${e.cid.toString(16).padStart(4, '0')}> <${utf16Hex(e.text)}>`), 'endbfchar')
  }
  return [
    '/CIDInit /ProcSet findresource begin', '12 dict begin', 'begincmap',
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def', '/CMapName /Adobe-Identity-UCS def', '/CMapType 2 def',
    '1 begincodespacerange', '<0000> <FFFF>', 'endcodespacerange', ...lines, 'endcmap', 'CMapName currentdict /CMap defineresource pop', 'end', 'end',
  ].join('\n')
}
