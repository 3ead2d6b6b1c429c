/**
 * copy_document (spec §3): a new document row sharing the source's blob (no second copy of the
 * bytes); `onCopied` runs in the same transaction (the annotations room copies layers).
 */
import type { Db, Queryable } from '../db/db.js'
import { FolioError } from '../errors.js'
import { newDocumentId, parseDocumentId } from './ids.js'
import * as store from './store.js'

export async function copyDocument(
  deps: { db: Db; now: () => Date },
  sourceId: string,
  newId: string | undefined,
  onCopied?: (tx: Queryable, newId: string) => Promise<void>,
): Promise<{ document_id: string }> {
  const id = newId === undefined ? newDocumentId() : parseDocumentId(newId)
  const createdAt = deps.now()
  await deps.db.transaction(async (tx) => {
    // Locking the source row keeps its blob referenced (never `deleting`) until we commit.
    const src = await store.lockDocument(tx, sourceId)
    if (!src) throw new FolioError('document_not_found')
    await store.insertDocument(tx, {
      id,
      title: src.title,
      blobKey: src.blob_key,
      byteSize: src.byte_size,
      passwordProtected: src.password_protected,
      pageCount: src.page_count,
      pages: src.pages,
      pdfVersion: src.pdf_version,
      now: createdAt,
    })
    await onCopied?.(tx, id)
  })
  return { document_id: id }
}
