import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { FilesystemBlobStore } from '../../src/storage/filesystem.js'
import { StagingArea } from '../../src/storage/staging.js'
import { blobStoreContract } from './contract.js'

blobStoreContract('filesystem', async () => {
  const dir = await mkdtemp(join(process.env.FOLIO_TEST_TMP!, 'fs-'))
  const staging = new StagingArea(join(dir, 'tmp'))
  await staging.init()
  return { store: new FilesystemBlobStore(join(dir, 'blobs')), staging, cleanup: () => rm(dir, { recursive: true, force: true }) }
})
