/**
 * The OpenAPI document is one a client generator can use: valid (@apidevtools/swagger-parser),
 * every request body and response media type described (uploads as PDF, multipart and JSON;
 * images, PDF, NDJSON, event streams, text), Document Engine's path-parameter names, security
 * per surface, and a typed client generated from it by openapi-typescript compiles with tsc.
 * The document is the one a running Folio serves, so routes added later are checked too.
 */
import SwaggerParser from '@apidevtools/swagger-parser'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import openapiTS, { astToString } from 'openapi-typescript'
import { parse } from 'yaml'
import { startFolio, type TestFolio } from '../helpers/start-folio.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const REFERENCE = join(root, '../../shared/reference/document-engine-openapi-1.9.yml')
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const

type Doc = { paths: Record<string, Record<string, any>>; components: Record<string, any>; [k: string]: unknown }
type Op = { path: string; method: string; op: any }

function operations(doc: Doc): Op[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] })))
}
const shape = (path: string) => path.replace(/\{[^}]+\}/g, '{}')
const isEmptySchema = (s: unknown) => s === undefined || (typeof s === 'object' && s !== null && Object.keys(s).length === 0)

/** The reference ships beside the project (shared/); read it from the worktree or the CI clone. */
async function referencePaths(): Promise<string[] | undefined> {
  for (const p of [REFERENCE, join(root, '../shared/reference/document-engine-openapi-1.9.yml')]) {
    const text = await readFile(p, 'utf8').catch(() => undefined)
    if (text !== undefined) return Object.keys((parse(text) as Doc).paths)
  }
  return undefined
}

describe('the OpenAPI document (/api/openapi.json)', () => {
  let f: TestFolio
  let doc: Doc
  let ops: Op[]
  const byId = (id: string) => {
    const found = ops.find((o) => o.op.operationId === id)
    assert.ok(found, `operation ${id}`)
    return found.op
  }

  before(async () => {
    f = await startFolio({ db: 'pglite' })
    const res = await fetch(`${f.url}/api/openapi.json`)
    assert.equal(res.status, 200)
    doc = (await res.json()) as Doc
    ops = operations(doc)
  })
  after(() => f.destroy())

  test('is valid OpenAPI 3.1 for @apidevtools/swagger-parser, with unique operation ids', async () => {
    await SwaggerParser.validate(structuredClone(doc) as never)
    const ids = ops.map((o) => o.op.operationId)
    assert.ok(ids.every((id) => typeof id === 'string' && id.length > 0), 'every operation has an id')
    assert.equal(new Set(ids).size, ids.length, 'operation ids are unique')
  })

  test('upload-document takes application/pdf, multipart/form-data and application/json bodies', () => {
    const body = byId('upload-document').requestBody
    assert.ok(body, 'a request body')
    const content = body.content
    assert.deepEqual(content['application/pdf'].schema, { type: 'string', format: 'binary' })
    assert.equal(content['multipart/form-data'].schema.properties.file.format, 'binary')
    assert.ok(content['application/json'].schema.required.includes('url'))
  })

  test('every request body names its media types, each with a schema', () => {
    const withBody = ops.filter((o) => o.op.requestBody)
    assert.ok(withBody.length >= 20)
    for (const { path, method, op } of withBody) {
      const types = Object.keys(op.requestBody.content ?? {})
      assert.ok(types.length > 0, `${method} ${path}: media types`)
      for (const t of types) assert.ok(!isEmptySchema(op.requestBody.content[t].schema), `${method} ${path} ${t}: a schema`)
    }
    for (const id of ['create-secret', 'rotate-secret', 'expire-secret', 'create-jwt-revocation', 'revoke-jwt', 'create-document-annotation',
      'update-document-annotation', 'create-document-layer-annotation', 'create-new-layer', 'copy-document']) {
      assert.ok(byId(id).requestBody?.content?.['application/json'], `${id}: a JSON body`)
    }
    const apply = byId('document-apply-instant-json').requestBody.content
    assert.deepEqual(Object.keys(apply).sort(), ['application/json', 'multipart/form-data'])
  })

  test('binary and streaming responses carry their media types, not application/json', () => {
    const media = (id: string, status = '200') => Object.keys(byId(id).responses[status]?.content ?? {}).sort()
    for (const id of ['render-document-page', 'internal-render-document-page', 'client-render-document-page', 'client-get-document-cover']) {
      assert.deepEqual(media(id), ['image/jpeg', 'image/png', 'image/webp'], id)
    }
    for (const id of ['download-document-pdf', 'download-document-layer-pdf', 'internal-download-document-pdf', 'client-download-document-pdf']) {
      assert.deepEqual(media(id), ['application/pdf'], id)
      assert.deepEqual(media(id, '206'), ['application/pdf'], `${id}: a Range answer`)
    }
    for (const id of ['get-document-annotations', 'get-document-layer-annotations', 'client-get-document-annotations']) {
      assert.deepEqual(media(id), ['application/json', 'application/x-ndjson'], id)
    }
    for (const id of ['get-document-annotation-events', 'get-document-layer-annotation-events', 'internal-get-document-annotation-events']) {
      assert.deepEqual(media(id), ['text/event-stream'], id)
    }
    assert.deepEqual(media('metrics'), ['text/plain'])
    for (const { path, method, op } of ops) {
      const ok = Object.entries<any>(op.responses).filter(([s]) => s.startsWith('2') && s !== '204' && s !== '205')
      assert.ok(ok.length > 0, `${method} ${path}: a success response`)
      for (const [status, r] of ok) assert.ok(r.content && Object.keys(r.content).length > 0, `${method} ${path} ${status}: a media type`)
    }
  })

  test("path parameters are Document Engine's names, each declared as a required path parameter", async () => {
    const paths = Object.keys(doc.paths)
    for (const name of ['{layerName}', '{secretType}', '{secretId}', '{annotationId}', '{documentId}']) {
      assert.ok(paths.some((p) => p.includes(name)), `${name} is used`)
    }
    for (const { path, method, op } of ops) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])
      const declared = (op.parameters ?? []).filter((p: any) => p.in === 'path')
      assert.deepEqual(declared.map((p: any) => p.name).sort(), [...inPath].sort(), `${method} ${path}`)
      for (const p of declared) assert.equal(p.required, true)
      for (const name of inPath) assert.doesNotMatch(name!, /^(id|type|layer)$/, `${path}: Document Engine names it more precisely`)
    }
    const reference = await referencePaths()
    if (reference === undefined) return // shared/ is not beside this checkout
    const byShape = new Map(reference.map((p) => [shape(p), p]))
    let compared = 0
    for (const path of paths) {
      const theirs = byShape.get(shape(path))
      if (theirs === undefined) continue
      compared++
      assert.equal(path, theirs, "the same route as Document Engine's has its parameter names")
    }
    assert.ok(compared >= 15, `${compared} routes compared with the reference`)
  })

  test('security per surface: the API token on /api and /metrics, the JWT on /i and /documents, none on /healthcheck', () => {
    const schemes = doc.components.securitySchemes
    assert.equal(schemes.ApiAuthToken.type, 'apiKey')
    assert.equal(schemes.JWT.scheme, 'bearer')
    for (const { path, method, op } of ops) {
      const names = (op.security ?? (doc as any).security).flatMap((r: object) => Object.keys(r))
      const where = `${method} ${path}`
      if (path === '/healthcheck') assert.deepEqual(op.security, [], where)
      else if (path.startsWith('/api/') || path === '/metrics') assert.deepEqual(names, ['ApiAuthToken'], where)
      else if (path.startsWith('/i/') || path.startsWith('/documents/')) assert.deepEqual(names, ['JWT'], where)
      else assert.fail(`${where}: a path outside the documented surfaces`)
    }
  })

  test('openapi-typescript generates a typed client from it that tsc compiles', async () => {
    const source = astToString(await openapiTS(structuredClone(doc) as never))
    const dir = await mkdtemp(join(process.env.FOLIO_TEST_TMP!, 'openapi-client-'))
    try {
      await writeFile(join(dir, 'folio-api.ts'), source)
      // Uses of the generated types a client makes; wrong names or shapes fail to compile.
      await writeFile(join(dir, 'use.ts'), [
        "import type { paths, operations } from './folio-api.js'",
        "type Upload = paths['/api/documents']['post']['requestBody']",
        "export const pdf: NonNullable<Upload>['content']['application/pdf'] = 'bytes'",
        "type Layer = paths['/api/documents/{documentId}/layers/{layerName}/annotations']['get']['parameters']['path']",
        "export const layer: Layer = { documentId: 'd', layerName: 'l' }",
        "type Secret = operations['expire-secret']['parameters']['path']",
        "export const secret: Secret = { secretType: 'jwt', secretId: '1' }",
        "type Image = operations['render-document-page']['responses'][200]['content']",
        "export const png: keyof Image = 'image/png'",
        "type Events = operations['get-document-annotation-events']['responses'][200]['content']",
        "export const sse: keyof Events = 'text/event-stream'",
        '',
      ].join('\n'))
      const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--skipLibCheck',
        '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', join(dir, 'use.ts')], { encoding: 'utf8' })
      assert.equal(tsc.status, 0, `tsc: ${tsc.stdout}${tsc.stderr}`)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
