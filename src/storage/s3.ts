/**
 * `s3` backend (spec §1 ASSET_STORAGE_S3_*): blobs as objects `blobs/<sha256>` in one bucket of
 * AWS S3 or any S3-compatible server, through the AWS SDK v3 (`@aws-sdk/client-s3`).
 *
 * - Credentials: the static ASSET_STORAGE_S3_ACCESS_KEY_ID / _SECRET_ACCESS_KEY when both are
 *   set; otherwise the SDK's default provider chain, which reads the standard sources itself
 *   (AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY + AWS_SESSION_TOKEN, AWS_SHARED_CREDENTIALS_FILE /
 *   AWS_CONFIG_FILE with AWS_PROFILE, web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN,
 *   as Kubernetes service accounts provide), the container endpoint (ECS, EKS pod identity) and
 *   the EC2 instance metadata service), and refreshes temporary credentials before they expire.
 * - put: the staged file goes up in one PutObject when it fits in a part, else as a multipart
 *   upload with `partConcurrency` parts of `partBytes` in memory at most, in reused buffers
 *   (memory flat in the file size). The object appears only at PutObject's end or at
 *   CompleteMultipartUpload; a failed multipart upload is aborted. A HeadObject then checks the
 *   size the server holds.
 * - get: GetObject with a Range header; the response body is the stream, its Content-Range
 *   verified (s3rver answers `bytes=0-0` with the whole object).
 * - Retries: the SDK's standard mode (3 attempts, exponential backoff with jitter; AWS_MAX_ATTEMPTS
 *   and AWS_RETRY_MODE apply).
 * Reference counting and the two-phase delete stay in the documents service, as for the other
 * backends: this store only moves bytes.
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { createRequire } from 'node:module'
import { Transform, type Readable } from 'node:stream'
import type * as AwsS3 from '@aws-sdk/client-s3'
import type { S3Config } from '../config.js'
import { assertBlobKey, BlobNotFoundError, BlobStoreUnavailableError, type BlobStore, type ByteRange } from './blob-store.js'
import type { StagedFile } from './staging.js'

// The SDK (~25 packages, ~300 ms and ~20 MiB to load) is loaded on first use, synchronously
// from its CommonJS build, so a Folio on another backend never pays for it.
const require = createRequire(import.meta.url)
let sdk: typeof AwsS3 | undefined
const aws = (): typeof AwsS3 => (sdk ??= require('@aws-sdk/client-s3') as typeof AwsS3)

const MIB = 1024 * 1024
/** S3 allows at most 10,000 parts of at least 5 MiB (the last may be smaller). */
const MAX_PARTS = 10_000

export interface S3StoreOptions extends S3Config {
  /** Part size of multipart uploads; files up to this size go up in one PutObject. */
  partBytes?: number
  /** Parts uploaded at once; memory use is about partBytes × this. */
  partConcurrency?: number
}

/** Where requests go: `scheme://host[:port]` for an S3-compatible server, undefined for AWS. */
export function s3Endpoint(o: Pick<S3Config, 'host' | 'port' | 'scheme'>): string | undefined {
  if (o.host === undefined) return undefined
  const host = o.host.includes(':') && !o.host.startsWith('[') ? `[${o.host}]` : o.host // IPv6
  return `${o.scheme}://${host}${o.port === undefined ? '' : `:${o.port}`}`
}

export class S3BlobStore implements BlobStore {
  readonly type = 's3' as const
  readonly client: AwsS3.S3Client
  private readonly partBytes: number
  private readonly partConcurrency: number
  private readonly where: string

  constructor(private readonly o: S3StoreOptions) {
    const endpoint = s3Endpoint(o)
    const agentOptions = { keepAlive: true, maxSockets: 32 }
    this.client = new (aws().S3Client)({
      region: o.region,
      endpoint,
      // Path style (`/bucket/key`) is what every S3-compatible server accepts; virtual-hosted
      // (`bucket.host/key`) is AWS's default. A bucket name with dots breaks TLS in the latter.
      forcePathStyle: o.forcePathStyle ?? (o.host !== undefined || o.bucket.includes('.')),
      credentials: o.accessKeyId && o.secretAccessKey
        ? { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey }
        : undefined, // undefined → the SDK's default credential provider chain
      // Checksums only where S3 demands them: third-party servers refuse the SDK's default
      // trailing checksums on streamed bodies (STACK-NOTES §6).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: 5_000, // ms to connect
        requestTimeout: 60_000, // ms until the response headers (a body may then take its time)
        throwOnRequestTimeout: true,
        httpAgent: new HttpAgent(agentOptions),
        httpsAgent: new HttpsAgent(agentOptions),
      },
    })
    this.partBytes = Math.max(5 * MIB, o.partBytes ?? 8 * MIB)
    this.partConcurrency = o.partConcurrency ?? 3
    this.where = `bucket "${o.bucket}" at ${endpoint ?? `AWS S3 (${o.region})`}`
  }

  objectKey(key: string): string {
    assertBlobKey(key) // only a sha256 ever becomes an object key
    return `blobs/${key}`
  }

  async put(key: string, staged: StagedFile): Promise<void> {
    const objectKey = this.objectKey(key)
    if (staged.sha256 !== key) throw new Error('staged bytes do not match the key')
    if (staged.size <= this.partBytes) {
      await this.client.send(new (aws().PutObjectCommand)({
        Bucket: this.o.bucket, Key: objectKey, Body: createReadStream(staged.path), ContentLength: staged.size,
      }))
    } else {
      await this.putMultipart(objectKey, staged)
    }
    // Cheap verification that what the server holds is the whole file.
    const size = await this.headSize(objectKey)
    if (size !== staged.size) throw new Error(`object ${key.slice(0, 12)} has ${size} bytes after upload, expected ${staged.size}`)
  }

  /**
   * Multipart upload read from the staged file by a few workers, each reusing one part buffer:
   * memory is partBytes × partConcurrency, allocated once. (`Upload` of @aws-sdk/lib-storage
   * was measured here first: it concatenates a fresh buffer per part from the stream, and the
   * peak grew with the file, +52 MiB for 210 MB and +77 MiB for 420 MB, against +1 for this.)
   */
  private async putMultipart(objectKey: string, staged: StagedFile): Promise<void> {
    const partBytes = Math.max(this.partBytes, Math.ceil(staged.size / MAX_PARTS / MIB) * MIB)
    const parts = Math.ceil(staged.size / partBytes)
    const target = { Bucket: this.o.bucket, Key: objectKey }
    const { UploadId } = await this.client.send(new (aws().CreateMultipartUploadCommand)(target))
    if (!UploadId) throw new Error('CreateMultipartUpload answered without an UploadId')
    const fh = await open(staged.path, 'r')
    try {
      const etags: string[] = new Array(parts)
      let next = 0
      const worker = async () => {
        const buf = Buffer.allocUnsafe(partBytes)
        while (next < parts) {
          const n = next++
          const start = n * partBytes
          const len = Math.min(partBytes, staged.size - start)
          const { bytesRead } = await fh.read(buf, 0, len, start)
          if (bytesRead !== len) throw new Error('staged file is shorter than its size')
          // A Buffer body is signed with its sha256: the server verifies every part's bytes.
          const res = await this.client.send(new (aws().UploadPartCommand)({
            ...target, UploadId, PartNumber: n + 1, Body: buf.subarray(0, len), ContentLength: len,
          }))
          if (!res.ETag) throw new Error(`UploadPart ${n + 1} answered without an ETag`)
          etags[n] = res.ETag
        }
      }
      await Promise.all(Array.from({ length: Math.min(this.partConcurrency, parts) }, worker))
      // S3 may answer 200 and report a failure in the body; the SDK turns that into an error.
      await this.client.send(new (aws().CompleteMultipartUploadCommand)({
        ...target, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }))
    } catch (e) {
      await this.client.send(new (aws().AbortMultipartUploadCommand)({ ...target, UploadId })).catch(() => {})
      throw e
    } finally {
      await fh.close()
    }
  }

  private async headSize(objectKey: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new (aws().HeadObjectCommand)({ Bucket: this.o.bucket, Key: objectKey }))
      return head.ContentLength
    } catch (e) {
      if (status(e) === 404) return undefined
      throw e
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    let res
    try {
      res = await this.client.send(new (aws().GetObjectCommand)({
        Bucket: this.o.bucket, Key: this.objectKey(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined,
      }))
    } catch (e) {
      if (status(e) === 404) throw new BlobNotFoundError(key)
      throw e
    }
    const body = res.Body as Readable
    if (!range) return body
    // Trust, but verify: a server that ignores Range or widens it must not turn into wrong
    // bytes for the client.
    const m = /^bytes (\d+)-(\d+)\//.exec(res.ContentRange ?? '')
    const served = m ? { start: Number(m[1]), end: Number(m[2]) } : { start: 0, end: Infinity }
    if (served.start === range.start && served.end === range.end) return body
    if (served.start > range.start || served.end < range.end) {
      body.destroy()
      throw new Error(`S3 served bytes ${served.start}-${served.end} for a request of ${range.start}-${range.end}`)
    }
    return slice(body, range.start - served.start, range.end - range.start + 1)
  }

  async exists(key: string): Promise<boolean> {
    return (await this.headSize(this.objectKey(key))) !== undefined
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new (aws().DeleteObjectCommand)({ Bucket: this.o.bucket, Key: this.objectKey(key) }))
    } catch (e) {
      if (status(e) !== 404) throw e
    }
  }

  /** HeadBucket; a failure explains itself in terms of the configuration (spec §1 names). */
  async check(): Promise<void> {
    try {
      await this.client.send(new (aws().HeadBucketCommand)({ Bucket: this.o.bucket }))
    } catch (e) {
      throw new BlobStoreUnavailableError(`ASSET_STORAGE_BACKEND=s3: ${this.where} ${this.explain(e)}`, { cause: e })
    }
  }

  private explain(e: unknown): string {
    const name = (e as Error).name
    const s = status(e)
    const keys = this.o.accessKeyId
      ? 'ASSET_STORAGE_S3_ACCESS_KEY_ID and ASSET_STORAGE_S3_SECRET_ACCESS_KEY'
      : 'the credentials of the AWS chain (AWS_ACCESS_KEY_ID/AWS_SESSION_TOKEN, AWS_PROFILE, the pod or instance role)'
    if (name === 'CredentialsProviderError') {
      return 'cannot be used: no credentials were found; set ASSET_STORAGE_S3_ACCESS_KEY_ID and ASSET_STORAGE_S3_SECRET_ACCESS_KEY, ' +
        'or provide AWS credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE with AWS_SHARED_CREDENTIALS_FILE, AWS_WEB_IDENTITY_TOKEN_FILE, a container or instance role)'
    }
    if (s === 404) return 'cannot be used: it does not exist (create it, or check ASSET_STORAGE_S3_BUCKET)'
    if (s === 401 || s === 403) return `cannot be used: access was refused (check ${keys}, and ASSET_STORAGE_S3_REGION)`
    if (s === 301 || s === 400) return `cannot be used: the server answered ${s} (check ASSET_STORAGE_S3_REGION and ASSET_STORAGE_S3_FORCE_PATH_STYLE)`
    if (s !== undefined) return `cannot be used: the server answered ${s}${e instanceof aws().S3ServiceException && e.name ? ` ${e.name}` : ''}`
    const code = (e as { code?: string }).code ?? name
    return `is unreachable (${code}); check ASSET_STORAGE_S3_HOST, ASSET_STORAGE_S3_PORT and ASSET_STORAGE_S3_SCHEME`
  }

  close(): void {
    this.client.destroy()
  }
}

/** The HTTP status of an SDK error, if it came from the server. */
function status(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
}

/** Passes on `length` bytes of `source` after skipping `skip`, then ends and stops the source. */
function slice(source: Readable, skip: number, length: number): Readable {
  let pos = 0
  let done = false
  const end = skip + length
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (done) return cb()
      const from = Math.max(0, skip - pos)
      const to = Math.min(chunk.length, end - pos)
      pos += chunk.length
      if (to > from) this.push(chunk.subarray(from, to))
      if (pos >= end) {
        done = true
        this.push(null)
        source.unpipe(out)
        source.destroy() // the rest of the object is not wanted
      }
      cb()
    },
  })
  source.on('error', (e) => out.destroy(e))
  return source.pipe(out)
}
