/**
 * Documents: the rules for creating, listing, reading and deleting documents (spec §3).
 *
 * Blob lifecycle (content-addressed, shared by identical uploads):
 *  - create: stage bytes to a temp file → inspect → in one transaction: lock/insert the blob row,
 *    insert the document row, and only then move the bytes under their key. A failure before the
 *    commit leaves no row; a failure after the move leaves at worst unreferenced bytes under a
 *    valid key, never a row without its blob.
 *  - delete: transaction 1 removes the document row and, if no other document uses the blob,
 *    marks the blob `deleting`; transaction 2 locks the blob row and, if it is still marked,
 *    removes the bytes and the row. An upload of the same bytes in between clears the mark under
 *    the same lock, so it can never lose its bytes. A crash between the two phases is finished
 *    by `sweep()` at the next start.
 */
import type { Readable } from 'node:stream'
import type { Db, Queryable } from '../db/db.js'
import { sqlState } from '../db/db.js'
import { FolioError } from '../errors.js'
import type { Logger } from '../log.js'
import { inspectPdf, openFileReader, PdfInspectError, type PdfInfo, type RandomAccessReader } from '../pdf/inspect.js'
import { BlobNotFoundError, type BlobStore, type ByteRange } from '../storage/blob-store.js'
import { EmptyUploadError, SizeLimitError, type StagedFile, type StagingArea } from '../storage/staging.js'
import { newDocumentId, parseDocumentId } from './ids.js'
import type { RemoteFetcher } from './remote.js'
import { createVersioning, type AnnotationSnapshot, type EditHooks, type NewFile, type VersionSummary } from './versions.js'
import { SourceCache } from './source-cache.js'
import * as store from './store.js'
import type { DocumentRow, PageRow } from './store.js'

export type { PageRow }
export type { AnnotationSnapshot, EditHooks, NewFile, VersionSummary }

export interface DocumentSummary {
  id: string
  title: string
  byteSize: number
  sourcePdfSha256: string
  passwordProtected: boolean
  createdAt: string
}

export interface DocumentCreated {
  document_id: string
  title: string
  sourcePdfSha256: string
  password_protected: boolean
  pageCount: number | null
  byteSize: number
  createdAt: string
  errors: unknown[]
}

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

export interface CreateInput {
  source: Readable | AsyncIterable<Uint8Array>
  documentId?: string
  title?: string
  overwrite: boolean
}

/** The create input once the bytes are staged (multipart fields may arrive after the file). */
export interface StagedCreate {
  staged: StagedFile
  documentId?: string
  title?: string
  overwrite: boolean
}

/** A remote document (spec §6): fetched through the SSRF-guarded fetcher, then the upload path. */
export interface UrlCreate {
  url: string
  documentId?: string
  title?: string
  overwrite: boolean
  /** When given, the fetched bytes must have this SHA-256 (Document Engine's `sha256`). */
  sha256?: string
}

/** What the renderer needs of a document (issue #6): its source bytes and page facts. */
export interface SourceBlob {
  /** The blob key (sha256 of the bytes): equal keys, equal bytes. */
  key: string
  size: number
  pages: PageRow[] | null
  /** The whole source PDF in one buffer that owns its memory (it is handed to a render worker). */
  read(): Promise<Buffer>
}

export const MAX_TITLE_LENGTH = 1024
const BULK_DELETE_MAX = 10_000
/** How long another node's overwrite or delete may go unseen by this node's page routes. */
const SOURCE_CACHE_TTL_MS = 1000

export interface DocumentService {
  stage(source: Readable | AsyncIterable<Uint8Array>): Promise<StagedFile>
  createFromStaged(input: StagedCreate): Promise<DocumentCreated>
  create(input: CreateInput): Promise<DocumentCreated>
  /** 403 remote_documents_disabled unless a fetcher was configured (ALLOW_REMOTE_DOCUMENTS). */
  createFromUrl(input: UrlCreate): Promise<DocumentCreated>
  /** A remote file staged through the same SSRF-guarded fetcher and limits (Build API file parts by URL). */
  stageFromUrl(url: string, sha256?: string): Promise<StagedFile>
  list(q: ListQuery): Promise<ListResult>
  info(id: string): Promise<DocumentInfo>
  properties(id: string): Promise<DocumentProperties>
  setTitle(id: string, title: string): Promise<DocumentProperties>
  remove(id: string): Promise<void>
  bulkRemove(f: store.BulkFilter): Promise<{ deleted_count: number; skipped_count: number; total_matched: number }>
  openPdf(id: string, opts: { source: boolean; range?: ByteRange }): Promise<{ stream: Readable; size: number; sha256: string; title: string }>
  exists(id: string): Promise<boolean>
  /** The source PDF's blob and pages, for rendering; 404 document_not_found. */
  sourceBlob(id: string): Promise<SourceBlob>
  /** Finishes deletes interrupted by a crash. */
  sweep(): Promise<number>
  /** The source file of a document for random access (annotation export, issue #5). */
  openSource(id: string): Promise<SourcePdf>
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

export interface SourcePdf {
  documentId: string
  title: string
  sha256: string
  size: number
  reader: RandomAccessReader
  stream(range?: ByteRange): Promise<Readable>
}

/**
 * Lets another room take part in uploads without this room knowing it (issue #5 imports the
 * PDF's own annotations): `read` runs on the staged file before the transaction, `write` inside
 * the transaction that writes the document row; what `write` returns is the response's `errors`.
 */
export interface UploadHook {
  read(path: string, info: PdfInfo): Promise<unknown>
  write(tx: Queryable, documentId: string, data: unknown, opts: { replaced: boolean; now: Date }): Promise<unknown[]>
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
  /** Previous versions kept per document after an edit (DOCUMENT_VERSIONS_KEPT). */
  versionsKept?: number
}): DocumentService {
  const { db, blobs, log } = deps
  const now = deps.now ?? (() => new Date())
  const sources = new SourceCache<SourceBlob>(SOURCE_CACHE_TTL_MS, 10_000)
  // document_info is what a viewer asks first and often (issue #3's bench): the same 1 s cache,
  // invalidated by this node's own writes; another node's change shows within the TTL.
  const infos = new SourceCache<DocumentInfo>(SOURCE_CACHE_TTL_MS, 10_000)
  const forget = (id: string) => {
    sources.invalidate(id)
    infos.invalidate(id)
  }

  async function get(id: string): Promise<DocumentRow> {
    const row = await store.findDocument(db, id)
    if (!row) throw new FolioError('document_not_found')
    return row
  }

  async function removeBlobBytes(key: string): Promise<void> {
    try {
      await db.transaction((tx) => store.finishBlobDelete(tx, key, () => blobs.delete(key, { tx })))
    } catch (e) {
      // The row stays marked `deleting`; sweep() retries. The document is already gone.
      log.warn({ err: e, blob: key.slice(0, 12) }, 'blob delete deferred')
    }
  }

  const versioning = createVersioning({
    db, blobs, keep: deps.versionsKept ?? 10, now, forget: (id) => forget(id), removeBlobBytes: (key) => removeBlobBytes(key),
  })

  async function stage(source: Readable | AsyncIterable<Uint8Array>): Promise<StagedFile> {
    try {
      return await deps.staging.stage(source, { maxBytes: deps.maxUploadBytes })
    } catch (e) {
      if (e instanceof SizeLimitError) {
        throw new FolioError('payload_too_large', { limit: e.limit }, {
          message: `The upload exceeds MAX_UPLOAD_SIZE_BYTES (${e.limit} bytes)`,
        })
      }
      if (e instanceof EmptyUploadError) throw new FolioError('empty_body', {}, { message: 'The uploaded file is empty' })
      throw e
    }
  }

  async function inspect(staged: StagedFile): Promise<PdfInfo | { encryptedUnreadable: true }> {
    const reader = await openFileReader(staged.path)
    try {
      const info = await inspectPdf(reader)
      // A PDF without pages has nothing to show or annotate (Document Engine: pageCount ≥ 1).
      if (info.pageCount === 0) throw new FolioError('invalid_pdf', { reason: 'no_pages' }, { message: 'The PDF has no pages' })
      return info
    } catch (e) {
      if (e instanceof PdfInspectError) {
        if (e.reason === 'encrypted_unreadable') return { encryptedUnreadable: true }
        throw new FolioError('invalid_pdf', { reason: e.reason }, { cause: e })
      }
      throw e
    } finally {
      await reader.close()
    }
  }

  async function createFromStaged(input: StagedCreate): Promise<DocumentCreated> {
    const { staged } = input
    try {
      const id = input.documentId === undefined ? newDocumentId() : parseDocumentId(input.documentId)
      const title = input.title ?? ''
      if (title.length > MAX_TITLE_LENGTH) {
        throw new FolioError('bad_request', {}, { message: `title is longer than ${MAX_TITLE_LENGTH} characters` })
      }
      // Cheap early refusal; the transaction below is what guarantees it.
      if (!input.overwrite && (await store.findDocument(db, id))) throw new FolioError('document_exists')
      const pdf = await inspect(staged)
      const info = 'encryptedUnreadable' in pdf ? undefined : pdf
      const pages = info?.pages.map((p, pageIndex) => ({ pageIndex, ...p })) ?? null
      const createdAt = now()
      const doc: store.NewDocument = {
        id,
        title,
        blobKey: staged.sha256,
        byteSize: staged.size,
        passwordProtected: info ? info.encrypted : true,
        pageCount: info ? info.pageCount : null,
        pages,
        pdfVersion: info?.version ?? null,
        now: createdAt,
      }
      const hookData = info && deps.onUpload ? await deps.onUpload.read(staged.path, info) : undefined
      let hookErrors: unknown[] = []
      const released = await db.transaction(async (tx) => {
        const existing = input.overwrite ? await store.lockDocument(tx, id) : undefined
        const fresh = await store.claimBlob(tx, staged.sha256, staged.size, blobs.type)
        if (existing) await store.replaceDocument(tx, doc)
        else await store.insertDocument(tx, doc)
        if (deps.onUpload && hookData !== undefined) {
          hookErrors = await deps.onUpload.write(tx, id, hookData, { replaced: existing !== undefined, now: createdAt })
        }
        // Bytes go under their key only when the rows are written; identical bytes already
        // stored are not written twice.
        if (fresh || !(await blobs.exists(staged.sha256, { tx }))) {
          await blobs.put(staged.sha256, staged, { tx })
          // A row revived or kept from another backend now names the one holding the bytes.
          await store.setBlobBackend(tx, staged.sha256, blobs.type)
        }
        if (existing && existing.blob_key !== staged.sha256 && (await store.releaseBlob(tx, existing.blob_key))) {
          return existing.blob_key
        }
        return undefined
      }).catch((e: unknown) => {
        if (sqlState(e) === '23505') throw new FolioError('document_exists', {}, { cause: e })
        throw e
      })
      forget(id) // an overwrite changes the bytes behind the id
      if (released) await removeBlobBytes(released)
      return {
        document_id: id,
        title,
        sourcePdfSha256: staged.sha256,
        password_protected: doc.passwordProtected,
        pageCount: doc.pageCount,
        byteSize: staged.size,
        createdAt: createdAt.toISOString(),
        errors: hookErrors,
      }
    } finally {
      await staged.discard()
    }
  }

  return {
    stage,
    createFromStaged,
    async create(input) {
      if (input.documentId !== undefined) parseDocumentId(input.documentId)
      const staged = await stage(input.source)
      return createFromStaged({ ...input, staged })
    },

    async createFromUrl(input) {
      const remote = deps.remote
      if (!remote) throw new FolioError('remote_documents_disabled')
      // Everything that can be refused without the network is refused before fetching.
      const id = input.documentId === undefined ? undefined : parseDocumentId(input.documentId)
      if (input.title !== undefined && input.title.length > MAX_TITLE_LENGTH) {
        throw new FolioError('bad_request', {}, { message: `title is longer than ${MAX_TITLE_LENGTH} characters` })
      }
      const expected = input.sha256?.toLowerCase()
      if (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected)) {
        throw new FolioError('bad_request', { field: 'sha256' }, { message: 'sha256 must be 64 hexadecimal digits' })
      }
      if (id !== undefined && !input.overwrite && (await store.findDocument(db, id))) throw new FolioError('document_exists')
      // The body streams into the staging area under the fetch's own limits (remote.ts); a
      // refused or broken fetch leaves no staged file, and nothing reaches the blob store or
      // the database before the whole document arrived and was inspected.
      const { staged, name } = await remote.fetch(input.url, async (source) => ({
        staged: await deps.staging.stage(source.body, { maxBytes: deps.maxUploadBytes }),
        name: source.name,
      }))
      if (expected !== undefined && staged.sha256 !== expected) {
        await staged.discard()
        throw new FolioError('hash_mismatch')
      }
      return createFromStaged({ staged, documentId: id, title: input.title ?? name, overwrite: input.overwrite })
    },

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

    async list(q) {
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
      const hasBefore = first ? (backwards ? more : await existsBeyond(first, q, 'before')) : false
      const hasAfter = last ? (backwards ? await existsBeyond(last, q, 'after') : more) : false
      return {
        data: page.map(summary),
        next_cursor: hasAfter && last ? encodeCursor(false, positionOf(last, q.orderBy), q) : null,
        prev_cursor: hasBefore && first ? encodeCursor(true, positionOf(first, q.orderBy), q) : null,
        document_count: await store.countDocuments(db, filter),
      }
    },

    info(id) {
      return infos.get(id, async () => {
        const row = await get(id)
        if (row.page_count === null || row.pages === null) {
          throw new FolioError('invalid_pdf', { reason: 'encrypted_unreadable' }, {
            message: 'The document is encrypted and its pages cannot be read without its password',
          })
        }
        return { document_id: row.id, title: row.title, pageCount: row.page_count, pages: row.pages }
      })
    },

    async properties(id) {
      return properties(await get(id))
    },

    async setTitle(id, title) {
      if (title.length > MAX_TITLE_LENGTH) {
        throw new FolioError('bad_request', {}, { message: `title is longer than ${MAX_TITLE_LENGTH} characters` })
      }
      if (!(await store.updateTitle(db, id, title, now()))) throw new FolioError('document_not_found')
      infos.invalidate(id)
      return properties(await get(id))
    },

    async remove(id) {
      const released = await db.transaction(async (tx) => {
        const kept = await versioning.blobKeys(tx, id)
        const key = await store.deleteDocumentRow(tx, id) // its versions go with it (on delete cascade)
        if (key === undefined) throw new FolioError('document_not_found')
        const gone: string[] = []
        for (const k of new Set([key, ...kept])) if (await store.releaseBlob(tx, k)) gone.push(k)
        return gone
      })
      forget(id)
      for (const key of released) await removeBlobBytes(key)
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
          await this.remove(id)
          deleted++
        } catch (e) {
          // Deleted concurrently by someone else: counted as skipped, not an error.
          if (e instanceof FolioError && e.code === 'document_not_found') skipped++
          else throw e
        }
      }
      return { deleted_count: deleted, skipped_count: skipped, total_matched: ids.length }
    },

    async openPdf(id, opts) {
      const row = await get(id)
      // Until annotations exist (#5) the current PDF is the source PDF.
      try {
        const stream = await blobs.get(row.blob_key, opts.range)
        return { stream, size: row.byte_size, sha256: row.source_sha256, title: row.title }
      } catch (e) {
        if (e instanceof BlobNotFoundError) {
          log.error({ document: id, blob: row.blob_key.slice(0, 12) }, 'document row without its blob')
        }
        throw e
      }
    },

    async exists(id) {
      return (await store.findDocument(db, id)) !== undefined
    },

    sourceBlob(id) {
      return sources.get(id, async () => {
        const row = await get(id)
        return {
          key: row.blob_key,
          size: row.byte_size,
          pages: row.pages,
          read: () => readWhole(blobs, row.blob_key, row.byte_size).catch((e: unknown) => {
            // Deleted by another node since the row was read (source-cache.ts): gone, not a fault.
            if (e instanceof BlobNotFoundError) throw new FolioError('document_not_found', {}, { cause: e })
            throw e
          }),
        }
      })
    },

    async sweep() {
      const keys = await store.blobsBeingDeleted(db)
      for (const key of keys) await removeBlobBytes(key)
      return keys.length
    },

    async openSource(id) {
      const row = await get(id)
      const key = row.blob_key
      return {
        documentId: row.id,
        title: row.title,
        sha256: row.source_sha256,
        size: row.byte_size,
        reader: blobReader(blobs, key, row.byte_size),
        stream: (range) => blobs.get(key, range),
      }
    },

    async copy(sourceId, newId, onCopied) {
      const id = newId === undefined ? newDocumentId() : parseDocumentId(newId)
      const createdAt = now()
      await db.transaction(async (tx) => {
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
      }).catch((e: unknown) => {
        if (sqlState(e) === '23505') throw new FolioError('document_exists', {}, { cause: e })
        throw e
      })
      return { document_id: id }
    },
  }

  async function existsBeyond(row: DocumentRow, q: ListQuery, side: 'before' | 'after'): Promise<boolean> {
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
}

/** Reads a blob of known size into one buffer of its own (not a slice of Node's shared pool). */
async function readWhole(blobs: BlobStore, key: string, size: number): Promise<Buffer> {
  const out = Buffer.allocUnsafeSlow(size)
  let at = 0
  for await (const chunk of await blobs.get(key)) {
    const c = chunk as Buffer
    if (at + c.length > size) throw new Error('blob is larger than recorded')
    c.copy(out, at)
    at += c.length
  }
  if (at !== size) throw new Error('blob is shorter than recorded')
  return out
}

/** Random access to a blob through ranged reads (the PDF readers cache 4 KiB blocks on top). */
function blobReader(blobs: BlobStore, key: string, size: number): RandomAccessReader {
  return {
    size,
    async read(position, length) {
      const start = Math.max(0, position)
      const end = Math.min(size, start + Math.max(0, length)) - 1
      if (end < start) return Buffer.alloc(0)
      const chunks: Buffer[] = []
      for await (const chunk of await blobs.get(key, { start, end })) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks)
    },
  }
}

function summary(r: DocumentRow): DocumentSummary {
  return {
    id: r.id,
    title: r.title,
    byteSize: r.byte_size,
    sourcePdfSha256: r.source_sha256,
    passwordProtected: r.password_protected,
    createdAt: r.created_at.toISOString(),
  }
}

function properties(r: DocumentRow): DocumentProperties {
  return {
    document_id: r.id,
    title: r.title,
    byteSize: r.byte_size,
    sourcePdfSha256: r.source_sha256,
    passwordProtected: r.password_protected,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    storage: { type: r.backend },
  }
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
