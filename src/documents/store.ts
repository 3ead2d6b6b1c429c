/** SQL for documents and their blobs; imported only by documents/service.ts. */
import type { Queryable } from '../db/db.js'

export interface PageRow { pageIndex: number; width: number; height: number; rotation: number }

export interface DocumentRow {
  id: string
  title: string
  blob_key: string
  byte_size: number
  source_sha256: string
  password_protected: boolean
  page_count: number | null
  pages: PageRow[] | null
  pdf_version: string | null
  created_at: Date
  updated_at: Date
  backend: string
  /** 1 at upload, +1 with every persisted edit or restore (document_versions). */
  version: number
}

const SELECT = `select d.*, b.backend from documents d join blobs b on b.key = d.blob_key`

export async function findDocument(db: Queryable, id: string): Promise<DocumentRow | undefined> {
  const rows = await db.query<DocumentRow & Record<string, unknown>>(`${SELECT} where d.id = $1`, [id])
  return rows[0]
}

export async function lockDocument(db: Queryable, id: string): Promise<DocumentRow | undefined> {
  const rows = await db.query<DocumentRow & Record<string, unknown>>(
    `${SELECT} where d.id = $1 for update of d`,
    [id],
  )
  return rows[0]
}

/**
 * Registers a blob, or revives one being deleted; takes the row lock that serialises this with
 * a concurrent delete of the same bytes (see service.ts, "blob lifecycle").
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

export interface NewDocument {
  id: string
  title: string
  blobKey: string
  byteSize: number
  passwordProtected: boolean
  pageCount: number | null
  pages: PageRow[] | null
  pdfVersion: string | null
  now: Date
}

export async function insertDocument(db: Queryable, d: NewDocument): Promise<void> {
  await db.query(
    `insert into documents (id, title, blob_key, byte_size, source_sha256, password_protected,
       page_count, pages, pdf_version, created_at, updated_at)
     values ($1, $2, $3, $4, $3, $5, $6, $7, $8, $9, $9)`,
    [d.id, d.title, d.blobKey, d.byteSize, d.passwordProtected, d.pageCount, d.pages, d.pdfVersion, d.now.toISOString()],
  )
}

/** Replaces the file of an existing document (overwrite_existing_document=true). */
export async function replaceDocument(db: Queryable, d: NewDocument): Promise<void> {
  await db.query(
    `update documents set title = $2, blob_key = $3, byte_size = $4, source_sha256 = $3,
       password_protected = $5, page_count = $6, pages = $7, pdf_version = $8,
       created_at = $9, updated_at = $9
     where id = $1`,
    [d.id, d.title, d.blobKey, d.byteSize, d.passwordProtected, d.pageCount, d.pages, d.pdfVersion, d.now.toISOString()],
  )
}

export async function updateTitle(db: Queryable, id: string, title: string, now: Date): Promise<boolean> {
  const rows = await db.query('update documents set title = $2, updated_at = $3 where id = $1 returning id', [
    id,
    title,
    now.toISOString(),
  ])
  return rows.length === 1
}

export async function deleteDocumentRow(db: Queryable, id: string): Promise<string | undefined> {
  const rows = await db.query<{ blob_key: string }>('delete from documents where id = $1 returning blob_key', [id])
  return rows[0]?.blob_key
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

// ---- listing (keyset pagination) ----

export type OrderBy = 'created_at' | 'title'
export type Direction = 'asc' | 'desc'

export interface ListFilter { title?: string }

/** A position in the ordering: the sort value and the id that breaks ties. */
export interface Position { value: string; id: string }

function filterSql(f: ListFilter, params: unknown[]): string {
  if (f.title === undefined) return 'true'
  // Substring match; LIKE wildcards in the user's text are escaped, not interpreted.
  params.push(`%${f.title.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
  return `d.title ilike $${params.length}`
}

function sortExpr(orderBy: OrderBy): string {
  // created_at is stored at millisecond precision (set from JS), so its ISO text round-trips.
  return orderBy === 'title' ? 'd.title' : 'd.created_at'
}

/**
 * Up to `limit` rows strictly after `after` (or from the start) in the order
 * (orderBy, id) `direction`.
 */
export async function listDocuments(
  db: Queryable,
  q: { filter: ListFilter; orderBy: OrderBy; direction: Direction; after?: Position; limit: number },
): Promise<DocumentRow[]> {
  const params: unknown[] = []
  const where = [filterSql(q.filter, params)]
  const col = sortExpr(q.orderBy)
  const cmp = q.direction === 'asc' ? '>' : '<'
  if (q.after) {
    params.push(q.after.value, q.after.id)
    const cast = q.orderBy === 'title' ? '' : '::timestamptz'
    where.push(`(${col}, d.id) ${cmp} ($${params.length - 1}${cast}, $${params.length})`)
  }
  params.push(q.limit)
  return db.query<DocumentRow & Record<string, unknown>>(
    `${SELECT} where ${where.join(' and ')}
     order by ${col} ${q.direction}, d.id ${q.direction} limit $${params.length}`,
    params,
  )
}

export async function countDocuments(db: Queryable, filter: ListFilter): Promise<number> {
  const params: unknown[] = []
  const rows = await db.query<{ n: number }>(
    `select count(*)::int as n from documents d where ${filterSql(filter, params)}`,
    params,
  )
  return rows[0]!.n
}

export interface BulkFilter { documentId?: string; title?: string; startDate?: Date; endDate?: Date }

export async function findForBulkDelete(db: Queryable, f: BulkFilter, limit: number): Promise<string[]> {
  const params: unknown[] = []
  const where: string[] = []
  if (f.documentId !== undefined) {
    params.push(f.documentId)
    where.push(`d.id = $${params.length}`)
  }
  if (f.title !== undefined) where.push(filterSql({ title: f.title }, params))
  if (f.startDate !== undefined) {
    params.push(f.startDate.toISOString())
    where.push(`d.created_at >= $${params.length}`)
  }
  if (f.endDate !== undefined) {
    params.push(f.endDate.toISOString())
    where.push(`d.created_at <= $${params.length}`)
  }
  params.push(limit)
  const rows = await db.query<{ id: string }>(
    `select d.id from documents d where ${where.join(' and ')} order by d.created_at, d.id limit $${params.length}`,
    params,
  )
  return rows.map((r) => r.id)
}

// ---- versions (document editing) ----

export interface VersionRow {
  document_id: string
  version: number
  blob_key: string
  byte_size: number
  title: string
  password_protected: boolean
  page_count: number | null
  pages: PageRow[] | null
  pdf_version: string | null
  layers: string[]
  annotations: unknown[]
  replaced_by: string
  created_at: Date
  replaced_at: Date
}

/** Keeps the document's current state (row + the given annotation snapshot) as a version. */
export async function insertVersion(db: Queryable, d: DocumentRow, snapshot: { layers: string[]; annotations: unknown[] }, replacedBy: string, at: Date): Promise<void> {
  await db.query(
    `insert into document_versions (document_id, version, blob_key, byte_size, title, password_protected, page_count, pages,
       pdf_version, layers, annotations, replaced_by, created_at, replaced_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb, $11::text::jsonb, $12, $13, $14)`,
    [d.id, d.version, d.blob_key, d.byte_size, d.title, d.password_protected, d.page_count, d.pages === null ? null : JSON.stringify(d.pages),
      d.pdf_version, JSON.stringify(snapshot.layers), JSON.stringify(snapshot.annotations), replacedBy, d.updated_at.toISOString(), at.toISOString()],
  )
}

export interface FileState {
  blobKey: string
  byteSize: number
  passwordProtected: boolean
  pageCount: number | null
  pages: PageRow[] | null
  pdfVersion: string | null
  title?: string
}

/** Points the document at another file and counts a new version. */
export async function setFile(db: Queryable, id: string, f: FileState, at: Date): Promise<void> {
  await db.query(
    `update documents set blob_key = $2, byte_size = $3, source_sha256 = $2, password_protected = $4, page_count = $5,
       pages = $6::text::jsonb, pdf_version = $7, title = coalesce($8, title), version = version + 1, updated_at = $9
     where id = $1`,
    [id, f.blobKey, f.byteSize, f.passwordProtected, f.pageCount, f.pages === null ? null : JSON.stringify(f.pages), f.pdfVersion, f.title ?? null, at.toISOString()],
  )
}

export async function listVersions(db: Queryable, id: string): Promise<Array<Omit<VersionRow, 'annotations' | 'layers'> & { annotation_count: number }>> {
  return db.query(
    `select document_id, version, blob_key, byte_size, title, password_protected, page_count, pages, pdf_version, replaced_by,
       created_at, replaced_at, jsonb_array_length(annotations) as annotation_count
     from document_versions where document_id = $1 order by version desc`,
    [id],
  )
}

export async function findVersion(db: Queryable, id: string, version: number): Promise<VersionRow | undefined> {
  const rows = await db.query<VersionRow & Record<string, unknown>>('select * from document_versions where document_id = $1 and version = $2', [id, version])
  return rows[0]
}

/** Removes all but the newest `keep` versions; returns the blob keys they held. */
export async function pruneVersions(db: Queryable, id: string, keep: number): Promise<string[]> {
  const rows = await db.query<{ blob_key: string }>(
    `delete from document_versions where document_id = $1 and version not in
       (select version from document_versions where document_id = $1 order by version desc limit $2)
     returning blob_key`,
    [id, keep],
  )
  return rows.map((r) => r.blob_key)
}

export async function versionBlobKeys(db: Queryable, id: string): Promise<string[]> {
  const rows = await db.query<{ blob_key: string }>('select distinct blob_key from document_versions where document_id = $1', [id])
  return rows.map((r) => r.blob_key)
}
