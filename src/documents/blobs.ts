/**
 * The blob lifecycle of the documents room, with its SQL on the `blobs` rows.
 * Blobs are content-addressed and shared by identical uploads:
 *  - create: stage bytes to a temp file → inspect → in one transaction: lock/insert the blob row
 *    (claimBlob), insert the document row, and only then put the bytes under their key
 *    (storeBytes). A failure before the commit leaves no row; a failure after the put leaves at
 *    worst unreferenced bytes under a valid key, never a row without its blob.
 *  - delete: transaction 1 removes the document row and, if no other document uses the blob,
 *    marks the blob `deleting` (releaseBlob); transaction 2 locks the blob row and, if it is still
 *    marked, removes the bytes and the row (removeBlobBytes). An upload of the same bytes in
 *    between clears the mark under the same lock, so it can never lose its bytes. A crash between
 *    the two phases is finished by sweepBlobs() at the next start.
 */
import type { Db, Queryable } from '../db/db.js'
import type { Logger } from '../log.js'
import type { BlobStore } from '../storage/blob-store.js'
import type { StagedFile } from '../storage/staging.js'

/**
 * Puts staged bytes under their key inside the upload transaction, unless identical bytes are
 * already stored; the row then names the backend holding them.
 */
export async function storeBytes(tx: Queryable, blobs: BlobStore, staged: StagedFile, fresh: boolean): Promise<void> {
  if (fresh || !(await blobs.exists(staged.sha256, { tx }))) {
    await blobs.put(staged.sha256, staged, { tx })
    // A row revived or kept from another backend now names the one holding the bytes.
    await setBlobBackend(tx, staged.sha256, blobs.type)
  }
}

/** Second phase of a delete; a failure leaves the row marked for sweepBlobs(). */
export async function removeBlobBytes(deps: { db: Db; blobs: BlobStore; log: Logger }, key: string): Promise<void> {
  try {
    await deps.db.transaction((tx) => finishBlobDelete(tx, key, () => deps.blobs.delete(key, { tx })))
  } catch (e) {
    // The row stays marked `deleting`; sweepBlobs() retries. The document is already gone.
    deps.log.warn({ err: e, blob: key.slice(0, 12) }, 'blob delete deferred')
  }
}

/** Finishes deletes interrupted by a crash; returns how many blobs it looked at. */
export async function sweepBlobs(deps: { db: Db; blobs: BlobStore; log: Logger }): Promise<number> {
  const keys = await blobsBeingDeleted(deps.db)
  for (const key of keys) await removeBlobBytes(deps, key)
  return keys.length
}

/**
 * Registers a blob, or revives one being deleted; takes the row lock that serialises this with
 * a concurrent delete of the same bytes (see the top of this file).
 * Returns whether the bytes may be missing (new row, or it was being deleted).
 */
export async function claimBlob(db: Queryable, key: string, size: number, backend: string): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const rows = await db.query<{ deleting: boolean }>('select deleting from blobs where key = $1 for update', [key])
    if (rows.length === 1) {
      if (!rows[0]!.deleting) return false
      await db.query('update blobs set deleting = false where key = $1', [key])
      return true
    }
    const inserted = await db.query(
      'insert into blobs (key, byte_size, backend) values ($1, $2, $3) on conflict (key) do nothing returning key',
      [key, size, backend],
    )
    if (inserted.length === 1) return true
    // Another upload of the same bytes inserted the row between our select and insert: lock it.
  }
  throw new Error('could not claim blob row')
}

/** Records which backend holds a blob's bytes (after a put, or a move by migrate-storage). */
export async function setBlobBackend(db: Queryable, key: string, backend: string): Promise<void> {
  await db.query('update blobs set backend = $2 where key = $1 and backend <> $2', [key, backend])
}

export interface BlobRow { key: string; byte_size: number; backend: string; deleting: boolean }

/** Blobs not (yet) on `backend`, in key order after `afterKey`, for migrate-storage. */
export async function blobsNotOn(db: Queryable, backend: string, afterKey: string, limit: number): Promise<BlobRow[]> {
  return db.query<BlobRow & Record<string, unknown>>(
    `select key, byte_size, backend, deleting from blobs
      where backend <> $1 and not deleting and key > $2 order by key limit $3`,
    [backend, afterKey, limit],
  )
}

/** Blobs recorded on `backend`, in key order after `afterKey`. */
export async function blobsOn(db: Queryable, backend: string, afterKey: string, limit: number): Promise<BlobRow[]> {
  return db.query<BlobRow & Record<string, unknown>>(
    `select key, byte_size, backend, deleting from blobs
      where backend = $1 and not deleting and key > $2 order by key limit $3`,
    [backend, afterKey, limit],
  )
}

/** Locks a blob row (serialising with uploads and deletes of the same bytes). */
export async function lockBlob(db: Queryable, key: string): Promise<BlobRow | undefined> {
  const rows = await db.query<BlobRow & Record<string, unknown>>(
    'select key, byte_size, backend, deleting from blobs where key = $1 for update',
    [key],
  )
  return rows[0]
}

/**
 * After a document let go of `key`: when no document uses it any more, marks it `deleting`
 * (under the blob row's lock) and returns true, meaning the caller should remove the bytes.
 */
export async function releaseBlob(db: Queryable, key: string): Promise<boolean> {
  const locked = await db.query('select key from blobs where key = $1 for update', [key])
  if (locked.length === 0) return false
  // Kept versions of edited documents hold their blobs too.
  const users = await db.query<{ n: number }>(
    'select (select count(*) from documents where blob_key = $1)::int + (select count(*) from document_versions where blob_key = $1)::int as n',
    [key],
  )
  if (users[0]!.n > 0) return false
  await db.query('update blobs set deleting = true where key = $1', [key])
  return true
}

/** Second phase: under the lock, if the blob is still unwanted, `removeBytes` runs, then the row goes. */
export async function finishBlobDelete(
  db: Queryable,
  key: string,
  removeBytes: () => Promise<void>,
): Promise<boolean> {
  const rows = await db.query<{ deleting: boolean }>('select deleting from blobs where key = $1 for update', [key])
  if (rows[0]?.deleting !== true) return false
  await removeBytes()
  await db.query('delete from blobs where key = $1', [key])
  return true
}

export async function blobsBeingDeleted(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ key: string }>('select key from blobs where deleting')
  return rows.map((r) => r.key)
}
