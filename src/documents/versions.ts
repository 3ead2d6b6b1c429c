/**
 * Persisted edits and kept versions of a document (document editing; Folio's addition for the
 * versions). An edit's new file is staged and inspected before this runs; then ONE transaction
 * locks the document row, checks it still holds the file the edit was built from, keeps the
 * current state as a version (file + the annotation snapshot the annotations room hands in),
 * claims the new blob, points the row at it, lets the annotations room move annotations with
 * their pages, writes the bytes, and drops versions beyond the retention. A crash anywhere
 * before the commit leaves the previous state, file and annotations; after it, at worst
 * unreferenced bytes under a valid key (the blob lifecycle of service.ts).
 */
import type { Db, Queryable } from '../db/db.js'
import { FolioError } from '../errors.js'
import type { BlobStore } from '../storage/blob-store.js'
import type { StagedFile } from '../storage/staging.js'
import * as blobRows from './blobs.js'
import * as store from './store.js'
import type { PageRow } from './store.js'

export interface AnnotationSnapshot { layers: string[]; annotations: unknown[] }

/** What the annotations room does inside an edit's transaction. */
export interface EditHooks {
  snapshot(tx: Queryable, documentId: string): Promise<AnnotationSnapshot>
  /** After the row points at the new file: move, drop, copy or restore annotations. */
  apply(tx: Queryable, documentId: string, previous: store.DocumentRow): Promise<void>
}

export interface NewFile {
  staged: StagedFile
  pageCount: number
  pages: PageRow[]
  pdfVersion: string
  passwordProtected: boolean
  title?: string
}

export interface VersionSummary {
  version: number
  current: boolean
  title: string
  byteSize: number
  sha256: string
  pageCount: number | null
  annotationCount: number | null
  createdAt: string
  replacedAt: string | null
  replacedBy: string | null
}

export function createVersioning(deps: {
  db: Db
  blobs: BlobStore
  keep: number
  now: () => Date
  forget(id: string): void
  removeBlobBytes(key: string): Promise<void>
}) {
  const { db, blobs } = deps

  async function commit(id: string, expectedBlobKey: string | undefined, file: store.FileState, reason: string, hooks: EditHooks, bytes?: StagedFile): Promise<void> {
    const at = deps.now()
    const released = await db.transaction(async (tx) => {
      const current = await store.lockDocument(tx, id)
      if (!current) throw new FolioError('document_not_found')
      // Built from a file the document no longer holds (a concurrent edit or upload won).
      if (expectedBlobKey !== undefined && current.blob_key !== expectedBlobKey) throw new FolioError('edit_conflict')
      const gone: string[] = []
      if (deps.keep > 0) await store.insertVersion(tx, current, await hooks.snapshot(tx, id), reason, at)
      const fresh = await blobRows.claimBlob(tx, file.blobKey, file.byteSize, blobs.type)
      await store.setFile(tx, id, file, at)
      await hooks.apply(tx, id, current)
      if (bytes && (fresh || !(await blobs.exists(file.blobKey, { tx })))) {
        await blobs.put(file.blobKey, bytes, { tx })
        await blobRows.setBlobBackend(tx, file.blobKey, blobs.type)
      }
      const candidates = [...(deps.keep > 0 ? await store.pruneVersions(tx, id, deps.keep) : []), ...(deps.keep === 0 ? [current.blob_key] : [])]
      for (const key of new Set(candidates)) if (key !== file.blobKey && (await blobRows.releaseBlob(tx, key))) gone.push(key)
      return gone
    })
    deps.forget(id)
    for (const key of released) await deps.removeBlobBytes(key)
  }

  return {
    /** Persists an edit's result (the staged file is discarded by the caller). */
    async replaceFile(id: string, expectedBlobKey: string, file: NewFile, reason: string, hooks: EditHooks): Promise<void> {
      await commit(id, expectedBlobKey, {
        blobKey: file.staged.sha256,
        byteSize: file.staged.size,
        passwordProtected: file.passwordProtected,
        pageCount: file.pageCount,
        pages: file.pages,
        pdfVersion: file.pdfVersion,
        title: file.title,
      }, reason, hooks, file.staged)
    },

    async list(id: string): Promise<VersionSummary[]> {
      const doc = await store.findDocument(db, id)
      if (!doc) throw new FolioError('document_not_found')
      const rows = await store.listVersions(db, id)
      return [
        {
          version: doc.version, current: true, title: doc.title, byteSize: doc.byte_size, sha256: doc.blob_key, pageCount: doc.page_count,
          annotationCount: null, createdAt: doc.updated_at.toISOString(), replacedAt: null, replacedBy: null,
        },
        ...rows.map((r) => ({
          version: r.version, current: false, title: r.title, byteSize: Number(r.byte_size), sha256: r.blob_key, pageCount: r.page_count,
          annotationCount: r.annotation_count, createdAt: r.created_at.toISOString(), replacedAt: r.replaced_at.toISOString(), replacedBy: r.replaced_by,
        })),
      ]
    },

    /** Makes a kept version current again (file and annotations); the state it replaces is kept. */
    async restore(id: string, version: number, hooks: Omit<EditHooks, 'apply'> & { restore(tx: Queryable, documentId: string, snapshot: AnnotationSnapshot): Promise<void> }): Promise<void> {
      const v = await store.findVersion(db, id, version)
      if (!v) {
        if (!(await store.findDocument(db, id))) throw new FolioError('document_not_found')
        throw new FolioError('version_not_found')
      }
      await commit(id, undefined, {
        blobKey: v.blob_key, byteSize: Number(v.byte_size), passwordProtected: v.password_protected, pageCount: v.page_count,
        pages: v.pages, pdfVersion: v.pdf_version, title: v.title,
      }, 'restore', { snapshot: hooks.snapshot, apply: (tx, docId) => hooks.restore(tx, docId, { layers: v.layers, annotations: v.annotations }) })
    },

    /** The blobs of a document's versions (released when the document is deleted). */
    blobKeys: (tx: Queryable, id: string) => store.versionBlobKeys(tx, id),
  }
}

export type Versioning = ReturnType<typeof createVersioning>
