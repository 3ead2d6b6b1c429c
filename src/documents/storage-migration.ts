/**
 * Moving blobs between asset backends (`npx folio migrate-storage`). Part of the
 * documents room's service face: it works on the `blobs` rows through the room's store.
 *
 * Each blob not yet on the target: read from the backend its row names → staged to local disk,
 * its sha256 and size checked against the key and the row (a damaged source is reported, not
 * copied) → put on the target → read back from the target and hashed again → then, under the
 * blob row's lock (the one uploads and deletes take), the row is switched to the target. A blob
 * deleted meanwhile is removed from the target instead. The source copy is removed only with
 * `deleteSource`, after the switch has committed; with `from` as well, copies that earlier runs
 * left on that backend are removed too (the target holding the blob is checked first). Running
 * it twice copies nothing twice.
 */
import { createHash } from 'node:crypto'
import type { Db, Queryable } from '../db/db.js'
import { BlobNotFoundError, type BlobBackendType, type BlobStore } from '../storage/blob-store.js'
import type { StagingArea } from '../storage/staging.js'
import * as store from './blobs.js'

export interface MigrationReport {
  copied: number
  bytes: number
  /** Rows whose bytes the source does not have. */
  missing: string[]
  /** Bytes that did not match their key, on the source or after the copy. */
  damaged: string[]
  failed: Array<{ key: string; error: string }>
  /** Source copies removed (deleteSource), including those of blobs moved by an earlier run. */
  removed: number
}

export interface MigrationDeps {
  db: Db
  target: BlobStore
  /** The store for a backend named by a row (created on first use by the caller). */
  source(backend: BlobBackendType): BlobStore
  staging: StagingArea
  deleteSource?: boolean
  /** Only rows on this backend; default: every row not on the target. */
  from?: BlobBackendType
  onBlob?(key: string, outcome: 'copied' | 'removed' | 'missing' | 'damaged' | 'failed' | 'gone', bytes: number): void
}

const BATCH = 100

export async function migrateBlobs(deps: MigrationDeps): Promise<MigrationReport> {
  const report: MigrationReport = { copied: 0, bytes: 0, missing: [], damaged: [], failed: [], removed: 0 }
  let after = ''
  for (;;) {
    const rows = await store.blobsNotOn(deps.db, deps.target.type, after, BATCH)
    if (rows.length === 0) break
    after = rows[rows.length - 1]!.key
    for (const row of rows) {
      if (deps.from && row.backend !== deps.from) continue
      try {
        const outcome = await moveOne(deps, row)
        if (outcome === 'copied' && deps.deleteSource) report.removed++
        if (outcome === 'copied') {
          report.copied++
          report.bytes += row.byte_size
        } else if (outcome === 'missing') report.missing.push(row.key)
        else if (outcome === 'damaged') report.damaged.push(row.key)
        deps.onBlob?.(row.key, outcome, row.byte_size)
      } catch (e) {
        report.failed.push({ key: row.key, error: (e as Error).message })
        deps.onBlob?.(row.key, 'failed', row.byte_size)
      }
    }
  }
  // Copies left on `from` by earlier runs without deleteSource (the switch procedure in
  // deploy/README.md): removed once the target is confirmed to hold the blob.
  if (deps.deleteSource && deps.from) {
    const source = deps.source(deps.from)
    let afterKey = ''
    for (;;) {
      const rows = await store.blobsOn(deps.db, deps.target.type, afterKey, BATCH)
      if (rows.length === 0) break
      afterKey = rows[rows.length - 1]!.key
      for (const row of rows) {
        try {
          if (!(await source.exists(row.key))) continue
          if (!(await deps.target.exists(row.key))) {
            report.missing.push(row.key)
            deps.onBlob?.(row.key, 'missing', row.byte_size)
            continue
          }
          await source.delete(row.key)
          report.removed++
          deps.onBlob?.(row.key, 'removed', row.byte_size)
        } catch (e) {
          report.failed.push({ key: row.key, error: (e as Error).message })
        }
      }
    }
  }
  return report
}

async function moveOne(deps: MigrationDeps, row: store.BlobRow): Promise<'copied' | 'missing' | 'damaged' | 'gone'> {
  const source = deps.source(row.backend as BlobBackendType)
  let stream
  try {
    stream = await source.get(row.key)
  } catch (e) {
    if (e instanceof BlobNotFoundError) return 'missing'
    throw e
  }
  const staged = await deps.staging.stage(stream, { maxBytes: Number.MAX_SAFE_INTEGER })
  try {
    if (staged.sha256 !== row.key || staged.size !== row.byte_size) return 'damaged'
    const moved = await deps.db.transaction(async (tx) => {
      const locked = await store.lockBlob(tx, row.key)
      if (!locked || locked.deleting || locked.backend === deps.target.type) return false
      await deps.target.put(row.key, staged, { tx })
      if ((await hashOf(deps.target, row.key, tx)) !== row.key) throw new DamagedCopyError()
      await store.setBlobBackend(tx, row.key, deps.target.type)
      return true
    }).catch((e: unknown) => {
      if (e instanceof DamagedCopyError) return 'damaged' as const
      throw e
    })
    if (moved === 'damaged') return 'damaged'
    if (!moved) return 'gone'
    if (deps.deleteSource) await source.delete(row.key)
    return 'copied'
  } finally {
    await staged.discard()
  }
}

class DamagedCopyError extends Error {}

/** Reads a blob back and hashes it (through the transaction: built-in rows are not yet committed). */
async function hashOf(blobs: BlobStore, key: string, tx: Queryable): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of await blobs.get(key, undefined, { tx })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
