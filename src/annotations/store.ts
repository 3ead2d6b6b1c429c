/**
 * SQL for annotations, layers and their change log; imported only by annotations/service.ts and
 * annotations/events.ts (the change log's reader). Batches travel as ONE JSON parameter expanded
 * with jsonb_to_recordset, so a batch of 1000 is one statement on both drivers (a `$1::text`
 * cast keeps postgres.js from serialising the text twice).
 */
import type { Queryable } from '../db/db.js'

export const NOTIFY_CHANNEL = 'folio_annotations'

export interface AnnotationRow {
  id: string
  page_index: number
  content: Record<string, unknown>
  group_name: string | null
  created_by: string | null
  updated_by: string | null
  version: number
  created_at: Date
  updated_at: Date
}

/** A row to write, times as ISO text. */
export type NewRow = Omit<AnnotationRow, 'created_at' | 'updated_at'> & { created_at: string; updated_at: string }

export type ChangeOp = 'created' | 'updated' | 'deleted' | 'reset'

export interface NewChange {
  seq: number
  layer: string
  op: ChangeOp
  annotation_id: string | null
  record: unknown
  changed_at: string
}

export interface ChangeRow {
  seq: number
  layer: string
  op: ChangeOp
  annotation_id: string | null
  record: Record<string, unknown> | null
}

const ROW_TYPES = `id text, page_index integer, content jsonb, group_name text, created_by text, updated_by text,
  version integer, created_at timestamptz, updated_at timestamptz`
const COLUMNS = 'id, page_index, content, group_name, created_by, updated_by, version, created_at, updated_at'

// ---- the per-document sequence (and the writers' lock) ----

/**
 * Reserves `n` sequence numbers for a write to `documentId` and takes the row lock that orders
 * writers of that document until commit. Returns the first reserved number. A missing document
 * fails with a foreign-key violation (23503), which the service reports as not found.
 */
export async function claimSeqs(tx: Queryable, documentId: string, n: number): Promise<number> {
  const rows = await tx.query<{ last_seq: number }>(
    `insert into annotation_sequences (document_id, last_seq) values ($1, $2)
     on conflict (document_id) do update set last_seq = annotation_sequences.last_seq + excluded.last_seq
     returning last_seq`,
    [documentId, n],
  )
  return rows[0]!.last_seq - n + 1
}

/** After `claimSeqs(tx, id, 0)` (the lock), records `n` more changes. */
export async function advanceSeq(tx: Queryable, documentId: string, n: number): Promise<void> {
  await tx.query('update annotation_sequences set last_seq = last_seq + $2 where document_id = $1', [documentId, n])
}

export async function lastSeq(db: Queryable, documentId: string): Promise<number> {
  const rows = await db.query<{ last_seq: number }>('select last_seq from annotation_sequences where document_id = $1', [documentId])
  return rows[0]?.last_seq ?? 0
}

export async function lastSeqs(db: Queryable, documentIds: string[]): Promise<Map<string, number>> {
  const rows = await db.query<{ document_id: string; last_seq: number }>(
    'select document_id, last_seq from annotation_sequences where document_id = any($1::text[])',
    [documentIds],
  )
  return new Map(rows.map((r) => [r.document_id, r.last_seq]))
}

// ---- annotations ----

export async function insertAnnotations(tx: Queryable, documentId: string, layer: string, rows: NewRow[]): Promise<string[]> {
  const inserted = await tx.query<{ id: string }>(
    `insert into annotations (document_id, layer, ${COLUMNS})
     select $1, $2, ${COLUMNS} from jsonb_to_recordset($3::text::jsonb) as r(${ROW_TYPES})
     on conflict do nothing
     returning id`,
    [documentId, layer, JSON.stringify(rows)],
  )
  return inserted.map((r) => r.id)
}

/** Locks the named annotations (inside the document's writer lock) and returns what exists. */
export async function lockAnnotations(tx: Queryable, documentId: string, layer: string, ids: string[]): Promise<AnnotationRow[]> {
  return tx.query<AnnotationRow & Record<string, unknown>>(
    `select ${COLUMNS} from annotations where document_id = $1 and layer = $2 and id = any($3::text[]) for update`,
    [documentId, layer, ids],
  )
}

export async function updateAnnotations(tx: Queryable, documentId: string, layer: string, rows: NewRow[]): Promise<void> {
  await tx.query(
    `update annotations a set page_index = r.page_index, content = r.content, group_name = r.group_name,
       updated_by = r.updated_by, version = r.version, updated_at = r.updated_at
     from jsonb_to_recordset($3::text::jsonb) as r(${ROW_TYPES})
     where a.document_id = $1 and a.layer = $2 and a.id = r.id`,
    [documentId, layer, JSON.stringify(rows)],
  )
}

export async function deleteAnnotations(tx: Queryable, documentId: string, layer: string, ids: string[] | 'all'): Promise<string[]> {
  const rows = ids === 'all'
    ? await tx.query<{ id: string }>('delete from annotations where document_id = $1 and layer = $2 returning id', [documentId, layer])
    : await tx.query<{ id: string }>(
        'delete from annotations where document_id = $1 and layer = $2 and id = any($3::text[]) returning id',
        [documentId, layer, ids],
      )
  return rows.map((r) => r.id).sort()
}

export async function getAnnotation(db: Queryable, documentId: string, layer: string, id: string): Promise<AnnotationRow | undefined> {
  const rows = await db.query<AnnotationRow & Record<string, unknown>>(
    `select ${COLUMNS} from annotations where document_id = $1 and layer = $2 and id = $3`,
    [documentId, layer, id],
  )
  return rows[0]
}

/** A page of the listing order (created_at, id), strictly after `after`. */
export async function listAnnotations(
  db: Queryable,
  documentId: string,
  layer: string,
  q: { after?: { createdAt: Date; id: string }; limit: number },
): Promise<AnnotationRow[]> {
  if (q.after) {
    return db.query<AnnotationRow & Record<string, unknown>>(
      `select ${COLUMNS} from annotations where document_id = $1 and layer = $2 and (created_at, id) > ($3::timestamptz, $4)
       order by created_at, id limit $5`,
      [documentId, layer, q.after.createdAt.toISOString(), q.after.id, q.limit],
    )
  }
  return db.query<AnnotationRow & Record<string, unknown>>(
    `select ${COLUMNS} from annotations where document_id = $1 and layer = $2 order by created_at, id limit $3`,
    [documentId, layer, q.limit],
  )
}

/** Content of every annotation of a layer, in page order then listing order (for the export). */
export async function annotationsForExport(db: Queryable, documentId: string, layer: string): Promise<AnnotationRow[]> {
  return db.query<AnnotationRow & Record<string, unknown>>(
    `select ${COLUMNS} from annotations where document_id = $1 and layer = $2 order by page_index, created_at, id`,
    [documentId, layer],
  )
}

/** Content of the annotations of one page of a layer, in listing order (drawn over page images). */
export async function annotationsOnPage(db: Queryable, documentId: string, layer: string, pageIndex: number): Promise<AnnotationRow[]> {
  return db.query<AnnotationRow & Record<string, unknown>>(
    `select ${COLUMNS} from annotations where document_id = $1 and layer = $2 and page_index = $3 order by created_at, id`,
    [documentId, layer, pageIndex],
  )
}

/** Annotations of a layer that came from the given PDF objects (Instant JSON skippedPdfObjectIds). */
export async function idsByPdfObjectIds(tx: Queryable, documentId: string, layer: string, nums: number[]): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `select id from annotations where document_id = $1 and layer = $2 and (content->>'pdfObjectId')::bigint = any($3::bigint[])
     for update`,
    [documentId, layer, nums],
  )
  return rows.map((r) => r.id)
}

// ---- layers ----

export async function listLayers(db: Queryable, documentId: string): Promise<string[]> {
  const rows = await db.query<{ name: string }>('select name from annotation_layers where document_id = $1 order by name', [documentId])
  return rows.map((r) => r.name)
}

export async function layerExists(db: Queryable, documentId: string, name: string): Promise<boolean> {
  const rows = await db.query('select 1 from annotation_layers where document_id = $1 and name = $2', [documentId, name])
  return rows.length > 0
}

/** Creates the layer row; returns false when it existed. */
export async function insertLayer(tx: Queryable, documentId: string, name: string, now: string): Promise<boolean> {
  const rows = await tx.query(
    'insert into annotation_layers (document_id, name, created_at) values ($1, $2, $3) on conflict do nothing returning name',
    [documentId, name, now],
  )
  return rows.length === 1
}

export async function deleteLayer(tx: Queryable, documentId: string, name: string): Promise<boolean> {
  const rows = await tx.query('delete from annotation_layers where document_id = $1 and name = $2 returning name', [documentId, name])
  return rows.length === 1
}

/** Copies every annotation of one layer into another (same ids, versions restart at 1). */
export async function copyLayerAnnotations(tx: Queryable, documentId: string, from: string, to: string, now: string): Promise<AnnotationRow[]> {
  return tx.query<AnnotationRow & Record<string, unknown>>(
    `insert into annotations (document_id, layer, ${COLUMNS})
     select document_id, $3, id, page_index, content, group_name, created_by, updated_by, 1, $4, $4
     from annotations where document_id = $1 and layer = $2
     returning ${COLUMNS}`,
    [documentId, from, to, now],
  )
}

/** copy_document: every layer and annotation of `from` under the new document `to`. */
export async function copyDocumentAnnotations(tx: Queryable, from: string, to: string): Promise<void> {
  await tx.query(
    `insert into annotation_layers (document_id, name, created_at)
     select $2, name, created_at from annotation_layers where document_id = $1`,
    [from, to],
  )
  await tx.query(
    `insert into annotations (document_id, layer, ${COLUMNS})
     select $2, layer, ${COLUMNS} from annotations where document_id = $1`,
    [from, to],
  )
}

/** Overwriting a document's file: its annotations and layers go (the change log keeps counting). */
export async function clearDocument(tx: Queryable, documentId: string): Promise<void> {
  await tx.query('delete from annotations where document_id = $1', [documentId])
  await tx.query('delete from annotation_layers where document_id = $1', [documentId])
}

// ---- change log ----

export async function insertChanges(tx: Queryable, documentId: string, changes: NewChange[]): Promise<void> {
  if (changes.length === 0) return
  await tx.query(
    `insert into annotation_changes (document_id, seq, layer, op, annotation_id, record, changed_at)
     select $1, seq, layer, op, annotation_id, record, changed_at
     from jsonb_to_recordset($2::text::jsonb) as r(seq bigint, layer text, op text, annotation_id text, record jsonb, changed_at timestamptz)`,
    [documentId, JSON.stringify(changes)],
  )
  // Delivered at commit, and only if it commits (PostgreSQL NOTIFY semantics).
  await tx.query('select pg_notify($1, $2)', [NOTIFY_CHANNEL, documentId])
}

export async function changesAfter(db: Queryable, documentId: string, afterSeq: number, limit: number): Promise<ChangeRow[]> {
  return db.query<ChangeRow & Record<string, unknown>>(
    `select seq, layer, op, annotation_id, record from annotation_changes
     where document_id = $1 and seq > $2 order by seq limit $3`,
    [documentId, afterSeq, limit],
  )
}

/** The oldest change still kept for a document (undefined when none is). */
export async function oldestSeq(db: Queryable, documentId: string): Promise<number | undefined> {
  const rows = await db.query<{ seq: number | null }>('select min(seq) as seq from annotation_changes where document_id = $1', [documentId])
  return rows[0]?.seq ?? undefined
}

export async function pruneChanges(db: Queryable, before: Date): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `with gone as (delete from annotation_changes where changed_at < $1 returning 1) select count(*)::int as n from gone`,
    [before.toISOString()],
  )
  return rows[0]?.n ?? 0
}
