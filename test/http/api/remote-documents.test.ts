/**
 * Remote documents (spec §6, issue #8) over HTTP against a real Folio on both databases. The
 * "remote" hosts are one HTTP server on 127.0.0.1; host names resolve through a resolver the
 * test controls; the connector can reach loopback only, and records any other address it was
 * asked for (that list must stay empty: refusals happen before connecting). In every refused
 * case: no row, no blob, no staged file.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, beforeEach, describe, test } from 'node:test'
import { assertError, request } from '../../helpers/http.js'
import { makePdf } from '../../helpers/pdf-fixtures.js'
import { startRemoteWorld, type RemoteWorld } from '../../helpers/remote-world.js'
import { authHeader, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const LIMIT = 200_000
const PDF = makePdf({ pages: [{ width: 612, height: 792 }, { width: 595, height: 842 }] })

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await listFiles(p)))
    else if (!e.name.startsWith('.')) out.push(p)
  }
  return out
}

function setUpRoutes(w: RemoteWorld) {
  const p = w.port
  const redirect = (path: string, to: string) => w.route(path, (_q, r) => r.writeHead(302, { location: to }).end())
  w.route('/doc.pdf', (_q, r) => r.writeHead(200, { 'content-type': 'application/pdf' }).end(PDF))
  w.route('/octet', (_q, r) => r.writeHead(200, { 'content-type': 'application/octet-stream' }).end(PDF))
  w.route('/page.html', (_q, r) => r.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>'.padEnd(2000, 'x')))
  w.route('/html-as-pdf', (_q, r) => r.writeHead(200, { 'content-type': 'application/pdf' }).end('<html>not a pdf</html>'))
  w.route('/empty', (_q, r) => r.writeHead(200, { 'content-type': 'application/pdf' }).end())
  w.route('/damaged.pdf', (_q, r) => r.end('%PDF-1.7\n1 0 obj garbage\n'))
  w.route('/big-declared', (_q, r) => {
    r.writeHead(200, { 'content-length': String(LIMIT + 1000) })
    r.end(Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(LIMIT + 1000 - 9, 0x20)]))
  })
  w.route('/big-streamed', (_q, r) => {
    r.writeHead(200, { 'content-type': 'application/pdf' }) // chunked: no length announced
    r.write('%PDF-1.4\n')
    for (let i = 0; i < 25; i++) r.write(Buffer.alloc(10_000, 0x20))
    r.end()
  })
  w.route('/slow-headers', () => {}) // never answers
  w.route('/slow-body', (_q, r) => {
    r.writeHead(200, { 'content-length': '50000' })
    r.write('%PDF-1.4\n') // …and nothing more
  })
  w.route('/truncated', (q, r) => {
    r.writeHead(200, { 'content-length': '50000' })
    r.write('%PDF-1.4\n', () => q.socket.destroy())
  })
  w.route('/500', (_q, r) => r.writeHead(500).end('boom'))
  w.route('/403', (_q, r) => r.writeHead(403).end('no'))
  for (let n = 1; n <= 6; n++) redirect(`/r/${n}`, n === 1 ? '/doc.pdf' : `/r/${n - 1}`)
  redirect('/loop', '/loop')
  redirect('/loop-a', `http://files.test:${p}/loop-b`)
  redirect('/loop-b', '/loop-a')
  redirect('/no-location-302', '')
  redirect('/to-private', 'http://10.0.0.5/doc.pdf')
  redirect('/to-metadata', 'http://169.254.169.254/latest/meta-data/iam/')
  redirect('/to-metadata-v6', 'http://[fd00:ec2::254]/latest/meta-data/')
  redirect('/to-loopback', `http://127.0.0.1:${p}/doc.pdf`)
  redirect('/to-mapped', `http://[::ffff:7f00:1]:${p}/doc.pdf`)
  redirect('/to-internal-name', `http://internal.test:${p}/doc.pdf`)
  redirect('/to-file', 'file:///etc/passwd')
  redirect('/to-gopher', `gopher://files.test:${p}/_x`)
  redirect('/to-credentials', `http://user:pw@files.test:${p}/doc.pdf`)
  redirect('/to-cdn', `http://a.cdn.test:${p}/doc.pdf`)
  w.names.set('files.test', ['127.0.0.1'])
  w.names.set('a.cdn.test', ['127.0.0.1'])
  w.names.set('internal.test', ['127.0.0.1'])
  w.names.set('private.test', ['10.0.0.5'])
  w.names.set('metadata.test', ['169.254.169.254'])
  w.names.set('rebind.test', ['93.184.215.14', '127.0.0.1'])
}

for (const db of dbKinds()) {
  describe(`remote documents (${db})`, () => {
    let f: TestFolio
    let w: RemoteWorld
    let files = ''
    const docCount = async () => Number((await f.app.db.query<{ n: number }>('select count(*)::int as n from documents'))[0]!.n)
    const blobFiles = () => listFiles(join(f.storage.dataDir, 'blobs'))
    const stagingFiles = () => listFiles(join(f.storage.dataDir, 'tmp'))
    const create = (json: unknown, query = '') =>
      request(`${f.url}/api/documents${query}`, { method: 'POST', headers: authHeader(), json })

    before(async () => {
      w = await startRemoteWorld()
      setUpRoutes(w)
      files = `http://files.test:${w.port}`
      f = await startFolio({
        db,
        env: {
          ALLOW_REMOTE_DOCUMENTS: 'true',
          REMOTE_URL_FETCH_ALLOWED_HOSTS: 'files.test,*.cdn.test',
          REMOTE_URL_FETCH_TIMEOUT: '2500',
          MAX_UPLOAD_SIZE_BYTES: String(LIMIT),
        },
        app: { remoteNet: { resolve: w.resolve, connect: w.connect } },
      })
    })
    after(async () => {
      await f.destroy()
      await w.close()
    })
    beforeEach(() => w.reset())

    async function assertNothingStored(before: { docs: number; blobs: number }) {
      assert.equal(await docCount(), before.docs, 'no document row')
      assert.equal((await blobFiles()).length, before.blobs, 'no blob')
      assert.deepEqual(await stagingFiles(), [], 'no staged file')
      const orphans = await f.app.db.query('select key from blobs b where not exists (select 1 from documents d where d.blob_key = b.key)')
      assert.deepEqual(orphans, [], 'no blob row without a document')
      assert.deepEqual(w.caughtByNet, [], 'no connect to a non-loopback address was ever attempted')
    }

    test('an allow-listed URL is fetched and stored through the upload path, byte-identical', async () => {
      const res = await create({ url: `${files}/doc.pdf`, document_id: 'remote-1' })
      assert.equal(res.status, 200, res.text)
      const d = res.body.data
      assert.equal(d.document_id, 'remote-1')
      assert.equal(d.title, 'doc.pdf', 'the title defaults to the last path segment')
      assert.equal(d.pageCount, 2)
      assert.equal(d.byteSize, PDF.length)
      assert.equal(d.sourcePdfSha256, sha256(PDF))
      const dl = await fetch(`${f.url}/api/documents/remote-1/pdf?source=true`, { headers: authHeader() })
      assert.equal(sha256(new Uint8Array(await dl.arrayBuffer())), sha256(PDF))
      assert.deepEqual(w.connects, ['127.0.0.1'])
      assert.deepEqual(await stagingFiles(), [])
    })

    test('an uppercase HTTP scheme, a wildcard host, an octet-stream type and 5 redirects are all fine', async () => {
      for (const url of [`HTTP://FILES.TEST:${w.port}/doc.pdf`, `${files}/to-cdn`, `${files}/octet`, `${files}/r/5`]) {
        const res = await create({ url, title: 'T' })
        assert.equal(res.status, 200, `${url}: ${res.text}`)
        assert.equal(res.body.data.sourcePdfSha256, sha256(PDF))
        assert.equal(res.body.data.title, 'T')
      }
    })

    test('a multipart url field works like JSON, with document_id, title and sha256', async () => {
      const form = new FormData()
      form.append('url', `${files}/doc.pdf`)
      form.append('document_id', 'remote-mp')
      form.append('title', 'From a form')
      form.append('sha256', sha256(PDF))
      const res = await request(`${f.url}/api/documents`, { method: 'POST', headers: authHeader(), body: form })
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.document_id, 'remote-mp')
      assert.equal(res.body.data.title, 'From a form')
    })

    test('an existing document_id is refused before fetching; overwrite_existing_document replaces it', async () => {
      const again = await create({ url: `${files}/doc.pdf`, document_id: 'remote-1' })
      assertError(again, 409, 'document_exists')
      assert.deepEqual(w.hits, [], 'nothing was fetched')
      const over = await create({ url: `${files}/doc.pdf`, document_id: 'remote-1', overwrite_existing_document: true })
      assert.equal(over.status, 200, over.text)
    })

    const refusals: Array<{ name: string; url: () => string; status: number; code: string; reason?: string; hits?: string[] }> = [
      // schemes and credentials: refused before any lookup
      { name: 'file:', url: () => 'file:///etc/passwd', status: 422, code: 'remote_fetch_refused', reason: 'scheme', hits: [] },
      { name: 'FILE: (uppercase)', url: () => 'FILE:///etc/passwd', status: 422, code: 'remote_fetch_refused', reason: 'scheme', hits: [] },
      { name: 'ftp:', url: () => `ftp://files.test:${w.port}/doc.pdf`, status: 422, code: 'remote_fetch_refused', reason: 'scheme', hits: [] },
      { name: 'gopher:', url: () => `gopher://files.test:${w.port}/_GET`, status: 422, code: 'remote_fetch_refused', reason: 'scheme', hits: [] },
      { name: 'data:', url: () => `data:application/pdf;base64,${PDF.toString('base64')}`, status: 422, code: 'remote_fetch_refused', reason: 'scheme', hits: [] },
      { name: 'javascript:', url: () => 'javascript:alert(1)', status: 422, code: 'remote_fetch_refused', reason: 'scheme', hits: [] },
      { name: 'ws:', url: () => `ws://files.test:${w.port}/`, status: 422, code: 'remote_fetch_refused', reason: 'scheme', hits: [] },
      { name: 'user and password in the URL', url: () => `http://user:pw@files.test:${w.port}/doc.pdf`, status: 422, code: 'remote_fetch_refused', reason: 'credentials', hits: [] },
      { name: 'a user name alone in the URL', url: () => `http://user@files.test:${w.port}/doc.pdf`, status: 422, code: 'remote_fetch_refused', reason: 'credentials', hits: [] },
      { name: 'a relative URL', url: () => '/doc.pdf', status: 400, code: 'bad_request', hits: [] },
      // addresses: refused before connecting (hits stay empty)
      ...['127.0.0.1', '127.1', '2130706433', '0x7f.1', '0177.0.0.1', '0x7f000001', '[::1]', '[::ffff:127.0.0.1]', '[::127.0.0.1]', '[2002:7f00:1::]', '[64:ff9b::7f00:1]', '0.0.0.0', 'localhost', 'internal.test'].map((host) => ({
        name: `loopback as ${host}`, url: () => `http://${host}:${w.port}/doc.pdf`, status: 422, code: 'remote_fetch_refused', reason: 'address', hits: [],
      })),
      ...['10.0.0.5', '172.16.0.1', '192.168.1.1', '169.254.169.254', '[fd00:ec2::254]', '100.64.0.1', '198.18.0.1', '192.0.2.1', '[2001:db8::1]', '224.0.0.1', '255.255.255.255', '[fe80::1]', '[fc00::1]', '[::ffff:a9fe:a9fe]', '[64:ff9b::a00:5]', 'private.test', 'metadata.test', 'rebind.test'].map((host) => ({
        name: `${host}`, url: () => `http://${host}/latest/meta-data/`, status: 422, code: 'remote_fetch_refused', reason: 'address', hits: [],
      })),
      // redirects: each target checked like the first URL
      { name: 'a redirect to a private address', url: () => `${files}/to-private`, status: 422, code: 'remote_fetch_refused', reason: 'address', hits: ['/to-private'] },
      { name: 'a redirect to the metadata address', url: () => `${files}/to-metadata`, status: 422, code: 'remote_fetch_refused', reason: 'address', hits: ['/to-metadata'] },
      { name: 'a redirect to the IPv6 metadata address', url: () => `${files}/to-metadata-v6`, status: 422, code: 'remote_fetch_refused', reason: 'address', hits: ['/to-metadata-v6'] },
      { name: 'a redirect to 127.0.0.1', url: () => `${files}/to-loopback`, status: 422, code: 'remote_fetch_refused', reason: 'address', hits: ['/to-loopback'] },
      { name: 'a redirect to IPv4-mapped loopback', url: () => `${files}/to-mapped`, status: 422, code: 'remote_fetch_refused', reason: 'address', hits: ['/to-mapped'] },
      { name: 'a redirect to a name resolving to loopback', url: () => `${files}/to-internal-name`, status: 422, code: 'remote_fetch_refused', reason: 'address', hits: ['/to-internal-name'] },
      { name: 'a redirect to file:', url: () => `${files}/to-file`, status: 422, code: 'remote_fetch_refused', reason: 'scheme', hits: ['/to-file'] },
      { name: 'a redirect to gopher:', url: () => `${files}/to-gopher`, status: 422, code: 'remote_fetch_refused', reason: 'scheme', hits: ['/to-gopher'] },
      { name: 'a redirect carrying credentials', url: () => `${files}/to-credentials`, status: 422, code: 'remote_fetch_refused', reason: 'credentials', hits: ['/to-credentials'] },
      { name: 'more than 5 redirects', url: () => `${files}/r/6`, status: 502, code: 'remote_fetch_failed', reason: 'too_many_redirects', hits: ['/r/6', '/r/5', '/r/4', '/r/3', '/r/2', '/r/1'] },
      { name: 'a redirect to itself', url: () => `${files}/loop`, status: 502, code: 'remote_fetch_failed', reason: 'redirect_loop', hits: ['/loop'] },
      { name: 'a two-step redirect loop', url: () => `${files}/loop-a`, status: 502, code: 'remote_fetch_failed', reason: 'redirect_loop', hits: ['/loop-a', '/loop-b'] },
      { name: 'a redirect without Location', url: () => `${files}/no-location-302`, status: 502, code: 'remote_fetch_failed', reason: 'bad_redirect' },
      // the response
      { name: 'an HTML page', url: () => `${files}/page.html`, status: 422, code: 'remote_not_pdf' },
      { name: 'HTML labelled application/pdf', url: () => `${files}/html-as-pdf`, status: 422, code: 'remote_not_pdf' },
      { name: 'an empty body', url: () => `${files}/empty`, status: 422, code: 'remote_not_pdf' },
      { name: 'a damaged PDF', url: () => `${files}/damaged.pdf`, status: 422, code: 'invalid_pdf' },
      { name: 'a Content-Length over MAX_UPLOAD_SIZE_BYTES', url: () => `${files}/big-declared`, status: 422, code: 'remote_too_large' },
      { name: 'a streamed body over MAX_UPLOAD_SIZE_BYTES', url: () => `${files}/big-streamed`, status: 422, code: 'remote_too_large' },
      { name: 'a server that never answers', url: () => `${files}/slow-headers`, status: 502, code: 'remote_fetch_timeout' },
      { name: 'a body that stalls', url: () => `${files}/slow-body`, status: 502, code: 'remote_fetch_timeout' },
      { name: 'a connection cut mid-body', url: () => `${files}/truncated`, status: 502, code: 'remote_fetch_failed', reason: 'connection_lost' },
      { name: 'an upstream 404', url: () => `${files}/missing.pdf`, status: 422, code: 'remote_http_error' },
      { name: 'an upstream 403', url: () => `${files}/403`, status: 422, code: 'remote_http_error' },
      { name: 'an upstream 500', url: () => `${files}/500`, status: 502, code: 'remote_fetch_failed', reason: 'upstream_status' },
      { name: 'a host that does not resolve', url: () => `http://nowhere.test:${w.port}/doc.pdf`, status: 502, code: 'remote_fetch_failed', reason: 'dns', hits: [] },
    ]
    for (const c of refusals) {
      test(`${c.name}: ${c.status} ${c.code}${c.reason ? ` (${c.reason})` : ''}, nothing stored`, async () => {
        const before = { docs: await docCount(), blobs: (await blobFiles()).length }
        const res = await create({ url: c.url(), document_id: 'never-stored' })
        assertError(res, c.status, c.code)
        if (c.reason) assert.equal(res.body.error.reason, c.reason)
        if (c.code === 'remote_http_error') assert.ok([403, 404].includes(res.body.error.upstream_status))
        if (c.code === 'remote_too_large') assert.match(res.body.error.message, new RegExp(String(LIMIT)))
        if (c.hits) assert.deepEqual(w.hits, c.hits, 'requests the remote server saw')
        assert.ok(!res.text.includes(c.url()), 'the URL is not echoed')
        await assertNothingStored(before)
      })
    }

    test('a sha256 that does not match the fetched bytes: 422 hash_mismatch, nothing stored', async () => {
      const before = { docs: await docCount(), blobs: (await blobFiles()).length }
      assertError(await create({ url: `${files}/doc.pdf`, sha256: '0'.repeat(64) }), 422, 'hash_mismatch')
      await assertNothingStored(before)
    })

    test('ill-typed fields are 400 before anything is fetched', async () => {
      assertError(await create({ url: 5 }), 400, 'bad_request')
      assertError(await create({ url: `${files}/doc.pdf`, title: 5 }), 400, 'bad_request')
      assertError(await create({ url: `${files}/doc.pdf`, document_id: '../x' }), 400, 'invalid_document_id')
      assertError(await create({ url: `${files}/doc.pdf`, overwrite_existing_document: 'yes' }), 400, 'bad_request')
      assertError(await create({ url: `${files}/doc.pdf`, sha256: 'abc' }), 400, 'bad_request')
      assert.deepEqual(w.hits, [])
    })

    test('refusals are logged with host and class, never with the URL or its query', async () => {
      const secret = 'X-Amz-Signature=deadbeefcafe'
      assertError(await create({ url: `http://metadata.test/latest/?${secret}` }), 422, 'remote_fetch_refused')
      const logs = f.logs.join('\n')
      assert.ok(!logs.includes(secret), 'the query string never reaches the log')
      assert.match(logs, /"host":"metadata.test".*"class":"metadata"/)
    })
  })
}

describe('remote documents when ALLOW_REMOTE_DOCUMENTS is off', () => {
  test('a url is refused with 403 remote_documents_disabled, as JSON and as a multipart field, before any fetch', async () => {
    const w = await startRemoteWorld()
    w.names.set('files.test', ['127.0.0.1'])
    const f = await startFolio({ env: { REMOTE_URL_FETCH_ALLOWED_HOSTS: 'files.test' }, app: { remoteNet: { resolve: w.resolve, connect: w.connect } } })
    try {
      const url = `http://files.test:${w.port}/doc.pdf`
      assertError(await request(`${f.url}/api/documents`, { method: 'POST', headers: authHeader(), json: { url } }), 403, 'remote_documents_disabled')
      const form = new FormData()
      form.append('url', url)
      assertError(await request(`${f.url}/api/documents`, { method: 'POST', headers: authHeader(), body: form }), 403, 'remote_documents_disabled')
      assert.deepEqual(w.resolved, [])
      assert.deepEqual(w.hits, [])
    } finally {
      await f.destroy()
      await w.close()
    }
  })
})
