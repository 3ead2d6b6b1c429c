/**
 * Documents: the public face of the documents room (spec §3). The jobs live beside it:
 * upload.ts (the upload pipeline), listing.ts (listing and its cursor codec), blobs.ts (the
 * blob lifecycle and its SQL), copy.ts (copy_document), source.ts (the one way to read a
 * document's source PDF). This file composes them and keeps the small rules of reading,
 * renaming and deleting.
 */
import type { Readable } from 'node:stream'
import type { Db, Queryable } from '../db/db.js'
import { FolioError } from '../errors.js'
import type { Logger } from '../log.js'
import type { BlobStore } from '../storage/blob-store.js'
import type { PdfWork } from '../workers/pool.js'
import type { StagedFile, StagingArea } from '../storage/staging.js'
import { releaseBlob, removeBlobBytes, sweepBlobs } from './blobs.js'
import { copyDocument } from './copy.js'
import { documentFacts, listDocuments, type ListQuery, type ListResult } from './listing.js'
import type { RemoteFetcher } from './remote.js'
import { createSourceAccessor, type DocumentSource } from './source.js'
import { createVersioning, type AnnotationSnapshot, type EditHooks, type NewFile, type VersionSummary } from './versions.js'
import * as store from './store.js'
import type { DocumentRow, PageRow } from './store.js'
import { checkTitle, createUploads, type CreateInput, type DocumentCreated, type UploadHook, type UploadPart, type UrlCreate } from './upload.js'

export type { PageRow }
export type { DocumentSummary, ListQuery, ListResult } from './listing.js'
export type { DocumentSource } from './source.js'
export { MAX_TITLE_LENGTH } from './upload.js'
export type { CreateInput, DocumentCreated, UploadHook, UploadPart, UrlCreate } from './upload.js'
export type { AnnotationSnapshot, EditHooks, NewFile, VersionSummary }

export interface DocumentInfo {
  document_id: string
  title: string
  pageCount: number
  pages: PageRow[]
}

export interface DocumentProperties {
  document_id: string
  title: string
  byteSize: number
  sourcePdfSha256: string
  passwordProtected: boolean
  createdAt: string
  updatedAt: string
  storage: { type: string }
}

const BULK_DELETE_MAX = 10_000

export interface DocumentService {
  /** Entries of the in-memory caches (metrics). */
  cacheSizes(): { sources: number }
  create(input: CreateInput): Promise<DocumentCreated>
  /** A multipart upload: the parts in the order they arrived. */
  createFromParts(parts: AsyncIterable<UploadPart>): Promise<DocumentCreated>
  /** 403 remote_documents_disabled unless a fetcher was configured (ALLOW_REMOTE_DOCUMENTS). */
  createFromUrl(input: UrlCreate): Promise<DocumentCreated>
  /** A remote file staged through the same SSRF-guarded fetcher and limits (Build API file parts by URL). */
  stageFromUrl(url: string, sha256?: string): Promise<StagedFile>
  /** Bytes staged under MAX_UPLOAD_SIZE_BYTES (413 beyond), for Build API file parts. */
  stage(source: Readable | AsyncIterable<Uint8Array>): Promise<StagedFile>
  list(q: ListQuery): Promise<ListResult>
  info(id: string): Promise<DocumentInfo>
  properties(id: string): Promise<DocumentProperties>
  setTitle(id: string, title: string): Promise<DocumentProperties>
  remove(id: string): Promise<void>
  bulkRemove(f: store.BulkFilter): Promise<{ deleted_count: number; skipped_count: number; total_matched: number }>
  exists(id: string): Promise<boolean>
  /** The source PDF of a document (download, rendering, annotation export); 404 document_not_found. */
  source(id: string): Promise<DocumentSource>
  /**
   * Called after any document's row changed, on this node (synchronously, after the commit) or
   * on another (from its notification): for caches of other rooms that hang on the document.
   */
  onChange(listener: (id: string) => void): () => void
  /** Listens for other nodes' document changes. */
  start(): Promise<void>
  close(): Promise<void>
  /** Finishes deletes interrupted by a crash. */
  sweep(): Promise<number>
  /**
   * copy_document (spec §3): a new document row sharing the source's blob (no second copy of
   * the bytes); `onCopied` runs in the same transaction (the annotations room copies layers).
   */
  copy(sourceId: string, newId: string | undefined, onCopied?: (tx: Queryable, newId: string) => Promise<void>): Promise<{ document_id: string }>
  /**
   * A persisted edit (apply_instructions, apply_operations): one transaction that keeps the
   * current state as a version, points the document at the staged file and runs `hooks.apply`
   * (annotations follow their pages). 409 edit_conflict when the document no longer holds
   * `expectedBlobKey`. See versions.ts.
   */
  replaceFile(id: string, expectedBlobKey: string, file: NewFile, reason: string, hooks: EditHooks): Promise<DocumentProperties>
  versions(id: string): Promise<VersionSummary[]>
  restoreVersion(id: string, version: number, hooks: Omit<EditHooks, 'apply'> & { restore(tx: Queryable, documentId: string, snapshot: AnnotationSnapshot): Promise<void> }): Promise<DocumentProperties>
}

export function createDocumentService(deps: {
  db: Db
  blobs: BlobStore
  staging: StagingArea
  log: Logger
  maxUploadBytes: number
  /** Present only when remote documents are allowed. */
  remote?: RemoteFetcher
  now?: () => Date
  onUpload?: UploadHook
  pdfWork: PdfWork
  /** DOCUMENT_CACHE_MAX_ENTRIES: per in-memory cache. */
  cacheMaxEntries?: number
  /** Previous versions kept per document after an edit (DOCUMENT_VERSIONS_KEPT). */
  versionsKept?: number
}): DocumentService {
  const { db, blobs, log } = deps
  const now = deps.now ?? (() => new Date())
  // document_info is what a viewer asks first and often: it is answered from the source
  // accessor's memo, like the page routes.
  const sources = createSourceAccessor({ db, blobs, log, maxEntries: deps.cacheMaxEntries })
  const listeners = new Set<(id: string) => void>()
  let unlisten: (() => Promise<void>) | undefined
  /** After a write to `id` committed, here or (from its notification) on another node. */
  const forget = (id: string) => {
    sources.forget(id)
    for (const l of listeners) l(id)
  }
  const removeBytes = (key: string) => removeBlobBytes({ db, blobs, log }, key)
  const uploads = createUploads({
    db, blobs, staging: deps.staging, maxUploadBytes: deps.maxUploadBytes, remote: deps.remote, now,
    onUpload: deps.onUpload, changed: forget, removeBlobBytes: removeBytes, pdfWork: deps.pdfWork,
  })

  async function get(id: string): Promise<DocumentRow> {
    const row = await store.findDocument(db, id)
    if (!row) throw new FolioError('document_not_found')
    return row
  }

  const versioning = createVersioning({
    db, blobs, keep: deps.versionsKept ?? 10, now, forget: (id) => forget(id), removeBlobBytes: removeBytes,
  })

  async function remove(id: string): Promise<void> {
    const released = await db.transaction(async (tx) => {
      const kept = await versioning.blobKeys(tx, id)
      const key = await store.deleteDocumentRow(tx, id) // its versions go with it (on delete cascade)
      if (key === undefined) throw new FolioError('document_not_found')
      const gone: string[] = []
      for (const k of new Set([key, ...kept])) if (await releaseBlob(tx, k)) gone.push(k)
      return gone
    })
    forget(id)
    for (const key of released) await removeBytes(key)
  }

  return {
    cacheSizes: () => ({ sources: sources.size }),
    create: uploads.create,
    createFromParts: uploads.createFromParts,
    createFromUrl: uploads.createFromUrl,
    stage: uploads.stage,
    list: (q) => listDocuments(db, q),

    async info(id) {
      const s = await sources.get(id)
      if (s.pageCount === null || s.pages === null) {
        throw new FolioError('invalid_pdf', { reason: 'encrypted_unreadable' }, {
          message: 'The document is encrypted and its pages cannot be read without its password',
        })
      }
      return { document_id: s.documentId, title: s.title, pageCount: s.pageCount, pages: s.pages }
    },

    async properties(id) {
      return properties(await get(id))
    },

    async setTitle(id, title) {
      checkTitle(title)
      if (!(await store.updateTitle(db, id, title, now()))) throw new FolioError('document_not_found')
      forget(id)
      return properties(await get(id))
    },

    remove,

    async stageFromUrl(url, sha256) {
      const remote = deps.remote
      if (!remote) throw new FolioError('remote_documents_disabled')
      const staged = await remote.fetch(url, (source) => deps.staging.stage(source.body, { maxBytes: deps.maxUploadBytes }))
      if (sha256 !== undefined && staged.sha256 !== sha256.toLowerCase()) {
        await staged.discard()
        throw new FolioError('hash_mismatch')
      }
      return staged
    },

    async replaceFile(id, expectedBlobKey, file, reason, hooks) {
      await versioning.replaceFile(id, expectedBlobKey, file, reason, hooks)
      return properties(await get(id))
    },

    versions: (id) => versioning.list(id),

    async restoreVersion(id, version, hooks) {
      await versioning.restore(id, version, hooks)
      return properties(await get(id))
    },

    async bulkRemove(f) {
      const ids = await store.findForBulkDelete(db, f, BULK_DELETE_MAX)
      let deleted = 0
      let skipped = 0
      for (const id of ids) {
        try {
          await remove(id)
          deleted++
        } catch (e) {
          // Deleted concurrently by someone else: counted as skipped, not an error.
          if (e instanceof FolioError && e.code === 'document_not_found') skipped++
          else throw e
        }
      }
      return { deleted_count: deleted, skipped_count: skipped, total_matched: ids.length }
    },

    async exists(id) {
      return (await store.findDocument(db, id)) !== undefined
    },

    source: (id) => sources.get(id),
    onChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async start() {
      unlisten = await db.listen(store.DOCUMENTS_CHANNEL, forget)
    },
    async close() {
      await unlisten?.().catch(() => {})
      unlisten = undefined
    },
    sweep: () => sweepBlobs({ db, blobs, log }),
    copy: (sourceId, newId, onCopied) => copyDocument({ db, now }, sourceId, newId, onCopied),
  }
}

function properties(r: DocumentRow): DocumentProperties {
  return {
    document_id: r.id,
    ...documentFacts(r),
    updatedAt: r.updated_at.toISOString(),
    storage: { type: r.backend },
  }
}
