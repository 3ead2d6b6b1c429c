/**
 * The operators' CLI (`npx folio`, bin/folio.mjs; issue #4 §7) against a real Folio: every
 * command, its exit codes, and that secrets never need to be on the command line.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { request } from '../helpers/http.js'
import { ecPair, fakeJwt, nowSeconds } from '../helpers/secret-fixtures.js'
import { authHeader, startFolio, TEST_API_TOKEN, type TestFolio } from '../helpers/start-folio.js'

const CLI = fileURLToPath(new URL('../../../bin/folio.mjs', import.meta.url))

interface Run { code: number | null; stdout: string; stderr: string }

function runCli(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d))
    child.stderr.on('data', (d: Buffer) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(opts.input ?? '')
  })
}

describe('folio CLI', () => {
  let f: TestFolio
  let env: Record<string, string>
  const cli = (args: string[], input?: string) => runCli(args, { env, input })
  const works = async (token: string) => (await request(`${f.url}/api/documents`, { headers: authHeader(token) })).status === 200

  before(async () => {
    f = await startFolio({ db: 'pglite' })
    env = { FOLIO_URL: f.url, FOLIO_API_TOKEN: TEST_API_TOKEN }
  })
  after(async () => {
    await f.destroy()
  })

  test('usage mistakes exit 2 with the usage; a missing token is named', async () => {
    const none = await runCli(['secrets', 'list', 'jwt'], { env: { FOLIO_URL: f.url } })
    assert.equal(none.code, 2)
    assert.match(none.stderr, /FOLIO_API_TOKEN/)
    for (const args of [['bogus'], ['secrets', 'add', 'api_auth_token'], ['revoke', 'jti'], ['secrets', 'frobnicate', 'jwt']]) {
      const r = await cli(args)
      assert.equal(r.code, 2, args.join(' '))
      assert.match(r.stderr, /Usage: folio/)
    }
    assert.match((await cli(['--help'])).stdout, /secrets rotate <type>/)
  })

  test('secrets list, add --generate, expire: the generated token works until expired, and is shown once on stderr only', async () => {
    const listed = await cli(['secrets', 'list', 'api_auth_token'])
    assert.equal(listed.code, 0, listed.stderr)
    assert.match(listed.stdout, /^\d+\tcurrent\n$/)
    const added = await cli(['secrets', 'add', 'api_auth_token', '--expires-at', new Date(Date.now() + 3600_000).toISOString(), '--generate'])
    assert.equal(added.code, 0, added.stderr)
    const generated = /\n {2}(\S{32,})\n/.exec(added.stderr)![1]!
    assert.ok(!added.stdout.includes(generated))
    assert.ok(await works(generated))
    const id = /^(\d+)\texpires/.exec(added.stdout)![1]!
    const json = JSON.parse((await cli(['secrets', 'list', 'api_auth_token', '--json'])).stdout)
    assert.equal(json.length, 2)
    const expired = await cli(['secrets', 'expire', 'api_auth_token', id])
    assert.equal(expired.code, 0, expired.stderr)
    assert.equal(await works(generated), false)
    const current = await cli(['secrets', 'expire', 'api_auth_token', String(json[0].id)])
    assert.equal(current.code, 1)
    assert.match(current.stderr, /400 cannot_expire_current/)
  })

  test('secrets rotate takes the secret from a file or stdin, never from the arguments', async () => {
    const pemFile = join(f.storage.dataDir, 'key.pem')
    await writeFile(pemFile, ecPair('P-384').publicPem)
    const jwt = await cli(['secrets', 'rotate', 'jwt', '--secret-file', pemFile])
    assert.equal(jwt.code, 0, jwt.stderr)
    assert.match(jwt.stdout, /^\d+\tcurrent {2}ES384 {2}[A-Za-z0-9_-]{43}\n/)
    const pw = await cli(['secrets', 'rotate', 'dashboard_password', '--previous-expires-at', 'now'], 'a passphrase from stdin\n')
    assert.equal(pw.code, 0, pw.stderr)
    assert.ok(await f.app.secrets.verifyDashboardPassword('a passphrase from stdin'), 'the trailing newline of stdin is not part of it')
    const weak = await cli(['secrets', 'rotate', 'dashboard_password'], 'password1\n')
    assert.equal(weak.code, 1)
    assert.match(weak.stderr, /422 common_password/)
  })

  test('revoke token/jti/document/user/jwts, list and lift', async () => {
    const token = fakeJwt({ document_id: 'doc', exp: nowSeconds() + 600 })
    const byToken = await cli(['revoke', 'token', '-'], `${token}\n`)
    assert.equal(byToken.code, 0, byToken.stderr)
    assert.match(byToken.stdout, /^\d+\ttoken sha256 [0-9a-f]{64}\tuntil /)
    assert.equal((await cli(['revoke', 'jti', 'j-1'])).code, 0)
    const doc = await cli(['revoke', 'document', 'doc-1', '--issued-before', new Date(Date.now() - 1000).toISOString()])
    assert.match(doc.stdout, /document_id doc-1 issued before /)
    assert.equal((await cli(['revoke', 'user', 'u-1'])).code, 0)
    const batch = await cli(['revoke', 'jwts', fakeJwt({ jti: 'j-2', exp: nowSeconds() + 60 }), 'not-a-jwt'])
    assert.match(batch.stdout, /revoked 1 of 2 \(partial_failure\)\n {2}\$\.jwts\[1\]/)
    const list = await cli(['revoke', 'list'])
    assert.equal(list.stdout.trim().split('\n').length, 5)
    const id = /^(\d+)\tjti j-1/m.exec(list.stdout)![1]!
    assert.equal((await cli(['revoke', 'lift', id])).code, 0)
    const again = await cli(['revoke', 'lift', id])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /404 revocation_not_found/)
  })

  test('audit shows who did what; an unreachable server exits 1', async () => {
    const a = await cli(['audit', '--limit', '3'])
    assert.equal(a.code, 0, a.stderr)
    assert.equal(a.stdout.trim().split('\n').length, 3)
    assert.match(a.stdout, /revocation\.(add|lift) #\d+ {2}by api_auth_token \d+ \([0-9a-f]{16}\)/)
    const down = await runCli(['secrets', 'list', 'jwt'], { env: { FOLIO_URL: 'http://127.0.0.1:9', FOLIO_API_TOKEN: 'x' } })
    assert.equal(down.code, 1)
    assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:9/)
  })
})
