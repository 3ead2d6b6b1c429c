/**
 * Staging: streams incoming bytes to a temporary file on local disk while hashing them and
 * enforcing a size limit, then fsyncs. Memory stays flat whatever the size: one chunk at a time,
 * with backpressure from the file writes. The caller inspects the staged file and then either
 * hands it to a BlobStore or discards it; a crash leaves only a `.part` file in the staging
 * folder, which `clearStaging` removes at the next start.
 */
import { createHash, randomUUID } from 'node:crypto'
import { mkdir, open, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'

export interface StagedFile {
  readonly path: string
  readonly sha256: string
  readonly size: number
  /** Deletes the temporary file if it is still there. Never throws. */
  discard(): Promise<void>
}

export class SizeLimitError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`)
    this.name = 'SizeLimitError'
  }
}

export class EmptyUploadError extends Error {
  constructor() {
    super('no bytes')
    this.name = 'EmptyUploadError'
  }
}

const WRITE_BATCH_BYTES = 1024 * 1024

export class StagingArea {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    await this.clear()
  }

  /** Removes leftovers of a crash. Only call when no upload is in progress on this node. */
  async clear(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      if (name.endsWith('.part')) await rm(join(this.dir, name), { force: true })
    }
  }

  async stage(source: Readable | AsyncIterable<Uint8Array>, opts: { maxBytes: number }): Promise<StagedFile> {
    const path = join(this.dir, `${randomUUID()}.part`)
    const hash = createHash('sha256')
    const fh = await open(path, 'wx', 0o600)
    let size = 0
    // Chunks are gathered into ~1 MiB batches written with one writev, and the next batch is
    // hashed and gathered while the previous write is in flight: at most two batches in memory.
    let batch: Uint8Array[] = []
    let batchBytes = 0
    let inFlight: Promise<unknown> = Promise.resolve()
    const discard = async () => {
      await rm(path, { force: true }).catch(() => {})
    }
    try {
      for await (const chunk of source) {
        size += chunk.byteLength
        if (size > opts.maxBytes) throw new SizeLimitError(opts.maxBytes)
        hash.update(chunk)
        batch.push(chunk)
        batchBytes += chunk.byteLength
        if (batchBytes >= WRITE_BATCH_BYTES) {
          await inFlight
          inFlight = fh.writev(batch)
          batch = []
          batchBytes = 0
        }
      }
      await inFlight
      if (batch.length > 0) await fh.writev(batch)
      if (size === 0) throw new EmptyUploadError()
      await fh.sync()
    } catch (e) {
      await inFlight.catch(() => {})
      await fh.close().catch(() => {})
      await discard()
      // Stop reading the rest of an oversized body: the response goes out, the socket closes.
      if ('destroy' in source && typeof source.destroy === 'function' && e instanceof SizeLimitError) source.destroy()
      throw e
    }
    await fh.close()
    return { path, sha256: hash.digest('hex'), size, discard }
  }
}
