/** Builds the blob store that the configuration names (spec §1 ASSET_STORAGE_BACKEND). */
import { join } from 'node:path'
import type { AssetBackend, Config } from '../config.js'
import type { Db } from '../db/db.js'
import type { BlobStore } from './blob-store.js'
import { BlobStoreUnavailableError } from './blob-store.js'
import { BuiltInBlobStore } from './built-in.js'
import { FilesystemBlobStore } from './filesystem.js'
import { AzureBlobStore } from './azure.js'
import { S3BlobStore } from './s3.js'

/** `backend` defaults to the configured one; migrate-storage names the other side itself. */
export function createBlobStore(config: Config, db: Db, backend: AssetBackend = config.assetBackend): BlobStore {
  switch (backend) {
    case 'filesystem':
      return new FilesystemBlobStore(join(config.dataDir, 'blobs'))
    case 'built-in':
      return new BuiltInBlobStore(db)
    case 's3':
      if (!config.s3) {
        // config.ts parses the S3 variables only when the backend is s3; migrate-storage asks
        // for them explicitly (see loadConfig's `s3` option).
        throw new BlobStoreUnavailableError('ASSET_STORAGE_S3_BUCKET: is required to use the s3 backend')
      }
      return new S3BlobStore(config.s3)
    case 'azure':
      if (!config.azure) {
        throw new BlobStoreUnavailableError('AZURE_STORAGE_DEFAULT_CONTAINER: is required to use the azure backend')
      }
      return new AzureBlobStore(config.azure)
  }
}
