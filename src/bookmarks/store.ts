/** SQL of the bookmarks table (migration 0110). Imported by bookmarks/service.ts only. */
import type { Queryable } from '../db/db.js'

export interface BookmarkRow {
  id: string
  content: Record<string, unknown>
  created_by: string | null
  updated_by: string | null
  created_at: Date
  updated_at: Date
}

// content is sent as text and cast, so both drivers store the object (postgres.js would JSON-encode a string again).
const COLUMNS = 'id, content, created_by, updated_by, created_at, updated_at'

export function list(db: Queryable, documentId: string, layer: string, limit: number): Promise<BookmarkRow[]> {
  return db.query<BookmarkRow & Record<string, unknown>>(
    `select ${COLUMNS} from bookmarks where document_id = $1 and layer = $2 order by created_at, id limit $3`,
    [documentId, layer, limit],
  )
}

export async function count(db: Queryable, documentId: string, layer: string): Promise<number> {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from bookmarks where document_id = $1 and layer = $2', [documentId, layer])
  return row?.n ?? 0
}

export async function insert(db: Queryable, documentId: string, layer: string, id: string, content: unknown, user: string | null, at: string): Promise<boolean> {
  const rows = await db.query(
    `insert into bookmarks (document_id, layer, id, content, created_by, updated_by, created_at, updated_at)
     values ($1, $2, $3, ($4::text)::jsonb, $5, $5, $6, $6) on conflict do nothing returning id`,
    [documentId, layer, id, JSON.stringify(content), user, at],
  )
  return rows.length === 1
}

/** Insert or replace (apply_instant_json); the creator of an existing bookmark is kept. */
export async function upsert(db: Queryable, documentId: string, layer: string, id: string, content: unknown, user: string | null, at: string): Promise<void> {
  await db.query(
    `insert into bookmarks (document_id, layer, id, content, created_by, updated_by, created_at, updated_at)
     values ($1, $2, $3, ($4::text)::jsonb, $5, $5, $6, $6)
     on conflict (document_id, layer, id) do update set content = excluded.content, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
    [documentId, layer, id, JSON.stringify(content), user, at],
  )
}

export async function update(db: Queryable, documentId: string, layer: string, id: string, content: unknown, user: string | null, at: string): Promise<BookmarkRow | undefined> {
  const [row] = await db.query<BookmarkRow & Record<string, unknown>>(
    `update bookmarks set content = ($4::text)::jsonb, updated_by = $5, updated_at = $6 where document_id = $1 and layer = $2 and id = $3 returning ${COLUMNS}`,
    [documentId, layer, id, JSON.stringify(content), user, at],
  )
  return row
}

export async function remove(db: Queryable, documentId: string, layer: string, id: string): Promise<boolean> {
  return (await db.query('delete from bookmarks where document_id = $1 and layer = $2 and id = $3 returning id', [documentId, layer, id])).length === 1
}
