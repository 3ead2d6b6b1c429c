/**
 * Several nodes on one PostgreSQL and one blob store (issue #9): three nodes started at the same
 * moment on an empty database apply each migration once; uploads on one are read, listed and
 * deleted on the others; identical uploads racing on two nodes share one blob; every node lists
 * the cluster, and a node that stops leaves it. Run for the built-in and s3 backends.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { loadMigrations } from '../../src/db/migrate.js'
import type { BlobStore } from '../../src/storage/blob-store.js'
import { BuiltInBlobStore } from '../../src/storage/built-in.js'
import { S3BlobStore } from '../../src/storage/s3.js'
import { assertError, request } from '../helpers/http.js'
import { makePdf } from '../helpers/pdf-fixtures.js'
import { startS3Server, type TestS3 } from '../helpers/s3-server.js'
import { highlightAt } from '../helpers/annotation-samples.js'
import { openSse } from '../helpers/sse.js'
import { authHeader, createStorage, dbKinds, startFolio, type Storage, type TestFolio } from '../helpers/start-folio.js'

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const post = (url: string, pdf: Buffer) =>
  request(`${url}/api/documents`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: pdf })

let s3: TestS3
before(async () => {
  s3 = await startS3Server()
})
after(async () => {
  await s3.stop()
})

// Nodes can share only a real PostgreSQL (PGlite is one process's).
const hasPostgres = dbKinds().includes('postgres')

for (const backend of ['built-in', 's3'] as const) {
  describe(`three nodes on one PostgreSQL and the ${backend} backend`, { skip: !hasPostgres && 'no PostgreSQL' }, () => {
    let storage: Storage
    let nodes: TestFolio[]
    let raw: BlobStore

    before(async () => {
      storage = await createStorage('postgres', { empty: true })
      const env = backend === 's3' ? s3.env : { ASSET_STORAGE_BACKEND: 'built-in' }
      // All three at once, on a database no migration has touched yet.
      nodes = await Promise.all([0, 1, 2].map(() => startFolio({ storage, env, ownDataDir: true })))
      raw = backend === 's3' ? new S3BlobStore({ ...nodes[0]!.app.config.s3! }) : new BuiltInBlobStore(nodes[0]!.app.db)
    })
    after(async () => {
      raw.close?.()
      for (const n of nodes) await n.close()
      await storage.drop()
    })

    test('nodes starting together apply each migration exactly once', async () => {
      const rows = await nodes[0]!.app.db.query<{ id: number; n: number }>('select id, count(*)::int as n from folio_migrations group by id order by id')
      assert.deepEqual(rows.map((r) => r.id), (await loadMigrations()).map((m) => m.id))
      assert.ok(rows.every((r) => r.n === 1))
    })

    test('every node lists all three, each marking itself current', async () => {
      for (const n of nodes) {
        const res = await request(`${n.url}/api/nodes`, { headers: authHeader() })
        assert.equal(res.status, 200, res.text)
        const list = res.body.data as any[]
        assert.deepEqual(list.map((x) => x.id).sort(), nodes.map((m) => m.app.nodes.id).sort())
        assert.deepEqual(list.filter((x) => x.current).map((x) => x.id), [n.app.nodes.id])
        assert.ok(list.every((x) => x.status === 'up'))
        assert.deepEqual(list.map((x) => x.address).sort(), nodes.map((m) => m.url).sort())
      }
    })

    test('an upload on one node is read, ranged, listed and deleted on the others', async () => {
      const pdf = makePdf({ pages: [{ width: 200, height: 300, text: 'cluster '.repeat(20_000) }, { width: 10, height: 10 }] })
      const up = await post(nodes[0]!.url, pdf)
      assert.equal(up.status, 200, up.text)
      const id = up.body.data.document_id
      for (const n of nodes.slice(1)) {
        const dl = await fetch(`${n.url}/api/documents/${id}/pdf?source=true`, { headers: authHeader() })
        assert.equal(sha256(new Uint8Array(await dl.arrayBuffer())), sha256(pdf))
        const part = await fetch(`${n.url}/api/documents/${id}/pdf`, { headers: { ...authHeader(), range: 'bytes=1000-1999' } })
        assert.equal(part.status, 206)
        assert.ok(Buffer.from(await part.arrayBuffer()).equals(pdf.subarray(1000, 2000)))
        const info = await request(`${n.url}/api/documents/${id}/document_info`, { headers: authHeader() })
        assert.equal(info.body.data.pageCount, 2)
        const list = await request(`${n.url}/api/documents?page_size=1000`, { headers: authHeader() })
        assert.ok(list.body.data.some((d: any) => d.id === id))
      }
      assert.equal((await request(`${nodes[2]!.url}/api/documents/${id}`, { method: 'DELETE', headers: authHeader() })).status, 200)
      for (const n of nodes) assertError(await request(`${n.url}/api/documents/${id}/pdf`, { headers: authHeader() }), 404, 'document_not_found')
      assert.equal(await raw.exists(sha256(pdf)), false, 'the blob left the shared store')
    })

    test('annotations written on each node reach the live events of every node, in one order', async () => {
      const up = await post(nodes[0]!.url, makePdf({ pages: [{ width: 300, height: 300 }, { width: 300, height: 300 }] }))
      assert.equal(up.status, 200, up.text)
      const id = up.body.data.document_id
      const streams = await Promise.all(nodes.map((n) => openSse(`${n.url}/api/documents/${id}/events`, authHeader())))
      try {
        await Promise.all(streams.map((s) => s.waitFor(1)))
        for (const [i, n] of nodes.entries()) {
          const res = await request(`${n.url}/api/documents/${id}/annotations`, { method: 'POST', headers: authHeader(), json: { id: `n${i}`, content: highlightAt(i % 2, 20 + i * 30) } })
          assert.equal(res.status, 200, res.text)
        }
        const del = await request(`${nodes[2]!.url}/api/documents/${id}/annotations/n0`, { method: 'DELETE', headers: authHeader() })
        assert.equal(del.status, 200, del.text)
        await Promise.all(streams.map((s) => s.waitFor(5, 10_000)))
        const seen = streams.map((s) => s.events.slice(1).map((e) => `${e.event}:${(e.data as { annotationId?: string }).annotationId}`))
        assert.deepEqual(seen[0], ['created:n0', 'created:n1', 'created:n2', 'deleted:n0'])
        assert.deepEqual(seen[1], seen[0])
        assert.deepEqual(seen[2], seen[0])
        const list = await request(`${nodes[1]!.url}/api/documents/${id}/annotations`, { headers: authHeader() })
        assert.deepEqual(list.body.data.annotations.map((a: { id: string }) => a.id).sort(), ['n1', 'n2'])
      } finally {
        for (const s of streams) s.close()
      }
    })

    test('identical uploads racing on three nodes share one blob and all read back', async () => {
      const pdf = makePdf({ pages: [{ width: 77, height: 88, text: 'race' }] })
      const results = await Promise.all(nodes.flatMap((n) => [post(n.url, pdf), post(n.url, pdf)]))
      assert.ok(results.every((r) => r.status === 200), results.map((r) => r.text).join('\n'))
      const blobRows = await nodes[0]!.app.db.query('select key from blobs where key = $1', [sha256(pdf)])
      assert.equal(blobRows.length, 1)
      for (const [i, r] of results.entries()) {
        const dl = await fetch(`${nodes[(i + 1) % 3]!.url}/api/documents/${r.body.data.document_id}/pdf`, { headers: authHeader() })
        assert.equal(sha256(new Uint8Array(await dl.arrayBuffer())), sha256(pdf))
      }
    })

    test('a node that stops leaves the list on the others', async () => {
      const leaving = nodes.pop()!
      await leaving.close()
      const res = await request(`${nodes[0]!.url}/api/nodes`, { headers: authHeader() })
      assert.deepEqual(res.body.data.map((x: any) => x.id).sort(), nodes.map((m) => m.app.nodes.id).sort())
    })
  })
}
