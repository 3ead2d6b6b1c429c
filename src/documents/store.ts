/**
 * SQL for the `documents` rows and their listing; imported only by the documents room
 * (the `blobs` rows are in blobs.ts). A unique violation becomes `document_exists` here, where
 * the SQL is (HOUSE-STYLE §3: SQLSTATE translated at the store).
 */
import type { Queryable } from '../db/db.js'
import { sqlState } from '../db/db.js'
import { FolioError } from '../errors.js'

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

/**
 * Every write of a document row announces the id on this channel, delivered at commit to every
 * node (PGlite: in process), so each node's memo of the row (source.ts) and what hangs on it
 * (annotation versions) is forgotten at once instead of after its time to live.
 */
export const DOCUMENTS_CHANNEL = 'folio_documents'

async function announce(db: Queryable, id: string): Promise<void> {
  await db.query('select pg_notify($1, $2)', [DOCUMENTS_CHANNEL, id])
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

/** Translates the unique violation of the documents' primary key: another upload took the id. */
function documentExists(e: unknown): never {
  if (sqlState(e) === '23505') throw new FolioError('document_exists', {}, { cause: e })
  throw e
}

export async function insertDocument(db: Queryable, d: NewDocument): Promise<void> {
  await db.query(
    `insert into documents (id, title, blob_key, byte_size, source_sha256, password_protected,
       page_count, pages, pdf_version, created_at, updated_at)
     values ($1, $2, $3, $4, $3, $5, $6, $7, $8, $9, $9)`,
    [d.id, d.title, d.blobKey, d.byteSize, d.passwordProtected, d.pageCount, d.pages, d.pdfVersion, d.now.toISOString()],
  ).catch(documentExists)
  await announce(db, d.id)
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
  await announce(db, d.id)
}

export async function updateTitle(db: Queryable, id: string, title: string, now: Date): Promise<boolean> {
  const rows = await db.query(
    'with u as (update documents set title = $2, updated_at = $3 where id = $1 returning id) select pg_notify($4, id) from u',
    [id, title, now.toISOString(), DOCUMENTS_CHANNEL],
  )
  return rows.length === 1
}

export async function deleteDocumentRow(db: Queryable, id: string): Promise<string | undefined> {
  const rows = await db.query<{ blob_key: string }>(
    'with d as (delete from documents where id = $1 returning id, blob_key) select blob_key, pg_notify($2, id) from d',
    [id, DOCUMENTS_CHANNEL],
  )
  return rows[0]?.blob_key
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
