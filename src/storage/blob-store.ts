/**
 * One interface for every asset backend (tus's DataStore idea, HOUSE-STYLE §5). Blobs are
 * content-addressed: the key is the sha256 of the bytes, in lowercase hex. Writes are
 * all-or-nothing: bytes are first staged to a local temporary file (see staging.ts), verified,
 * and only then `put` under their key, so no key ever names a partial blob.
 */
import type { Readable } from 'node:stream'
import type { Queryable } from '../db/db.js'
import type { StagedFile } from './staging.js'

export type BlobBackendType = 'filesystem' | 'built-in' | 's3' | 'azure'

export interface ByteRange { start: number; end: number } // inclusive, as in HTTP Range

/**
 * The caller's open database transaction, if any. The `built-in` backend keeps bytes in
 * PostgreSQL and writes them through it, so blob and rows commit together (HOUSE-STYLE §5) and,
 * on PGlite's single connection, no second query waits on the open transaction (a deadlock).
 * Backends outside the database ignore it.
 */
export interface BlobTx { tx?: Queryable }

export interface BlobStore {
  readonly type: BlobBackendType
  /** Stores the staged bytes under `key` (= staged.sha256). Idempotent: same key, same bytes. */
  put(key: string, staged: StagedFile, ctx?: BlobTx): Promise<void>
  /** A stream of the blob (or a range of it); throws BlobNotFoundError when absent. */
  get(key: string, range?: ByteRange, ctx?: BlobTx): Promise<Readable>
  exists(key: string, ctx?: BlobTx): Promise<boolean>
  /** Removes the blob; a missing blob is not an error. */
  delete(key: string, ctx?: BlobTx): Promise<void>
  /** Throws when the backend cannot be used (health check, start-up check). */
  check(): Promise<void>
  /** Releases connections, if the backend holds any. */
  close?(): void
}

/** The backend cannot be used; the message names the variables to check, never a secret. */
export class BlobStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'BlobStoreUnavailableError'
  }
}

export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`blob ${key} not found`)
    this.name = 'BlobNotFoundError'
  }
}

export const BLOB_KEY_RE = /^[0-9a-f]{64}$/

export function assertBlobKey(key: string): void {
  // Keys become file names and object keys: never let anything but a sha256 through.
  if (!BLOB_KEY_RE.test(key)) throw new Error(`invalid blob key`)
}
