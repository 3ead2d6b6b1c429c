/**
 * `s3` backend (issue #9, spec §1 ASSET_STORAGE_S3_*): blobs as objects `blobs/<sha256>` in one
 * bucket of AWS S3 or any S3-compatible server (path-style addressing when a host is given).
 *
 * - put: the staged file is on local disk with its sha256 known, so a small file goes up in one
 *   PutObject whose signed payload hash is the key itself (the server verifies the bytes), and a
 *   larger one as a multipart upload read from the file one part at a time (a few parts in
 *   flight): memory is flat in the file size. An object appears only at PutObject's end or at
 *   CompleteMultipartUpload, never partly; a failed multipart upload is aborted.
 * - get: GetObject with a Range header; the response body is the stream.
 * Reference counting and the two-phase delete stay in the documents service, as for the other
 * backends: this store only moves bytes.
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { Transform, type Readable } from 'node:stream'
import { assertBlobKey, BlobNotFoundError, BlobStoreUnavailableError, type BlobStore, type ByteRange } from './blob-store.js'
import { S3Client, S3Error, type S3ClientOptions } from './s3-client.js'
import type { StagedFile } from './staging.js'

const MIB = 1024 * 1024
/** S3 allows at most 10,000 parts of at least 5 MiB (the last may be smaller). */
const MAX_PARTS = 10_000

export interface S3StoreOptions extends S3ClientOptions {
  /** Part size of multipart uploads; files up to this size go up in one PutObject. */
  partBytes?: number
  /** Parts uploaded at once; memory use is about partBytes × this. */
  partConcurrency?: number
}

export class S3BlobStore implements BlobStore {
  readonly type = 's3' as const
  readonly client: S3Client
  private readonly partBytes: number
  private readonly partConcurrency: number

  constructor(private readonly o: S3StoreOptions) {
    this.client = new S3Client(o)
    this.partBytes = o.partBytes ?? 8 * MIB
    this.partConcurrency = o.partConcurrency ?? 3
  }

  objectKey(key: string): string {
    assertBlobKey(key) // only a sha256 ever becomes an object key
    return `blobs/${key}`
  }

  async put(key: string, staged: StagedFile): Promise<void> {
    const objectKey = this.objectKey(key)
    if (staged.sha256 !== key) throw new Error('staged bytes do not match the key')
    if (staged.size <= this.partBytes) {
      await this.client.putObject(objectKey, () => createReadStream(staged.path), staged.size, staged.sha256)
    } else {
      await this.putMultipart(objectKey, staged)
    }
    // Cheap verification that what the server holds is the whole file.
    const head = await this.client.headObject(objectKey)
    if (head?.size !== staged.size) throw new Error(`object ${key.slice(0, 12)} has ${head?.size} bytes after upload, expected ${staged.size}`)
  }

  private async putMultipart(objectKey: string, staged: StagedFile): Promise<void> {
    const partBytes = Math.max(this.partBytes, Math.ceil(staged.size / MAX_PARTS / MIB) * MIB)
    const parts = Math.ceil(staged.size / partBytes)
    const uploadId = await this.client.createMultipartUpload(objectKey)
    const fh = await open(staged.path, 'r')
    try {
      const etags: string[] = new Array(parts)
      let next = 0
      // A few workers, each reading its parts from disk into the one buffer it reuses: memory
      // is partBytes × workers, allocated once, with no garbage per part for the GC to lag on.
      const worker = async () => {
        const buf = Buffer.allocUnsafe(partBytes)
        while (next < parts) {
          const n = next++
          const start = n * partBytes
          const len = Math.min(partBytes, staged.size - start)
          const { bytesRead } = await fh.read(buf, 0, len, start)
          if (bytesRead !== len) throw new Error('staged file is shorter than its size')
          etags[n] = await this.client.uploadPart(objectKey, uploadId, n + 1, buf.subarray(0, len))
        }
      }
      await Promise.all(Array.from({ length: Math.min(this.partConcurrency, parts) }, worker))
      await this.client.completeMultipartUpload(objectKey, uploadId, etags)
    } catch (e) {
      await this.client.abortMultipartUpload(objectKey, uploadId).catch(() => {})
      throw e
    } finally {
      await fh.close()
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const res = await this.client.getObject(this.objectKey(key), range)
    if (!res) throw new BlobNotFoundError(key)
    if (!range) return res
    // Trust, but verify: a server that ignores Range (200) or widens it (s3rver answers
    // `bytes=0-0` with the whole object) must not turn into wrong bytes for the client.
    const m = /^bytes (\d+)-(\d+)\//.exec(String(res.headers['content-range'] ?? ''))
    const served = res.statusCode === 206 && m ? { start: Number(m[1]), end: Number(m[2]) } : { start: 0, end: Infinity }
    if (served.start === range.start && served.end === range.end) return res
    if (served.start > range.start || served.end < range.end) {
      res.destroy()
      throw new Error(`S3 served bytes ${served.start}-${served.end} for a request of ${range.start}-${range.end}`)
    }
    return slice(res, range.start - served.start, range.end - range.start + 1)
  }

  async exists(key: string): Promise<boolean> {
    return (await this.client.headObject(this.objectKey(key))) !== undefined
  }

  async delete(key: string): Promise<void> {
    await this.client.deleteObject(this.objectKey(key))
  }

  /** HeadBucket; a failure explains itself in terms of the configuration (spec §1 names). */
  async check(): Promise<void> {
    try {
      await this.client.headBucket()
    } catch (e) {
      const where = `bucket "${this.o.bucket}" at ${this.client.endpoint}`
      if (e instanceof S3Error) {
        const hint = e.status === 404
          ? 'it does not exist (create it, or check ASSET_STORAGE_S3_BUCKET)'
          : e.status === 403 || e.status === 401
            ? 'access was refused (check ASSET_STORAGE_S3_ACCESS_KEY_ID, ASSET_STORAGE_S3_SECRET_ACCESS_KEY and ASSET_STORAGE_S3_REGION)'
            : `the server answered ${e.status}${e.s3Code ? ` ${e.s3Code}` : ''}`
        throw new BlobStoreUnavailableError(`ASSET_STORAGE_BACKEND=s3: ${where} cannot be used: ${hint}`, { cause: e })
      }
      const code = (e as { code?: string }).code ?? (e as Error).message
      throw new BlobStoreUnavailableError(
        `ASSET_STORAGE_BACKEND=s3: ${where} is unreachable (${code}); check ASSET_STORAGE_S3_HOST, ASSET_STORAGE_S3_PORT and ASSET_STORAGE_S3_SCHEME`,
        { cause: e },
      )
    }
  }

  close(): void {
    this.client.close()
  }
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
