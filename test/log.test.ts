/**
 * The logger (src/log.ts): the default destination is a buffered stdout that a real process
 * can open, and the one line per request has pino's shape, escapes what a client controls and
 * never carries a credential from the query string.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { describe, test } from 'node:test'
import { createLogger, createRequestLogger } from '../src/log.js'

function capture() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter((l) => l !== ''))
      cb()
    },
  })
  return { lines, stream }
}

describe('log', () => {
  test('the default buffered stdout destination opens, and what it holds is written by the time the process exits', () => {
    const logModule = fileURLToPath(new URL('../src/log.js', import.meta.url))
    const code = `import(${JSON.stringify(logModule)}).then(({ createLogger }) => { const l = createLogger('info'); for (let i = 0; i < 3; i++) l.info({ i }, 'line') })`
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; i: number })
    assert.deepEqual(lines.map((l) => l.i), [0, 1, 2])
  })

  test('the request line has the shape pino writes, escapes client-controlled strings and redacts a query token', () => {
    const { lines, stream } = capture()
    const log = createLogger('info', stream)
    const line = createRequestLogger(log)
    line({ reqId: 'r-1', method: 'GET', url: '/documents/d/cover?jwt=eyJ.secret.sig&w="x"\n', status: 200, ms: 1.5, ip: '127.0.0.1' })
    log.info({ other: true }, 'after')
    assert.equal(lines.length, 2)
    const first = JSON.parse(lines[0]!) as Record<string, unknown>
    assert.deepEqual(Object.keys(first), ['level', 'time', 'reqId', 'method', 'url', 'status', 'ms', 'ip', 'msg'])
    assert.equal(first.level, 'info')
    assert.equal(first.msg, 'request')
    assert.ok(!Number.isNaN(Date.parse(String(first.time))))
    assert.equal(first.status, 200)
    assert.ok(!lines[0]!.includes('eyJ.secret.sig'), 'the JWT in the query is redacted')
    assert.match(String(first.url), /\[redacted\]/)
    assert.equal(JSON.parse(lines[1]!).msg, 'after', 'the same destination, in order')
  })

  test('the request line follows the log level: nothing below info', () => {
    const { lines, stream } = capture()
    const log = createLogger('warn', stream)
    createRequestLogger(log)({ reqId: 'r', method: 'GET', url: '/', status: 200, ms: 0, ip: '::1' })
    assert.equal(lines.length, 0)
  })
})
