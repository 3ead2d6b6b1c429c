/**
 * Bookmarks (Instant JSON `pspdfkit/bookmark` records) per document and layer: Document
 * Engine's list / create / update / delete, and the `bookmarks` of document.json and
 * apply_instant_json (called by the annotation service inside its transaction).
 */
import { sqlState, type Db, type Queryable } from '../db/db.js'
import { FolioError } from '../errors.js'
import { newAnnotationId } from '../annotations/ids.js'
import * as store from './store.js'
import { bookmarkId, MAX_BOOKMARKS, validateBookmark, type BookmarkContent } from './validate.js'

export interface BookmarkRecord {
  id: string
  content: Record<string, unknown>
  createdBy: string | null
  updatedBy: string | null
}

export interface BookmarkDeps {
  db: Db
  documents: { info(id: string): Promise<{ pageCount: number }>; exists(id: string): Promise<boolean> }
  now?: () => Date
}

function toRecord(r: store.BookmarkRow): BookmarkRecord {
  return { id: r.id, content: r.content, createdBy: r.created_by, updatedBy: r.updated_by }
}

export function createBookmarkService(deps: BookmarkDeps) {
  const { db } = deps
  const now = deps.now ?? (() => new Date())

  async function pageCount(documentId: string): Promise<number> {
    return (await deps.documents.info(documentId)).pageCount // 404 document_not_found
  }

  function write<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return db.transaction(fn).catch((e: unknown) => {
      if (sqlState(e) === '23503') throw new FolioError('document_not_found', {}, { cause: e })
      throw e
    })
  }

  const service = {
    async list(documentId: string, layer: string): Promise<BookmarkRecord[]> {
      if (!(await deps.documents.exists(documentId))) throw new FolioError('document_not_found')
      return (await store.list(db, documentId, layer, MAX_BOOKMARKS)).map(toRecord)
    },

    async create(documentId: string, layer: string, userId: string | null, body: { id?: unknown; content?: unknown }): Promise<{ id: string }> {
      const content = validateBookmark(body.content, await pageCount(documentId))
      const id = body.id === undefined ? newAnnotationId() : bookmarkId(body.id)
      await write(async (tx) => {
        if ((await store.count(tx, documentId, layer)) >= MAX_BOOKMARKS) throw new FolioError('too_many_bookmarks', { limit: MAX_BOOKMARKS })
        if (!(await store.insert(tx, documentId, layer, id, content, userId, now().toISOString()))) throw new FolioError('bookmark_exists', { bookmarkId: id })
      })
      return { id }
    },

    async update(documentId: string, layer: string, id: string, userId: string | null, body: { content?: unknown }): Promise<BookmarkRecord> {
      const content = validateBookmark(body.content, await pageCount(documentId))
      const row = await store.update(db, documentId, layer, bookmarkIdOr404(id), content, userId, now().toISOString())
      if (!row) throw new FolioError('bookmark_not_found')
      return toRecord(row)
    },

    async remove(documentId: string, layer: string, id: string): Promise<{ id: string }> {
      if (!(await store.remove(db, documentId, layer, bookmarkIdOr404(id)))) {
        if (!(await deps.documents.exists(documentId))) throw new FolioError('document_not_found')
        throw new FolioError('bookmark_not_found')
      }
      return { id }
    },

    /** The `bookmarks` of an Instant JSON document (content with its id, as the reference shows them). */
    async instantJson(documentId: string, layer: string): Promise<Array<Record<string, unknown>>> {
      return (await store.list(db, documentId, layer, MAX_BOOKMARKS)).map((r) => ({ ...r.content, id: r.id }))
    },

    /** Validates apply_instant_json's `bookmarks` before the transaction (throws 400 invalid_bookmark). */
    parseInstantJson(raw: unknown, pages: number): Array<{ id: string; content: BookmarkContent }> {
      if (raw === undefined) return []
      if (!Array.isArray(raw) || raw.length > MAX_BOOKMARKS) throw new FolioError('invalid_bookmark', { path: '$.bookmarks' }, { message: `"bookmarks" must be an array of at most ${MAX_BOOKMARKS}` })
      return raw.map((b, i) => {
        const { id, ...content } = (typeof b === 'object' && b !== null ? b : {}) as Record<string, unknown>
        return { id: id === undefined ? newAnnotationId() : bookmarkId(id, `$.bookmarks[${i}].id`), content: validateBookmark(content, pages, `$.bookmarks[${i}]`) }
      })
    },

    /** Writes parsed bookmarks inside the caller's transaction (insert or replace by id). */
    async applyInTx(tx: Queryable, documentId: string, layer: string, userId: string | null, items: Array<{ id: string; content: BookmarkContent }>): Promise<number> {
      const at = now().toISOString()
      for (const b of items) await store.upsert(tx, documentId, layer, b.id, b.content, userId, at)
      if (items.length > 0 && (await store.count(tx, documentId, layer)) > MAX_BOOKMARKS) throw new FolioError('too_many_bookmarks', { limit: MAX_BOOKMARKS })
      return items.length
    },
  }
  return service
}

/** An id that cannot exist is answered like a missing one. */
function bookmarkIdOr404(raw: string): string {
  try {
    return bookmarkId(raw)
  } catch {
    throw new FolioError('bookmark_not_found')
  }
}

export type BookmarkService = ReturnType<typeof createBookmarkService>
