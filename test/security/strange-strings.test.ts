/**
 * Strings PostgreSQL cannot store (U+0000, unpaired surrogates) and hostile nesting, in every
 * string field of every route of the OpenAPI document, in JWT claims and in object keys: the
 * answer is always a 4xx with a code, never a 5xx, on both databases.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { findValueProblem, isStorableText } from '../../src/db/text.js'
import { toFolioError } from '../../src/http/error-handler.js'
import { assertError, request, type JsonResponse } from '../helpers/http.js'
import { claimsFor, keyPair, signToken } from '../helpers/jwt.js'
import { makePdf } from '../helpers/pdf-fixtures.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../helpers/start-folio.js'

const DOC = 'fuzz-doc'
/** JSON values: NUL alone, inside text, lone low and high surrogates. */
const BAD_JSON = ['\u0000', 'a\u0000b', '\udfff', 'x\ud800y']
/** The same in a URL: NUL, and the CESU-8 bytes of a lone surrogate (not valid UTF-8). */
const BAD_URL = ['%00', 'a%00b', '%ED%BF%BF']

/** A JSON text nesting `n` objects (built as text: JSON.stringify itself overflows on it). */
class DeepJson {
  constructor(readonly n: number) {}
  text(key = 'unknownProperty'): string {
    return `{"${key}":${'{"x":'.repeat(this.n)}"leaf"${'}'.repeat(this.n)}}`
  }
}

function deep(n: number): unknown {
  let v: unknown = 'leaf'
  for (let i = 0; i < n; i++) v = { x: v }
  return v
}

test('isStorableText and findValueProblem see NUL and unpaired surrogates in values and keys, and depth', () => {
  assert.equal(isStorableText('ok 😀'), true)
  for (const s of BAD_JSON) assert.equal(isStorableText(s), false, JSON.stringify(s))
  assert.deepEqual(findValueProblem({ a: [{ b: 'x\u0000' }] }, 'body'), { problem: 'unstorable_string', path: 'body.a[0].b' })
  assert.equal(findValueProblem({ ['k\u0000']: 1 }, 'body')?.problem, 'unstorable_string')
  assert.equal(findValueProblem(deep(5000), 'body')?.problem, 'too_deep')
  assert.equal(findValueProblem(deep(20), 'body'), undefined)
})

test('any SQLSTATE of class 22 (data exception) becomes 400 invalid_value, not a 500', () => {
  for (const code of ['22P05', '22021', '22003', '22P02', '22007']) {
    assert.equal(toFolioError(Object.assign(new Error('driver said'), { code }), 1)?.code, 'invalid_value', code)
  }
  assert.equal(toFolioError(Object.assign(new Error('x'), { code: '23505' }), 1), undefined, 'other classes stay faults')
})

for (const db of dbKinds()) {
  describe(`strange strings on ${db}`, () => {
    let f: TestFolio
    let jwt: string
    let openapi: any // eslint-disable-line @typescript-eslint/no-explicit-any
    const pair = keyPair('ES256')

    before(async () => {
      f = await startFolio({ db, env: { JWT_PUBLIC_KEY: pair.publicPem, JWT_ALGORITHM: 'ES256' } })
      const up = await request(`${f.url}/api/documents?document_id=${DOC}`, {
        method: 'POST',
        headers: { ...authHeader(), 'content-type': 'application/pdf' },
        body: makePdf({ pages: [{ width: 100, height: 100 }] }),
      })
      assert.equal(up.status, 200, up.text)
      jwt = await signToken(claimsFor(DOC, ['read-document', 'write', 'download', 'cover-image']), pair)
      openapi = (await request(`${f.url}/api/openapi.json`)).body
    })
    after(async () => {
      await f.destroy()
    })

    function credential(path: string): Record<string, string> {
      return path.startsWith('/api') ? authHeader() : { authorization: `Bearer ${jwt}` }
    }

    async function send(method: string, path: string, query: Record<string, string>, body: unknown): Promise<JsonResponse> {
      const qs = Object.entries(query).map(([k, v]) => `${k}=${v}`).join('&')
      const url = `${f.url}${path}${qs ? `?${qs}` : ''}`
      if (body instanceof DeepJson) {
        return request(url, { method, headers: { ...credential(path), 'content-type': 'application/json' }, body: body.text() })
      }
      return request(url, { method, headers: credential(path), ...(body === undefined ? {} : { json: body }) })
    }

    test('every route, every string field, with NUL, lone surrogates, bad keys and 5000-deep nesting: no 5xx', async () => {
      const failures: string[] = []
      let requests = 0
      const ops: Array<[string, string, any]> = [] // eslint-disable-line @typescript-eslint/no-explicit-any
      for (const [path, item] of Object.entries<any>(openapi.paths)) { // eslint-disable-line @typescript-eslint/no-explicit-any
        for (const [method, op] of Object.entries<any>(item)) ops.push([method.toUpperCase(), path, op]) // eslint-disable-line @typescript-eslint/no-explicit-any
      }
      // Deletions last, so that the document stays for the other routes.
      ops.sort((a, b) => Number(a[0] === 'DELETE') - Number(b[0] === 'DELETE'))
      for (const [method, path, op] of ops) {
        const params: any[] = op.parameters ?? [] // eslint-disable-line @typescript-eslint/no-explicit-any
        const pathParams = params.filter((p) => p.in === 'path').map((p) => p.name as string)
        const queryParams = params.filter((p) => p.in === 'query' && (p.schema?.type === 'string' || p.schema?.type === undefined)).map((p) => p.name as string)
        const json = op.requestBody?.content?.['application/json']?.schema
        const bodyFields = Object.entries<any>(json?.properties ?? {}).filter(([, s]) => s.type === 'string' || s.type === undefined).map(([k]) => k) // eslint-disable-line @typescript-eslint/no-explicit-any
        const fill = (bad?: [string, string]) =>
          pathParams.reduce((p, name) => p.replace(`{${name}}`, bad?.[0] === name ? bad[1] : name === 'documentId' ? DOC : 'x'), path)
        const cases: Array<[string, Record<string, string>, unknown]> = []
        for (const name of pathParams) for (const v of BAD_URL) cases.push([fill([name, v]), {}, undefined])
        for (const name of queryParams) for (const v of BAD_URL) cases.push([fill(), { [name]: v }, undefined])
        if (json !== undefined) {
          for (const name of bodyFields) for (const v of BAD_JSON) cases.push([fill(), {}, { [name]: v }])
          for (const v of BAD_JSON) {
            cases.push([fill(), {}, { unknownProperty: v }])
            cases.push([fill(), {}, { [`key${v}`]: 1 }])
          }
          cases.push([fill(), {}, new DeepJson(5000)])
        }
        for (const [p, q, b] of cases) {
          requests++
          const res = await send(method, p, q, b)
          if (res.status >= 500) failures.push(`${method} ${p} ${JSON.stringify(q)} ${JSON.stringify(b)?.slice(0, 80)} → ${res.status} ${res.text.slice(0, 120)}`)
          else if (res.status >= 400 && typeof res.body?.error?.code !== 'string') failures.push(`${method} ${p}: ${res.status} without an error code`)
        }
      }
      assert.ok(requests > 100, `fuzzed ${requests} requests`)
      assert.deepEqual(failures, [], failures.join('\n'))
    })

    test('U+0000 in a revocation jti or user_id, a layer name and an annotation group is 400 invalid_string', async () => {
      assertError(await send('POST', '/api/jwt/revocations', {}, { jti: 'a\u0000' }), 400, 'invalid_string')
      assertError(await send('POST', '/api/jwt/revocations', {}, { user_id: '\udfff' }), 400, 'invalid_string')
      assertError(await send('POST', `/api/documents/${DOC}/layers`, {}, { name: 'l\u0000' }), 400, 'invalid_string')
      const res = await send('POST', `/documents/${DOC}/annotations`, {}, {
        type: 'pspdfkit/text', content: { bbox: [1, 1, 10, 10], pageIndex: 0, text: 'hi', ['x\u0000']: 1 },
      })
      assertError(res, 400, 'invalid_string')
      assert.equal(res.body.error.field, 'body.content[key]')
      assertError(await send('POST', `/documents/${DOC}/annotations`, {}, new DeepJson(5000)), 400, 'json_too_deep')
    })

    test('a JWT whose layer or user_id claim holds U+0000 or a lone surrogate is refused as invalid_claim', async () => {
      for (const extra of [{ layer: 'a\u0000' }, { user_id: '\udfff' }, { layer: '\ud800' }, { jti: 'j\u0000' }]) {
        const t = await signToken(claimsFor(DOC, ['read-document'], extra), pair)
        const res = await request(`${f.url}/documents/${DOC}/annotations`, { headers: { authorization: `Bearer ${t}` } })
        assertError(res, 401, 'invalid_token')
        assert.equal(res.body.error.reason, 'invalid_claim', res.text)
      }
    })
  })
}
