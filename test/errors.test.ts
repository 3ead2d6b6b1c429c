import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { ERRORS, FolioError } from '../src/errors.js'

test('every error code is documented in docs/errors.md with its status', async () => {
  const doc = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8')
  for (const [code, { status }] of Object.entries(ERRORS)) {
    const line = doc.split('\n').find((l) => l.startsWith(`| \`${code}\``))
    assert.ok(line, `docs/errors.md documents ${code}`)
    assert.ok(line.includes(`| ${status} |`), `docs/errors.md gives ${code} the status ${status}`)
  }
})

test('a FolioError carries its catalog status, and its cause stays out of its details', () => {
  const e = new FolioError('invalid_pdf', { reason: 'truncated' }, { cause: new Error('inner secret') })
  assert.equal(e.status, 422)
  assert.deepEqual(e.details, { reason: 'truncated' })
  assert.equal(e.message, ERRORS.invalid_pdf.message)
})
