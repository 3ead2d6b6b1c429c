import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Db } from '../../src/db/db.js'
import { openPglite } from '../../src/db/pglite.js'
import { connectPostgres } from '../../src/db/postgres.js'
import { BuiltInBlobStore } from '../../src/storage/built-in.js'
import { StagingArea } from '../../src/storage/staging.js'
import { createStorage, dbKinds } from '../helpers/start-folio.js'
import { blobStoreContract } from './contract.js'

// The same suite on both databases; 64 KiB chunks so that small blobs span several of them.
for (const kind of dbKinds()) {
  blobStoreContract(`built-in (${kind})`, async () => {
    const storage = await createStorage(kind)
    const db: Db = kind === 'pglite' ? await openPglite(join(storage.dataDir, 'pglite')) : connectPostgres({ url: storage.databaseUrl! })
    const dir = await mkdtemp(join(storage.dataDir, 'staging-'))
    const staging = new StagingArea(dir)
    await staging.init()
    return {
      store: new BuiltInBlobStore(db, 64 * 1024),
      staging,
      async cleanup() {
        await db.close()
        await rm(dir, { recursive: true, force: true })
        await storage.drop()
      },
    }
  })
}
