/**
 * Text in appearance streams: the standard Type 1 font Helvetica (every reader has it, §9.6.2.2)
 * with WinAnsiEncoding, its glyph widths for line breaking, and string encoding.
 */
import { literal } from '../pdf/serialize.js'

// Helvetica widths (Adobe AFM, 1/1000 em) for WinAnsi codes 32–126.
const WIDTHS = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space … /
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0 … ?
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ … O
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P … _
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` … o
  556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p … ~
]

export type FontVariant = 'F' | 'FB' | 'FI' | 'FBI'

/** Resource entries for the four Helvetica faces, named as FontVariant. */
export const FONT_RESOURCES =
  '/Font<<' +
  '/F<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>' +
  '/FB<</Type/Font/Subtype/Type1/BaseFont/Helvetica-Bold/Encoding/WinAnsiEncoding>>' +
  '/FI<</Type/Font/Subtype/Type1/BaseFont/Helvetica-Oblique/Encoding/WinAnsiEncoding>>' +
  '/FBI<</Type/Font/Subtype/Type1/BaseFont/Helvetica-BoldOblique/Encoding/WinAnsiEncoding>>' +
  '>>'

export function fontVariant(style: unknown): FontVariant {
  const s = Array.isArray(style) ? style : []
  const bold = s.includes('bold')
  const italic = s.includes('italic')
  return bold && italic ? 'FBI' : bold ? 'FB' : italic ? 'FI' : 'F'
}

/** WinAnsi covers Latin-1's printable range; other characters are drawn as '?'. */
export function toWinAnsi(s: string): string {
  return s.replace(/[^\x20-\x7e\xa0-\xff]/g, '?')
}

export function textWidth(s: string, size: number, bold = false): number {
  let w = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    w += c >= 32 && c <= 126 ? WIDTHS[c - 32]! : 556
  }
  return (w * size * (bold ? 1.06 : 1)) / 1000
}

/** Greedy line breaking at spaces (long words are cut), honouring explicit newlines. */
export function wrap(text: string, size: number, maxWidth: number, bold = false): string[] {
  const out: string[] = []
  for (const paragraph of toWinAnsi(text.replace(/\r\n?/g, '\n')).split('\n')) {
    let line = ''
    for (const word of paragraph.split(' ')) {
      const candidate = line === '' ? word : `${line} ${word}`
      if (textWidth(candidate, size, bold) <= maxWidth || line === '' && textWidth(word, size, bold) <= maxWidth) {
        line = candidate
        continue
      }
      if (line !== '') out.push(line)
      line = word
      while (textWidth(line, size, bold) > maxWidth && line.length > 1) {
        let cut = line.length - 1
        while (cut > 1 && textWidth(line.slice(0, cut), size, bold) > maxWidth) cut--
        out.push(line.slice(0, cut))
        line = line.slice(cut)
      }
    }
    out.push(line)
  }
  return out
}

/** A string operand for Tj (WinAnsi bytes as a literal string). */
export function show(s: string): string {
  return literal(toWinAnsi(s))
}
