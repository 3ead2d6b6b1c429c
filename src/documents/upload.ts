/**
 * The upload pipeline (spec §3 `POST /api/documents`, §6 remote documents): stage the bytes
 * under the size limit → inspect the PDF → write the rows and the blob in one transaction
 * (blobs.ts has the lifecycle). Three ways in: a raw body, a multipart parts stream, a URL.
 *
 * Each rule is checked once per upload, as early as the facts are known: the id and the title
 * (checkFields) before any byte is staged when they come first, after the parts when a
 * multipart body sends them after the file; remote documents disabled before anything else
 * of a URL upload.
 */
import type { Readable } from 'node:stream'
import type { Db, Queryable } from '../db/db.js'
import { FolioError } from '../errors.js'
import { PdfInspectError, type PdfInfo } from '../pdf/inspect.js'
import type { PdfWork } from '../workers/pool.js'
import type { BlobStore } from '../storage/blob-store.js'
import { EmptyUploadError, SizeLimitError, type StagedFile, type StagingArea } from '../storage/staging.js'
import { claimBlob, releaseBlob, storeBytes } from './blobs.js'
import { newDocumentId, parseDocumentId } from './ids.js'
import type { RemoteFetcher } from './remote.js'
import * as store from './store.js'

export const MAX_TITLE_LENGTH = 1024

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

export interface CreateInput {
  source: Readable | AsyncIterable<Uint8Array>
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

/**
 * One part of a multipart upload, in the order the client sent them: the PDF as part `file`,
 * fields `document_id`, `title`, `overwrite_existing_document`, or `url` (+ `sha256`) instead of
 * a file. Unread file streams are drained by the pipeline.
 */
export type UploadPart =
  | { kind: 'file'; field: string; filename?: string; stream: Readable }
  | { kind: 'field'; field: string; value: string }

/**
 * Lets another room take part in uploads without this room knowing it (the annotations room
 * imports the PDF's own annotations): `read` runs on the staged file before the transaction,
 * `write` inside the transaction that writes the document row; what `write` returns is the
 * response's `errors`.
 */
export interface UploadHook {
  read(path: string, info: PdfInfo): Promise<unknown>
  write(tx: Queryable, documentId: string, data: unknown, opts: { replaced: boolean; now: Date }): Promise<unknown[]>
}

export interface UploadDeps {
  db: Db
  blobs: BlobStore
  staging: StagingArea
  maxUploadBytes: number
  /** Present only when remote documents are allowed. */
  remote?: RemoteFetcher
  now: () => Date
  onUpload?: UploadHook
  /** Inspection runs here, in a worker thread: no PDF parsing on the main thread. */
  pdfWork: PdfWork
  /** After the rows of `id` changed (caches of this node). */
  changed(id: string): void
  /** Second phase of the delete of a blob the upload let go of. */
  removeBlobBytes(key: string): Promise<void>
}

export interface Uploads {
  create(input: CreateInput): Promise<DocumentCreated>
  createFromParts(parts: AsyncIterable<UploadPart>): Promise<DocumentCreated>
  /** 403 remote_documents_disabled unless a fetcher was configured (ALLOW_REMOTE_DOCUMENTS). */
  createFromUrl(input: UrlCreate): Promise<DocumentCreated>
  /** Streams bytes to the staging area under MAX_UPLOAD_SIZE_BYTES (413 beyond), for callers that read files themselves (Build API parts). */
  stage(source: Readable | AsyncIterable<Uint8Array>): Promise<StagedFile>
}

/** The title rule, shared with renaming. */
export function checkTitle(title: string | undefined): void {
  if (title !== undefined && title.length > MAX_TITLE_LENGTH) {
    throw new FolioError('bad_request', {}, { message: `title is longer than ${MAX_TITLE_LENGTH} characters` })
  }
}

/** The id and title rules of an upload; returns the parsed id (undefined: a new one is made). */
function checkFields(f: { documentId?: string; title?: string }): string | undefined {
  const id = f.documentId === undefined ? undefined : parseDocumentId(f.documentId)
  checkTitle(f.title)
  return id
}

function boolField(v: string | undefined): boolean {
  return v === 'true' || v === '1'
}

export function createUploads(deps: UploadDeps): Uploads {
  const { db, blobs } = deps

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
    try {
      // In a worker thread, reading the staged file by path: no PDF parsing on the main thread.
      const info = await deps.pdfWork.run('inspect', {}, { source: { path: staged.path } })
      // A PDF without pages has nothing to show or annotate (Document Engine: pageCount ≥ 1).
      if (info.pageCount === 0) throw new FolioError('invalid_pdf', { reason: 'no_pages' }, { message: 'The PDF has no pages' })
      return info
    } catch (e) {
      if (e instanceof PdfInspectError) {
        if (e.reason === 'encrypted_unreadable') return { encryptedUnreadable: true }
        throw new FolioError('invalid_pdf', { reason: e.reason }, { cause: e })
      }
      throw e
    }
  }

  /** The fields are checked; always discards the staged file. */
  async function fromStaged(staged: StagedFile, f: { id: string | undefined; title: string | undefined; overwrite: boolean }): Promise<DocumentCreated> {
    try {
      const id = f.id ?? newDocumentId()
      const title = f.title ?? ''
      // Cheap early refusal; the transaction below is what guarantees it.
      if (!f.overwrite && (await store.findDocument(db, id))) throw new FolioError('document_exists')
      const pdf = await inspect(staged)
      const info = 'encryptedUnreadable' in pdf ? undefined : pdf
      const pages = info?.pages.map((p, pageIndex) => ({ pageIndex, ...p })) ?? null
      const createdAt = deps.now()
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
        const existing = f.overwrite ? await store.lockDocument(tx, id) : undefined
        const fresh = await claimBlob(tx, staged.sha256, staged.size, blobs.type)
        if (existing) await store.replaceDocument(tx, doc)
        else await store.insertDocument(tx, doc)
        if (deps.onUpload && hookData !== undefined) {
          hookErrors = await deps.onUpload.write(tx, id, hookData, { replaced: existing !== undefined, now: createdAt })
        }
        // Bytes go under their key only when the rows are written; identical bytes already
        // stored are not written twice.
        await storeBytes(tx, blobs, staged, fresh)
        if (existing && existing.blob_key !== staged.sha256 && (await releaseBlob(tx, existing.blob_key))) {
          return existing.blob_key
        }
        return undefined
      })
      deps.changed(id) // an overwrite changes the bytes behind the id
      if (released) await deps.removeBlobBytes(released)
      return {
        document_id: id,
        title,
        sourcePdfSha256: staged.sha256,
        password_protected: doc.passwordProtected,
        pageCount: doc.pageCount,
        byteSize: staged.size,
        createdAt: createdAt.toISOString(),
        // A damaged cross-reference that was rebuilt is reported, not refused.
        errors: info?.repaired !== undefined ? [{ reason: 'xref_repaired', message: info.repaired }, ...hookErrors] : hookErrors,
      }
    } finally {
      await staged.discard()
    }
  }

  async function createFromUrl(input: UrlCreate): Promise<DocumentCreated> {
    const remote = deps.remote
    if (!remote) throw new FolioError('remote_documents_disabled')
    // Everything that can be refused without the network is refused before fetching.
    const id = checkFields(input)
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
    // The name from the URL is cut to MAX_TITLE_LENGTH by remote.ts.
    return fromStaged(staged, { id, title: input.title ?? name, overwrite: input.overwrite })
  }

  return {
    async create(input) {
      const id = checkFields(input)
      const staged = await stage(input.source)
      return fromStaged(staged, { id, title: input.title, overwrite: input.overwrite })
    },

    createFromUrl,
    stage,

    async createFromParts(parts) {
      const fields: Record<string, string> = {}
      let staged: StagedFile | undefined
      let filename: string | undefined
      try {
        for await (const part of parts) {
          if (part.kind === 'file') {
            if (part.field !== 'file' || staged) {
              part.stream.resume()
              throw new FolioError('bad_request', {}, { message: `Unexpected file part "${part.field}"; send the PDF as part "file"` })
            }
            staged = await stage(part.stream)
            filename = part.filename
          } else {
            fields[part.field] = part.value
          }
        }
        const overwrite = boolField(fields.overwrite_existing_document)
        if (fields.url !== undefined) {
          if (staged) throw new FolioError('bad_request', {}, { message: 'Send either a "file" part or a "url" field, not both' })
          return await createFromUrl({ url: fields.url, documentId: fields.document_id, title: fields.title, sha256: fields.sha256, overwrite })
        }
        if (!staged) throw new FolioError('bad_request', {}, { message: 'The multipart body has no "file" part' })
        const title = fields.title ?? filename
        const id = checkFields({ documentId: fields.document_id, title })
        const s = staged
        staged = undefined
        return await fromStaged(s, { id, title, overwrite })
      } finally {
        await staged?.discard()
      }
    },
  }
}
