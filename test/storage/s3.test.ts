import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { S3BlobStore } from '../../src/storage/s3.js'
import { StagingArea } from '../../src/storage/staging.js'
import { S3RVER_KEY, startS3Server, type TestS3 } from '../helpers/s3-server.js'
import { blobStoreContract } from './contract.js'

// Against a real S3-protocol server (s3rver) on 127.0.0.1, with signed requests (verified by
// AWS's own signer in front of it). Parts of 5 MiB (S3's minimum) so that the 24 MiB blob of the
// suite goes up as a multipart upload.
let s3: TestS3
before(async () => {
  s3 = await startS3Server()
})
after(async () => {
  await s3.stop()
})

blobStoreContract('s3', async () => {
  const dir = await mkdtemp(join(process.env.FOLIO_TEST_TMP!, 's3-staging-'))
  const staging = new StagingArea(dir)
  await staging.init()
  const store = new S3BlobStore({
    bucket: s3.bucket, region: 'us-east-1', host: '127.0.0.1', port: s3.port, scheme: 'http',
    accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY, partBytes: 5 * 1024 * 1024,
  })
  return {
    store,
    staging,
    async cleanup() {
      store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
})
