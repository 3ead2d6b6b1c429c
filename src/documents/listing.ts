/**
 * Listing documents (spec §3 `GET /api/documents`): keyset pagination with opaque cursors in
 * both directions, and the total count.
 */
import type { Queryable } from '../db/db.js'
import { FolioError } from '../errors.js'
import * as store from './store.js'
import type { DocumentRow } from './store.js'

export interface DocumentSummary {
  id: string
  title: string
  byteSize: number
  sourcePdfSha256: string
  passwordProtected: boolean
  createdAt: string
}

export interface ListQuery {
  pageSize: number
  cursor?: string
  title?: string
  orderBy: store.OrderBy
  direction: store.Direction
}

export interface ListResult {
  data: DocumentSummary[]
  next_cursor: string | null
  prev_cursor: string | null
  document_count: number
}

export async function listDocuments(db: Queryable, q: ListQuery): Promise<ListResult> {
  const filter = { title: q.title }
  let direction = q.direction
  let after: store.Position | undefined
  let backwards = false
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor, q.orderBy, q.direction)
    after = c.position
    backwards = c.backwards
    // Walking back: read the rows before the position in reverse, then restore the order.
    if (backwards) direction = q.direction === 'asc' ? 'desc' : 'asc'
  }
  const rows = await store.listDocuments(db, { filter, orderBy: q.orderBy, direction, after, limit: q.pageSize + 1 })
  const more = rows.length > q.pageSize
  const page = rows.slice(0, q.pageSize)
  if (backwards) page.reverse()
  const first = page[0]
  const last = page[page.length - 1]
  // Whether rows exist on the other side of this page: after a forward step there were rows
  // before it (we came from them), and the reverse; verified with a one-row query.
  const hasBefore = first ? (backwards ? more : await existsBeyond(db, first, q, 'before')) : false
  const hasAfter = last ? (backwards ? await existsBeyond(db, last, q, 'after') : more) : false
  return {
    data: page.map(summary),
    next_cursor: hasAfter && last ? encodeCursor(false, positionOf(last, q.orderBy), q) : null,
    prev_cursor: hasBefore && first ? encodeCursor(true, positionOf(first, q.orderBy), q) : null,
    document_count: await store.countDocuments(db, filter),
  }
}

async function existsBeyond(db: Queryable, row: DocumentRow, q: ListQuery, side: 'before' | 'after'): Promise<boolean> {
  const forward = side === 'after'
  const direction = forward ? q.direction : q.direction === 'asc' ? 'desc' : 'asc'
  const rows = await store.listDocuments(db, {
    filter: { title: q.title },
    orderBy: q.orderBy,
    direction,
    after: positionOf(row, q.orderBy),
    limit: 1,
  })
  return rows.length > 0
}

/** What a listing and the properties both say about a document (DocumentSummary without the id). */
export function documentFacts(r: DocumentRow): Omit<DocumentSummary, 'id'> {
  return {
    title: r.title,
    byteSize: r.byte_size,
    sourcePdfSha256: r.source_sha256,
    passwordProtected: r.password_protected,
    createdAt: r.created_at.toISOString(),
  }
}

function summary(r: DocumentRow): DocumentSummary {
  return { id: r.id, ...documentFacts(r) }
}

function positionOf(r: DocumentRow, orderBy: store.OrderBy): store.Position {
  return { value: orderBy === 'title' ? r.title : r.created_at.toISOString(), id: r.id }
}

// Cursors are opaque to clients: base64url JSON [direction, orderBy, order, value, id]. They are
// bound to the ordering they were made for; a cursor used with another ordering is refused.
function encodeCursor(backwards: boolean, p: store.Position, q: ListQuery): string {
  return Buffer.from(JSON.stringify([backwards ? 'prev' : 'next', q.orderBy, q.direction, p.value, p.id])).toString('base64url')
}

function decodeCursor(cursor: string, orderBy: store.OrderBy, direction: store.Direction): { backwards: boolean; position: store.Position } {
  try {
    if (cursor.length > 2048) throw new Error('long')
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (
      Array.isArray(v) && v.length === 5 && (v[0] === 'prev' || v[0] === 'next') && v[1] === orderBy &&
      v[2] === direction && typeof v[3] === 'string' && typeof v[4] === 'string' &&
      (orderBy === 'title' || !Number.isNaN(Date.parse(v[3])))
    ) {
      return { backwards: v[0] === 'prev', position: { value: v[3], id: v[4] } }
    }
  } catch {
    // fall through
  }
  throw new FolioError('invalid_cursor')
}
