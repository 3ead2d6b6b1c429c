/**
 * The error handler's log line for a 500: the cause's type, message and code (docs/errors.md),
 * never `{"type":"object"}`, and never its stack.
 */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import Fastify from 'fastify'
import { createErrorHandler } from '../../src/http/error-handler.js'
import { createLogger } from '../../src/log.js'

test('an unhandled error is logged with its type, message and code, without a stack', async () => {
  const lines: string[] = []
  const log = createLogger('info', new Writable({ write(c: Buffer, _e, cb) { lines.push(c.toString()); cb() } }))
  const app = Fastify({ loggerInstance: log })
  app.setErrorHandler(createErrorHandler(1024))
  app.get('/boom', async () => {
    throw Object.assign(new RangeError('the disk said no'), { code: 'EDISKNO' })
  })
  const res = await app.inject({ url: '/boom' })
  assert.equal(res.statusCode, 500)
  assert.equal(res.json().error.code, 'internal_error')
  await app.close()
  const line = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'unhandled error')
  assert.ok(line, lines.join('\n'))
  assert.deepEqual(line.err, { type: 'RangeError', message: 'the disk said no', code: 'EDISKNO' })
  assert.ok(!JSON.stringify(line).includes('at '), 'no stack')
})
