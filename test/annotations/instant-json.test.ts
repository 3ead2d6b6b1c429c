/** Instant JSON validation per type (issue #5 §1): what is accepted, and every refusal with its path. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidAnnotation, LIMITS, validateContent } from '../../src/annotations/instant-json.js'
import { parseIfMatch } from '../../src/annotations/items.js'
import { newAnnotationId } from '../../src/annotations/ids.js'
import { ANNOTATION_ID_RE } from '../../src/annotations/instant-json.js'
import { SAMPLES } from '../helpers/annotation-samples.js'

const clone = <T>(v: T): T => structuredClone(v)

function refused(content: unknown, path: string, reason: string, pageCount = 2) {
  assert.throws(() => validateContent(content, pageCount), (e: unknown) => {
    assert.ok(e instanceof InvalidAnnotation, String(e))
    assert.equal(e.path, path)
    assert.equal(e.reason, reason)
    return true
  })
}

describe('Instant JSON validation', () => {
  for (const [name, sample] of Object.entries(SAMPLES)) {
    test(`a valid ${name} annotation is accepted unchanged`, () => {
      assert.deepEqual(validateContent(clone(sample), 2), sample)
    })
  }

  test('unknown properties are kept (Instant JSON grows) but count towards the size bound', () => {
    const c = { ...clone(SAMPLES.highlight!), isCommentThreadRoot: true, somethingNew: { a: 1 } }
    assert.deepEqual(validateContent(c, 2), c)
    refused({ ...clone(SAMPLES.highlight!), blob: 'x'.repeat(LIMITS.contentBytes) }, '$.content', 'too_large')
  })

  const cases: Array<[string, (c: Record<string, any>) => unknown, string, string]> = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    ['not an object', () => [1, 2], '$.content', 'wrong_type'],
    ['version 1', (c) => ({ ...c, v: 1 }), '$.content.v', 'unsupported_version'],
    ['unknown type', (c) => ({ ...c, type: 'pspdfkit/widget' }), '$.content.type', 'unknown_type'],
    ['missing pageIndex', (c) => ({ ...c, pageIndex: undefined }), '$.content.pageIndex', 'missing'],
    ['pageIndex past the last page', (c) => ({ ...c, pageIndex: 2 }), '$.content.pageIndex', 'page_out_of_range'],
    ['negative pageIndex', (c) => ({ ...c, pageIndex: -1 }), '$.content.pageIndex', 'out_of_range'],
    ['fractional pageIndex', (c) => ({ ...c, pageIndex: 0.5 }), '$.content.pageIndex', 'wrong_type'],
    ['bbox of 3 numbers', (c) => ({ ...c, bbox: [1, 2, 3] }), '$.content.bbox', 'wrong_type'],
    ['bbox with a string', (c) => ({ ...c, bbox: [1, '2', 3, 4] }), '$.content.bbox[1]', 'wrong_type'],
    ['bbox with negative width', (c) => ({ ...c, bbox: [1, 2, -3, 4] }), '$.content.bbox[2]', 'out_of_range'],
    ['bbox far off the page', (c) => ({ ...c, bbox: [1e9, 2, 3, 4] }), '$.content.bbox[0]', 'out_of_range'],
    ['rects not an array', (c) => ({ ...c, rects: 'x' }), '$.content.rects', 'wrong_type'],
    ['no rects', (c) => ({ ...c, rects: [] }), '$.content.rects', 'missing'],
    ['too many rects', (c) => ({ ...c, rects: Array.from({ length: LIMITS.rects + 1 }, () => [1, 2, 3, 4]) }), '$.content.rects', 'too_many'],
    ['a rect with null', (c) => ({ ...c, rects: [[1, 2, null, 4]] }), '$.content.rects[0][2]', 'wrong_type'],
    ['colour not #rrggbb', (c) => ({ ...c, color: 'red' }), '$.content.color', 'bad_color'],
    ['missing colour', (c) => ({ ...c, color: undefined }), '$.content.color', 'missing'],
    ['opacity above 1', (c) => ({ ...c, opacity: 1.5 }), '$.content.opacity', 'out_of_range'],
    ['unknown flag', (c) => ({ ...c, flags: ['sparkly'] }), '$.content.flags[0]', 'not_allowed'],
    ['unknown blend mode', (c) => ({ ...c, blendMode: 'glow' }), '$.content.blendMode', 'not_allowed'],
    ['note over 64 KiB', (c) => ({ ...c, note: 'x'.repeat(LIMITS.textChars + 1) }), '$.content.note', 'too_long'],
    ['customData as a string', (c) => ({ ...c, customData: 'x' }), '$.content.customData', 'wrong_type'],
    ['action of unknown type', (c) => ({ ...c, action: { type: 'teleport' } }), '$.content.action.type', 'not_allowed'],
  ]
  for (const [what, mutate, path, reason] of cases) {
    test(`a highlight with ${what} is refused (${reason} at ${path})`, () => refused(mutate(clone(SAMPLES.highlight!)), path, reason))
  }

  test('ink: missing lines, empty segment, too many points per line, non-numeric point, missing lineWidth', () => {
    const ink = () => clone(SAMPLES.ink!) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
    refused({ ...ink(), lines: undefined }, '$.content.lines', 'missing')
    refused({ ...ink(), lines: { points: [[]] } }, '$.content.lines.points[0]', 'missing')
    refused({ ...ink(), lines: { points: [Array.from({ length: LIMITS.pointsPerLine + 1 }, () => [1, 1])] } }, '$.content.lines.points[0]', 'too_many')
    refused({ ...ink(), lines: { points: [[[1, Number.NaN]]] } }, '$.content.lines.points[0][0][1]', 'not_finite')
    refused({ ...ink(), lines: { points: [[[1, 2, 3]]] } }, '$.content.lines.points[0][0]', 'wrong_type')
    refused({ ...ink(), lineWidth: undefined }, '$.content.lineWidth', 'missing')
    refused({ ...ink(), strokeColor: '#12345' }, '$.content.strokeColor', 'bad_color')
  })

  test('shapes, line, note, text, link and stamp refuse their own malformed fields', () => {
    refused({ ...clone(SAMPLES.rectangle!), strokeWidth: 'thick' }, '$.content.strokeWidth', 'wrong_type')
    refused({ ...clone(SAMPLES.ellipse!), fillColor: '#GGGGGG' }, '$.content.fillColor', 'bad_color')
    refused({ ...clone(SAMPLES.rectangle!), strokeDashArray: Array(LIMITS.dashes + 1).fill(1) }, '$.content.strokeDashArray', 'too_many')
    refused({ ...clone(SAMPLES.line!), endPoint: undefined }, '$.content.endPoint', 'missing')
    refused({ ...clone(SAMPLES.line!), lineCaps: { end: 'rocket' } }, '$.content.lineCaps.end', 'not_allowed')
    refused({ ...clone(SAMPLES.note!), icon: 'smiley' }, '$.content.icon', 'not_allowed')
    refused({ ...clone(SAMPLES.note!), text: 'plain string' }, '$.content.text', 'wrong_type')
    refused({ ...clone(SAMPLES.text!), fontSize: undefined }, '$.content.fontSize', 'missing')
    refused({ ...clone(SAMPLES.text!), horizontalAlign: 'justify' }, '$.content.horizontalAlign', 'not_allowed')
    refused({ ...clone(SAMPLES.link!), action: undefined }, '$.content.action', 'missing')
    refused({ ...clone(SAMPLES.link!), action: { type: 'goTo', pageIndex: 9 } }, '$.content.action.pageIndex', 'page_out_of_range')
    refused({ ...clone(SAMPLES.stamp!), stampType: 'Groovy' }, '$.content.stampType', 'not_allowed')
  })

  test('generated annotation ids are ULIDs that fit the id rule and differ', () => {
    const a = newAnnotationId()
    const b = newAnnotationId()
    assert.match(a, /^[0-9A-HJKMNP-TV-Z]{26}$/)
    assert.ok(ANNOTATION_ID_RE.test(a))
    assert.notEqual(a, b)
  })

  test('If-Match names one version: "3", W/"3" and 3 are version 3; * is none; anything else is a 400', () => {
    assert.equal(parseIfMatch('"3"'), 3)
    assert.equal(parseIfMatch('W/"3"'), 3)
    assert.equal(parseIfMatch('3'), 3)
    assert.equal(parseIfMatch('*'), undefined)
    assert.equal(parseIfMatch(undefined), undefined)
    assert.throws(() => parseIfMatch('"a", "b"'), /If-Match/)
  })
})
