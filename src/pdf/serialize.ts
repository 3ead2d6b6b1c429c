/**
 * PDF object syntax out (ISO 32000-1 §7.3): values read by the lexer are written back
 * unchanged (strings keep their raw bytes), and new text strings are encoded (§7.9.2.2).
 * Output is a latin1 JS string: one char per byte.
 */
import { Name, PdfString, Ref, type PdfValue } from './lexer.js'

/** Numbers without exponents (§7.3.3), at most 4 decimals: 1/10000 pt is far below any device. */
export function num(value: number): string {
  if (!Number.isFinite(value)) return '0'
  if (Number.isInteger(value)) return Math.abs(value) < 1e21 ? String(value) : BigInt(value).toString() // String(1e21) is '1e+21'
  const s = value.toFixed(4).replace(/0+$/, '').replace(/\.$/, '')
  return s === '-0' ? '0' : s
}

/** §7.3.5: bytes outside the regular printable range are written as #xx. */
export function name(value: string): string {
  let out = '/'
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i) & 0xff
    const regular = c > 0x20 && c < 0x7f && !'()<>[]{}/%#'.includes(value[i]!)
    out += regular ? value[i] : `#${c.toString(16).padStart(2, '0')}`
  }
  return out
}

export function serialize(value: PdfValue): string {
  if (value === null) return 'null'
  if (typeof value === 'number') return num(value)
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (value instanceof Name) return name(value.value)
  if (value instanceof Ref) return `${value.num} ${value.gen} R`
  if (value instanceof PdfString) return value.raw.toString('latin1')
  if (Array.isArray(value)) return `[${value.map(serialize).join(' ')}]`
  let out = '<<'
  for (const [key, v] of value) out += `${name(key)} ${serialize(v)}`
  return `${out}>>`
}

/** A literal string of bytes (latin1 chars), with §7.3.4.2 escapes. */
export function literal(bytes: string): string {
  return `(${bytes.replace(/[\\()\r]/g, (c) => (c === '\r' ? '\\r' : `\\${c}`))})`
}

/**
 * §7.9.2.2 text string: printable ASCII as a literal; anything else as UTF-16BE with a byte
 * order mark, in hex (safe for every code point, including astral ones as surrogate pairs).
 */
export function text(value: string): string {
  if (/^[\x20-\x7e\n]*$/.test(value)) return literal(value)
  const utf16 = Buffer.alloc(2 + value.length * 2)
  utf16[0] = 0xfe
  utf16[1] = 0xff
  for (let i = 0; i < value.length; i++) utf16.writeUInt16BE(value.charCodeAt(i), 2 + i * 2)
  return `<${utf16.toString('hex').toUpperCase()}>`
}

/** The bytes of a string as read by the lexer: literal (with escapes) or hex. */
export function stringBytes(s: PdfString): Buffer {
  const raw = s.raw
  if (raw[0] === 0x3c) {
    const hex = raw.toString('latin1', 1, raw.length - 1).replace(/[^0-9A-Fa-f]/g, '')
    return Buffer.from(hex.length % 2 === 1 ? `${hex}0` : hex, 'hex') // §7.3.4.3: odd → trailing 0
  }
  const out: number[] = []
  for (let i = 1; i < raw.length - 1; i++) {
    let c = raw[i]!
    if (c === 0x0d) { // §7.3.4.2: an unescaped end-of-line is read as \n
      if (raw[i + 1] === 0x0a) i++
      out.push(0x0a)
      continue
    }
    if (c !== 0x5c) {
      out.push(c)
      continue
    }
    c = raw[++i]!
    const simple: Record<number, number> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x66: 0x0c, 0x28: 0x28, 0x29: 0x29, 0x5c: 0x5c }
    if (simple[c] !== undefined) out.push(simple[c]!)
    else if (c >= 0x30 && c <= 0x37) {
      let octal = c - 0x30
      for (let k = 0; k < 2 && raw[i + 1]! >= 0x30 && raw[i + 1]! <= 0x37; k++) octal = octal * 8 + (raw[++i]! - 0x30)
      out.push(octal & 0xff)
    } else if (c === 0x0d) {
      if (raw[i + 1] === 0x0a) i++ // escaped line break: no character
    } else if (c !== 0x0a) out.push(c)
  }
  return Buffer.from(out)
}

/** A text string's value: UTF-16BE (BOM), UTF-8 (BOM, PDF 2.0) or PDFDocEncoding (read as latin1). */
export function decodeText(value: PdfValue | undefined): string | undefined {
  if (!(value instanceof PdfString)) return undefined
  const bytes = stringBytes(value)
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    let s = ''
    for (let i = 2; i + 1 < bytes.length; i += 2) s += String.fromCharCode(bytes.readUInt16BE(i))
    return s
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8')
  return bytes.toString('latin1')
}
