/**
 * `azure` backend (Document Engine's AZURE_STORAGE_*): blobs as block blobs `blobs/<sha256>` in
 * one container of Azure Blob Storage (or Azurite), through `@azure/storage-blob`.
 *
 * - Credentials: AZURE_STORAGE_ACCOUNT_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME +
 *   AZURE_STORAGE_ACCOUNT_KEY (Shared Key) against AZURE_STORAGE_API_URL or
 *   `https://<account>.blob.core.windows.net`.
 * - put: `uploadFile` reads the staged file: one Put Blob when it fits in a block, else Put Block
 *   of `blockBytes` ranges read from the file as streams (`concurrency` at once), then one Put
 *   Block List. Memory is flat in the file size; the blob exists only once the block list is
 *   committed (staged, uncommitted blocks are invisible and expire by themselves). The size the
 *   service then reports is checked.
 * - get: Get Blob with an offset and count; the stream retries broken connections from where it
 *   stopped (the SDK's RetriableReadableStream).
 */
import { createRequire } from 'node:module'
import type { Readable } from 'node:stream'
import type * as AzureBlob from '@azure/storage-blob'
import type { BlockBlobClient, ContainerClient, StoragePipelineOptions } from '@azure/storage-blob'
import type { AzureConfig } from '../config.js'
import { assertBlobKey, BlobNotFoundError, BlobStoreUnavailableError, type BlobStore, type ByteRange } from './blob-store.js'
import type { StagedFile } from './staging.js'

// The SDK (~1 s and ~13 MiB to load here) is loaded on first use, synchronously from its
// CommonJS build, so a Folio on another backend never pays for it.
const require = createRequire(import.meta.url)
let sdk: typeof AzureBlob | undefined
const azure = (): typeof AzureBlob => (sdk ??= require('@azure/storage-blob') as typeof AzureBlob)

const MIB = 1024 * 1024
/** Azure allows at most 50,000 blocks per blob. */
const MAX_BLOCKS = 50_000

export interface AzureStoreOptions extends AzureConfig {
  /** Block size of staged uploads; files up to this size go up in one Put Blob. */
  blockBytes?: number
  /** Blocks uploaded at once. */
  concurrency?: number
}

export class AzureBlobStore implements BlobStore {
  readonly type = 'azure' as const
  readonly container: ContainerClient
  private readonly blockBytes: number
  private readonly concurrency: number
  private readonly where: string

  constructor(private readonly o: AzureStoreOptions) {
    const pipeline: StoragePipelineOptions = {
      // Exponential backoff between tries; no per-try timeout, which would cut long downloads.
      retryOptions: { maxTries: 4, retryDelayInMs: 200, maxRetryDelayInMs: 5_000 },
      userAgentOptions: { userAgentPrefix: 'folio' },
    }
    const { BlobServiceClient, StorageSharedKeyCredential } = azure()
    let service: AzureBlob.BlobServiceClient
    if (o.connectionString !== undefined) {
      service = BlobServiceClient.fromConnectionString(o.connectionString, pipeline)
    } else {
      const url = (o.apiUrl ?? `https://${o.accountName}.blob.core.windows.net`).replace(/\/+$/, '')
      service = new BlobServiceClient(url, new StorageSharedKeyCredential(o.accountName!, o.accountKey!), pipeline)
    }
    this.container = service.getContainerClient(o.container)
    this.blockBytes = o.blockBytes ?? 8 * MIB
    this.concurrency = o.concurrency ?? 3
    // The account's URL without any SAS query (a connection string may carry one).
    this.where = `container "${o.container}" at ${service.url.replace(/\?.*$/, '')}`
  }

  private blob(key: string): BlockBlobClient {
    assertBlobKey(key) // only a sha256 ever becomes a blob name
    return this.container.getBlockBlobClient(`blobs/${key}`)
  }

  async put(key: string, staged: StagedFile): Promise<void> {
    if (staged.sha256 !== key) throw new Error('staged bytes do not match the key')
    const blob = this.blob(key)
    const blockSize = Math.max(this.blockBytes, Math.ceil(staged.size / MAX_BLOCKS / MIB) * MIB)
    await blob.uploadFile(staged.path, {
      blockSize,
      maxSingleShotSize: blockSize,
      concurrency: this.concurrency,
      blobHTTPHeaders: { blobContentType: 'application/pdf' },
    })
    const props = await blob.getProperties()
    if (props.contentLength !== staged.size) throw new Error(`blob ${key.slice(0, 12)} has ${props.contentLength} bytes after upload, expected ${staged.size}`)
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const blob = this.blob(key)
    try {
      const res = range
        ? await blob.download(range.start, range.end - range.start + 1)
        : await blob.download(0)
      const body = res.readableStreamBody as Readable | undefined
      if (!body) throw new Error('Azure answered without a body')
      if (range && res.contentLength !== range.end - range.start + 1) {
        body.destroy()
        throw new Error(`Azure served ${res.contentLength} bytes for a request of ${range.start}-${range.end}`)
      }
      return body
    } catch (e) {
      if (e instanceof azure().RestError && e.statusCode === 404) throw new BlobNotFoundError(key)
      throw e
    }
  }

  async exists(key: string): Promise<boolean> {
    return this.blob(key).exists()
  }

  async delete(key: string): Promise<void> {
    await this.blob(key).deleteIfExists()
  }

  /** Get Container Properties; a failure explains itself in terms of the configuration. */
  async check(): Promise<void> {
    try {
      await this.container.getProperties()
    } catch (e) {
      throw new BlobStoreUnavailableError(`ASSET_STORAGE_BACKEND=azure: ${this.where} ${this.explain(e)}`, { cause: e })
    }
  }

  private explain(e: unknown): string {
    const status = e instanceof azure().RestError ? e.statusCode : undefined
    const keys = this.o.connectionString !== undefined ? 'AZURE_STORAGE_ACCOUNT_CONNECTION_STRING' : 'AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY'
    if (status === 404) return 'cannot be used: it does not exist (create it, or check AZURE_STORAGE_DEFAULT_CONTAINER)'
    if (status === 401 || status === 403) return `cannot be used: access was refused (check ${keys})`
    if (status !== undefined) return `cannot be used: the service answered ${status}${e instanceof azure().RestError && e.code ? ` ${e.code}` : ''}`
    const code = (e as { code?: string }).code ?? (e as Error).name
    return `is unreachable (${code}); check ${this.o.connectionString !== undefined ? 'the BlobEndpoint of AZURE_STORAGE_ACCOUNT_CONNECTION_STRING' : 'AZURE_STORAGE_API_URL and AZURE_STORAGE_ACCOUNT_NAME'}`
  }
}
