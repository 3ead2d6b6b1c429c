import { fail, overBudget, type PdfErrorReason } from './errors.js'

// PDF object syntax, ISO 32000-1 §7.2 (lexical conventions) and §7.3 (objects).

export class Name {
  constructor(readonly value: string) {}
}

export class Ref {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}
}

/** A string kept as its raw bytes (delimiters and escapes included): the inspector never reads text. */
export class PdfString {
  constructor(readonly raw: Buffer) {}
}

export type PdfDict = Map<string, PdfValue>
export type PdfValue = number | boolean | null | Name | Ref | PdfString | PdfValue[] | PdfDict

/** An indirect stream object: its dictionary and where its data starts in the file. */
export class PdfStream {
  constructor(
    readonly dict: PdfDict,
    readonly dataOffset: number,
  ) {}
}

export type PdfObject = PdfValue | PdfStream

export function isDict(value: PdfObject | undefined): value is PdfDict {
  return value instanceof Map
}

export function nameOf(value: PdfObject | undefined): string | undefined {
  return value instanceof Name ? value.value : undefined
}

/**
 * Thrown when a token runs into the end of a partial window: the caller reads a larger window
 * and parses again. Never escapes the module that owns the window.
 */
export class NeedMoreData {}
const NEED_MORE = new NeedMoreData()

export type Token =
  | { kind: 'number'; value: number; isInteger: boolean }
  | { kind: 'name'; value: string }
  | { kind: 'string'; value: PdfString }
  | { kind: 'keyword'; value: string }
  | { kind: 'delimiter'; value: '[' | ']' | '<<' | '>>' | '{' | '}' }
  | { kind: 'eof' }

const REGULAR = 0
const WHITESPACE = 1
const DELIMITER = 2
const CHAR_CLASS = new Uint8Array(256)
for (const c of [0, 9, 10, 12, 13, 32]) CHAR_CLASS[c] = WHITESPACE // §7.2.2 Table 1
for (const c of '()<>[]{}/%') CHAR_CLASS[c.charCodeAt(0)] = DELIMITER // §7.2.2 Table 2

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)$/ // §7.3.3: no exponents, no radix
const HEX_DIGIT = /[0-9A-Fa-f]/
const EOF: Token = { kind: 'eof' }
const MAX_NESTING = 256 // arrays/dictionaries inside each other; guards the parser's stack
const MAX_TOKEN = 32 * 1024

/**
 * Tokens over a buffer that is either the whole input (`isComplete`) or a window of the file
 * starting at absolute offset `base`. At the end of a complete buffer, a structure that is not
 * finished fails with `endReason` (`truncated` for the file, `malformed` for an object stream).
 */
export class Lexer {
  pos = 0

  constructor(
    readonly buf: Buffer,
    readonly base: number,
    readonly isComplete: boolean,
    readonly endReason: PdfErrorReason,
  ) {}

  get absolutePosition(): number {
    return this.base + this.pos
  }

  /** True at the real end; at the end of a partial window, asks for more data. */
  isAtEnd(offset = 0): boolean {
    if (this.pos + offset < this.buf.length) return false
    if (!this.isComplete) throw NEED_MORE
    return true
  }

  unexpectedEnd(): never {
    fail(this.endReason, `unexpected end of data at byte ${this.absolutePosition}`)
  }

  malformed(message: string): never {
    fail('malformed', `${message} at byte ${this.absolutePosition}`)
  }

  skipWhitespace(): void {
    while (!this.isAtEnd()) {
      const c = this.buf[this.pos]!
      if (CHAR_CLASS[c] === WHITESPACE) this.pos++
      else if (c === 0x25 /* % comment, to end of line */) {
        while (!this.isAtEnd() && this.buf[this.pos] !== 0x0a && this.buf[this.pos] !== 0x0d) this.pos++
      } else return
    }
  }

  readToken(): Token {
    this.skipWhitespace()
    if (this.isAtEnd()) return EOF
    const c = this.buf[this.pos]!
    switch (c) {
      case 0x2f: // '/'
        this.pos++
        return { kind: 'name', value: decodeName(this.readRegularRun()) }
      case 0x28: // '('
        return { kind: 'string', value: this.readLiteralString() }
      case 0x3c: // '<'
        if (!this.isAtEnd(1) && this.buf[this.pos + 1] === 0x3c) {
          this.pos += 2
          return { kind: 'delimiter', value: '<<' }
        }
        return { kind: 'string', value: this.readHexString() }
      case 0x3e: // '>'
        if (!this.isAtEnd(1) && this.buf[this.pos + 1] === 0x3e) {
          this.pos += 2
          return { kind: 'delimiter', value: '>>' }
        }
        return this.malformed("stray '>'")
      case 0x5b:
      case 0x5d:
      case 0x7b:
      case 0x7d:
        this.pos++
        return { kind: 'delimiter', value: String.fromCharCode(c) as '[' | ']' | '{' | '}' }
      case 0x29:
        return this.malformed("stray ')'")
    }
    const word = this.readRegularRun()
    if (NUMBER.test(word)) {
      const value = Number(word)
      return { kind: 'number', value, isInteger: !word.includes('.') && Number.isSafeInteger(value) }
    }
    return { kind: 'keyword', value: word }
  }

  /** Skips the end-of-line after the `stream` keyword (§7.3.8.1: CRLF or LF; a lone CR is tolerated). */
  skipStreamEol(): void {
    if (this.isAtEnd()) this.unexpectedEnd()
    if (this.buf[this.pos] === 0x0d) {
      this.pos++
      if (!this.isAtEnd() && this.buf[this.pos] === 0x0a) this.pos++
    } else if (this.buf[this.pos] === 0x0a) this.pos++
  }

  private readRegularRun(): string {
    const start = this.pos
    const { buf } = this
    while (this.pos < buf.length && CHAR_CLASS[buf[this.pos]!] === REGULAR) this.pos++
    // Names stop at 127 bytes (Annex C); a run this long is binary data, not a token.
    if (this.pos - start > MAX_TOKEN) this.malformed('token longer than 32 KiB')
    if (this.pos === buf.length && !this.isComplete) throw NEED_MORE // the token may go on
    return buf.toString('latin1', start, this.pos)
  }

  /** §7.3.4.2: balanced parentheses nest; a backslash escapes the next byte. */
  private readLiteralString(): PdfString {
    const start = this.pos
    let depth = 0
    for (;;) {
      if (this.isAtEnd()) this.unexpectedEnd()
      const c = this.buf[this.pos++]!
      if (c === 0x5c) this.pos++
      else if (c === 0x28) depth++
      else if (c === 0x29 && --depth === 0) return new PdfString(this.buf.subarray(start, this.pos))
    }
  }

  /** §7.3.4.3: hexadecimal digits and white space between '<' and '>'. */
  private readHexString(): PdfString {
    const start = this.pos++
    for (;;) {
      if (this.isAtEnd()) this.unexpectedEnd()
      const c = this.buf[this.pos]!
      this.pos++
      if (c === 0x3e) return new PdfString(this.buf.subarray(start, this.pos))
      if (CHAR_CLASS[c] !== WHITESPACE && !HEX_DIGIT.test(String.fromCharCode(c))) {
        this.pos--
        this.malformed('invalid character in hex string')
      }
    }
  }
}

/** §7.3.5: `#xx` in a name is the byte with that hexadecimal code. */
function decodeName(raw: string): string {
  if (!raw.includes('#')) return raw
  return raw.replace(/#([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
}

/** Parses one direct object; `n g R` becomes a `Ref`. */
export function parseValue(lexer: Lexer): PdfValue {
  return valueFromToken(lexer, lexer.readToken(), 0)
}

function valueFromToken(lexer: Lexer, token: Token, depth: number): PdfValue {
  if (depth > MAX_NESTING) overBudget('depth', `objects nested more than ${MAX_NESTING} deep`)
  switch (token.kind) {
    case 'eof':
      return lexer.unexpectedEnd()
    case 'number':
      return token.isInteger && token.value >= 0 ? refOrNumber(lexer, token.value) : token.value
    case 'name':
      return new Name(token.value)
    case 'string':
      return token.value
    case 'delimiter':
      if (token.value === '[') return parseArray(lexer, depth)
      if (token.value === '<<') return parseDict(lexer, depth)
      return lexer.malformed(`unexpected '${token.value}'`)
    case 'keyword':
      if (token.value === 'true') return true
      if (token.value === 'false') return false
      if (token.value === 'null') return null
      return lexer.malformed(`unexpected keyword '${token.value.slice(0, 20)}'`)
  }
}

/** §7.3.10: an indirect reference is two non-negative integers followed by `R`. */
function refOrNumber(lexer: Lexer, value: number): PdfValue {
  const save = lexer.pos
  const gen = lexer.readToken()
  if (gen.kind === 'number' && gen.isInteger && gen.value >= 0) {
    const r = lexer.readToken()
    if (r.kind === 'keyword' && r.value === 'R') return new Ref(value, gen.value)
  }
  lexer.pos = save
  return value
}

function parseArray(lexer: Lexer, depth: number): PdfValue[] {
  const items: PdfValue[] = []
  for (;;) {
    const token = lexer.readToken()
    if (token.kind === 'delimiter' && token.value === ']') return items
    items.push(valueFromToken(lexer, token, depth + 1))
  }
}

function parseDict(lexer: Lexer, depth: number): PdfDict {
  const dict: PdfDict = new Map()
  for (;;) {
    const key = lexer.readToken()
    if (key.kind === 'delimiter' && key.value === '>>') return dict
    if (key.kind === 'eof') lexer.unexpectedEnd()
    if (key.kind !== 'name') lexer.malformed('dictionary key is not a name')
    dict.set(key.value, valueFromToken(lexer, lexer.readToken(), depth + 1))
  }
}

export interface WindowSource {
  readonly size: number
  read(position: number, length: number): Promise<Buffer>
  /** Counts bytes tokenised against the operation's budget (throws when it is spent). */
  charge?(lexedBytes: number): void
}

const INITIAL_WINDOW = 4096
/** The largest single object read from the file (a /Kids array of 100 000 pages is ~1.2 MB). */
const MAX_WINDOW = 8 * 1024 * 1024

/**
 * Parses from `position` with `parse`, reading a 4 KiB window first and a larger one (up to
 * 8 MiB) each time the parser runs off the end of the window. Never reads the whole file.
 */
export async function parseAtOffset<T>(
  file: WindowSource,
  position: number,
  parse: (lexer: Lexer) => T,
  initialWindow = INITIAL_WINDOW,
): Promise<T> {
  if (!Number.isSafeInteger(position) || position < 0 || position >= file.size) {
    fail('malformed', `offset ${position} is outside the file`)
  }
  for (let window = initialWindow; ; window = Math.min(window * 8, MAX_WINDOW)) {
    const length = Math.min(window, file.size - position)
    const isComplete = position + length >= file.size
    const buf = await file.read(position, length)
    const lexer = new Lexer(buf, position, isComplete, 'truncated')
    try {
      const value = parse(lexer)
      file.charge?.(lexer.pos)
      return value
    } catch (error) {
      // Work done on a window that turned out too small counts too: padding costs its lexing.
      file.charge?.(error instanceof NeedMoreData ? length : lexer.pos)
      if (!(error instanceof NeedMoreData)) throw error
      if (length >= MAX_WINDOW) overBudget('object_size', `an object at byte ${position} exceeds ${MAX_WINDOW} bytes`)
    }
  }
}
