/** PDF object syntax out and text strings in/out (src/pdf/serialize.ts, ISO 32000-1 §7.3, §7.9.2.2). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Lexer, Name, parseValue, PdfString, Ref } from '../../src/pdf/lexer.js'
import { decodeText, num, serialize, text } from '../../src/pdf/serialize.js'

const parse = (s: string) => parseValue(new Lexer(Buffer.from(s, 'latin1'), 0, true, 'malformed'))

test('text strings round-trip through the lexer: ASCII, escapes, Latin-1, other scripts and emoji', () => {
  for (const s of ['plain', 'paren ( ) and \\ backslash', 'line\nbreak', 'café', 'Ωmega — “quotes” ✓', 'emoji 😀', '']) {
    const v = parse(text(s))
    assert.ok(v instanceof PdfString)
    assert.equal(decodeText(v), s)
  }
})

test('literal escapes, octal and hex strings are decoded as a reader would', () => {
  assert.equal(decodeText(parse('(a\\101\\n\\(x\\))')), 'aA\n(x)')
  assert.equal(decodeText(parse('<48 65 6C6C 6F>')), 'Hello')
  assert.equal(decodeText(parse('<FEFF00E9>')), 'é')
})

test('values written back parse to the same values; numbers have no exponent', () => {
  const v = new Map<string, unknown>([['Type', new Name('Annot')], ['A b', new Name('x/y#z')], ['R', new Ref(12, 0)], ['N', [1, -2.5, 0.00001, true, null]]])
  const again = parse(serialize(v as never)) as Map<string, unknown>
  assert.equal((again.get('Type') as Name).value, 'Annot')
  assert.equal((again.get('A b') as Name).value, 'x/y#z')
  assert.deepEqual(again.get('R'), new Ref(12, 0))
  assert.deepEqual(again.get('N'), [1, -2.5, 0, true, null])
  assert.equal(num(1e21), '1000000000000000000000')
  assert.equal(num(-0.00001), '0')
})
