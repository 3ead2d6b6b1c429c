/**
 * The documents service on every asset backend (issue #9): content addressing, reference-counted
 * two-phase deletes, overwrite and ranged downloads behave as on disk, with the bytes checked in
 * the backend itself (blob_chunks rows, S3 objects). Plus the s3 start-up errors.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { BuiltInBlobStore } from '../../../src/storage/built-in.js'
import { BlobStoreUnavailableError, type BlobStore } from '../../../src/storage/blob-store.js'
import { S3BlobStore } from '../../../src/storage/s3.js'
import { loadConfig } from '../../../src/config.js'
import { buildApp } from '../../../src/app.js'
import { assertError, request } from '../../helpers/http.js'
import { makePdf } from '../../helpers/pdf-fixtures.js'
import { startS3Server, type TestS3 } from '../../helpers/s3-server.js'
import { authHeader, createStorage, dbKinds, spawnFolio, startFolio, storageEnv, TEST_API_TOKEN, type TestFolio } from '../../helpers/start-folio.js'

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function upload(f: TestFolio, pdf: Buffer, query = ''): Promise<string> {
  const res = await request(`${f.url}/api/documents${query}`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: pdf })
  assert.equal(res.status, 200, res.text)
  return res.body.data.document_id
}

let s3: TestS3
before(async () => {
  s3 = await startS3Server()
})
after(async () => {
  await s3.stop()
})

for (const db of dbKinds()) {
  for (const backend of ['built-in', 's3'] as const) {
    describe(`documents on the ${backend} backend (${db})`, () => {
      let f: TestFolio
      let raw: BlobStore // the same backend, looked at directly
      before(async () => {
        f = await startFolio({ db, env: backend === 's3' ? s3.env : { ASSET_STORAGE_BACKEND: 'built-in' } })
        raw = backend === 's3' ? new S3BlobStore({ ...f.app.config.s3! }) : new BuiltInBlobStore(f.app.db)
      })
      after(async () => {
        raw.close?.()
        await f.destroy()
      })

      test('an upload is stored in the backend, reported as its storage type, and read back whole and by range', async () => {
        const pdf = makePdf({ pages: [{ width: 300, height: 400, text: 'stored '.repeat(500) }] })
        const id = await upload(f, pdf)
        assert.equal(await raw.exists(sha256(pdf)), true, 'the bytes are in the backend')
        const props = await request(`${f.url}/api/documents/${id}/properties`, { headers: authHeader() })
        assert.equal(props.body.data.storage.type, backend)
        const dl = await fetch(`${f.url}/api/documents/${id}/pdf?source=true`, { headers: authHeader() })
        assert.equal(sha256(new Uint8Array(await dl.arrayBuffer())), sha256(pdf))
        const part = await fetch(`${f.url}/api/documents/${id}/pdf?source=true`, { headers: { ...authHeader(), range: 'bytes=5-104' } })
        assert.equal(part.status, 206)
        assert.equal(part.headers.get('content-range'), `bytes 5-104/${pdf.length}`)
        assert.ok(Buffer.from(await part.arrayBuffer()).equals(pdf.subarray(5, 105)))
      })

      test('identical uploads share one blob, which leaves the backend only with its last document', async () => {
        const pdf = makePdf({ pages: [{ width: 123, height: 456 }] })
        const key = sha256(pdf)
        const a = await upload(f, pdf)
        const b = await upload(f, pdf)
        assert.equal((await f.app.db.query('select key from blobs where key = $1', [key])).length, 1)
        assert.equal((await request(`${f.url}/api/documents/${a}`, { method: 'DELETE', headers: authHeader() })).status, 200)
        assert.equal(await raw.exists(key), true, 'still used by the other document')
        assert.equal((await request(`${f.url}/api/documents/${b}`, { method: 'DELETE', headers: authHeader() })).status, 200)
        assert.equal(await raw.exists(key), false, 'the last delete removed the bytes')
        assert.equal((await f.app.db.query('select key from blobs where key = $1', [key])).length, 0)
        assertError(await request(`${f.url}/api/documents/${b}/pdf`, { headers: authHeader() }), 404, 'document_not_found')
      })

      test('overwriting a document releases its old blob; a re-upload of deleted bytes stores them again', async () => {
        const one = makePdf({ pages: [{ width: 10, height: 20 }] })
        const two = makePdf({ pages: [{ width: 30, height: 40 }] })
        await upload(f, one, '?document_id=over')
        await upload(f, two, '?document_id=over&overwrite_existing_document=true')
        assert.equal(await raw.exists(sha256(one)), false, 'the replaced blob is gone')
        assert.equal(await raw.exists(sha256(two)), true)
        await request(`${f.url}/api/documents/over`, { method: 'DELETE', headers: authHeader() })
        assert.equal(await raw.exists(sha256(two)), false)
        const again = await upload(f, two)
        assert.equal(await raw.exists(sha256(two)), true)
        const dl = await fetch(`${f.url}/api/documents/${again}/pdf`, { headers: authHeader() })
        assert.equal(sha256(new Uint8Array(await dl.arrayBuffer())), sha256(two))
      })

      test('/healthcheck checks the backend', async () => {
        assert.deepEqual((await request(`${f.url}/healthcheck`)).body, { status: 'ok' })
      })
    })
  }
}

describe('s3 start-up errors name the variables to check and never a secret', () => {
  const cases = [
    { name: 'nothing listens at the host and port', env: () => ({ ASSET_STORAGE_S3_PORT: '1' }), says: /unreachable.*ASSET_STORAGE_S3_HOST/ },
    { name: 'the bucket does not exist', env: () => ({ ASSET_STORAGE_S3_BUCKET: 'no-such-bucket' }), says: /"no-such-bucket".*does not exist/ },
    { name: 'the secret is wrong', env: () => ({ ASSET_STORAGE_S3_SECRET_ACCESS_KEY: 'wrong-secret-value-1234' }), says: /access was refused.*ASSET_STORAGE_S3_SECRET_ACCESS_KEY/ },
  ]
  for (const c of cases) {
    test(`buildApp refuses to start when ${c.name}`, async () => {
      const storage = await createStorage('pglite')
      try {
        const config = loadConfig({ ...storageEnv(storage), API_AUTH_TOKEN: TEST_API_TOKEN, LOG_LEVEL: 'silent', ...s3.env, ...c.env() })
        await assert.rejects(buildApp(config), (e: unknown) => {
          assert.ok(e instanceof BlobStoreUnavailableError, String(e))
          assert.match(e.message, c.says)
          assert.ok(!e.message.includes('wrong-secret-value') && !e.message.includes('S3RVER'), 'no credential in the message')
          return true
        })
      } finally {
        await storage.drop()
      }
    })
  }

  test('the process exits non-zero with that message on stderr', async () => {
    const storage = await createStorage(dbKinds().includes('postgres') ? 'postgres' : 'pglite')
    try {
      await assert.rejects(spawnFolio({ ...storageEnv(storage), API_AUTH_TOKEN: TEST_API_TOKEN, ...s3.env, ASSET_STORAGE_S3_BUCKET: 'absent' }), (e: Error) => {
        assert.match(e.message, /exited with 1/)
        assert.match(e.message, /folio: failed to start: ASSET_STORAGE_BACKEND=s3: bucket "absent" at http:\/\/127\.0\.0\.1:\d+ cannot be used: it does not exist/)
        assert.ok(!e.message.includes('S3RVER'))
        return true
      })
    } finally {
      await storage.drop()
    }
  })
})
