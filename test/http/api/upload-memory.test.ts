/**
 * Memory stays flat in the file size on the built-in and s3 backends (issue #9): a real Folio
 * process, warmed up with a 64 MiB upload and download (so the garbage collector has reached its
 * working size), then takes a 256 MiB streamed upload and serves it back; its peak resident
 * memory grows by less than a quarter of the file. Holding the file in memory anywhere would
 * grow it by the whole file or more. The 500 MB run is `npm run bench:storage`.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { writeLargePdf } from '../../helpers/pdf-fixtures.js'
import { startS3Server, type TestS3 } from '../../helpers/s3-server.js'
import { createStorage, dbKinds, spawnFolio, storageEnv, TEST_API_TOKEN } from '../../helpers/start-folio.js'
import { downloadHash, fileSize, peakRssMiB, uploadFile } from '../../helpers/stream-upload.js'

// The warm-up must reach the backend's working plateau (the built-in backend's driver keeps
// some tens of MiB of encode buffers), or the measured run pays for it: seen once with a 32 MiB
// warm-up, +40 MiB for 128 MiB. Holding the file would instead grow the peak by the whole file.
const WARM_MIB = 64
const FILE_MIB = 256
let s3: TestS3
before(async () => {
  s3 = await startS3Server()
})
after(async () => {
  await s3.stop()
})

// Real PostgreSQL when there is one (the production setting); PGlite otherwise.
const db = dbKinds().includes('postgres') ? 'postgres' : 'pglite'

for (const backend of ['built-in', 's3'] as const) {
  test(`a ${FILE_MIB} MiB upload and download on ${backend} (${db}) grow the server's peak memory by less than a quarter of the file`, async (t) => {
    const storage = await createStorage(db)
    const env = {
      ...storageEnv(storage), API_AUTH_TOKEN: TEST_API_TOKEN, LOG_LEVEL: 'warn', MAX_UPLOAD_SIZE_BYTES: String(1024 ** 3),
      ...(backend === 's3' ? s3.env : { ASSET_STORAGE_BACKEND: 'built-in' }),
    }
    const proc = await spawnFolio(env)
    try {
      // Warm up every path (first upload, first download) with a smaller file before the baseline.
      const warmFile = join(storage.dataDir, 'warm.pdf')
      await writeLargePdf(warmFile, WARM_MIB * 1024 * 1024)
      const warm = await uploadFile(proc.url, TEST_API_TOKEN, warmFile, await fileSize(warmFile))
      assert.equal(warm.status, 200, warm.body)
      await downloadHash(proc.url, TEST_API_TOKEN, JSON.parse(warm.body).data.document_id)
      const base = await peakRssMiB(proc.child.pid!)

      const file = join(storage.dataDir, 'large.pdf')
      const { sha256 } = await writeLargePdf(file, FILE_MIB * 1024 * 1024)
      const size = await fileSize(file)
      const res = await uploadFile(proc.url, TEST_API_TOKEN, file, size)
      assert.equal(res.status, 200, res.body)
      const id = JSON.parse(res.body).data.document_id
      const back = await downloadHash(proc.url, TEST_API_TOKEN, id)
      assert.deepEqual(back, { sha256, size })
      const peak = await peakRssMiB(proc.child.pid!)
      t.diagnostic(`${backend}: peak RSS ${base.toFixed(0)} MiB before, ${peak.toFixed(0)} MiB after a ${(size / 1048576).toFixed(0)} MiB upload and download`)
      assert.ok(peak - base < FILE_MIB / 4, `peak grew by ${(peak - base).toFixed(1)} MiB`)
    } finally {
      await proc.stop('SIGKILL')
      await storage.drop()
    }
  })
}
