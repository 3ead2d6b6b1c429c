/**
 * The one way to read a document's source PDF: key, size, sha256, pages, a ranged stream, a
 * whole read and random access. Downloads, page rendering and the annotation export and import
 * all go through it, so there is one cache and one answer for a blob that went missing.
 *
 * The row is memoised for a short time: a cached page image is otherwise served at the speed of
 * one database read per request (PGlite answers a few thousand a second at best, all
 * serialised; STACK-NOTES §1). This node's writes invalidate the entry after they commit; other
 * nodes' writes arrive as change notifications (see service.ts), the TTL being the backstop.
 */
import type { Readable } from 'node:stream'
import type { Db } from '../db/db.js'
import { FolioError } from '../errors.js'
import type { Logger } from '../log.js'
import type { RandomAccessReader } from '../pdf/inspect.js'
import { blobRandomReader, readWholeBlob } from '../storage/blob-readers.js'
import { BlobNotFoundError, type BlobStore, type ByteRange } from '../storage/blob-store.js'
import { LoadingCache } from '../tools/ttl-map.js'
import { findDocument, type PageRow } from './store.js'

export interface DocumentSource {
  documentId: string
  title: string
  /** The blob key (the sha256 of the bytes): equal keys, equal bytes. */
  key: string
  sha256: string
  size: number
  /** null when the PDF is encrypted and its pages could not be read. */
  pageCount: number | null
  pages: PageRow[] | null
  /** Random access through ranged reads (annotation export and import). */
  reader: RandomAccessReader
  stream(range?: ByteRange): Promise<Readable>
  /** The whole source PDF in one buffer that owns its memory (it is handed to a render worker). */
  read(): Promise<Buffer>
}

/** How long another node's overwrite or delete may go unseen when its notification is lost. */
const SOURCE_CACHE_TTL_MS = 1000
const SOURCE_CACHE_ENTRIES = 10_000

export interface SourceAccessor {
  /** 404 document_not_found. */
  get(id: string): Promise<DocumentSource>
  /** After a write to the document commits (here or on another node). */
  forget(id: string): void
  /** Entries memoised now (a metric). */
  readonly size: number
}

export function createSourceAccessor(deps: { db: Db; blobs: BlobStore; log: Logger; maxEntries?: number }): SourceAccessor {
  const { db, blobs, log } = deps
  const cache = new LoadingCache<DocumentSource>(SOURCE_CACHE_TTL_MS, deps.maxEntries ?? SOURCE_CACHE_ENTRIES)

  /**
   * A blob missing under a cached row: the document was overwritten or deleted since (another
   * node, within the TTL) and is answered as gone; a row that still names it is a fault.
   */
  async function missing(id: string, key: string, e: BlobNotFoundError): Promise<never> {
    const row = await findDocument(db, id)
    if (!row || row.blob_key !== key) {
      cache.invalidate(id)
      throw new FolioError('document_not_found', {}, { cause: e })
    }
    log.error({ document: id, blob: key.slice(0, 12) }, 'document row without its blob')
    throw e
  }

  return {
    get(id) {
      return cache.get(id, async () => {
        const row = await findDocument(db, id)
        if (!row) throw new FolioError('document_not_found')
        const key = row.blob_key
        const guard = <T>(p: Promise<T>): Promise<T> =>
          p.catch((e: unknown) => (e instanceof BlobNotFoundError ? missing(id, key, e) : Promise.reject(e)))
        return {
          documentId: row.id,
          title: row.title,
          key,
          sha256: row.source_sha256,
          size: row.byte_size,
          pageCount: row.page_count,
          pages: row.pages,
          reader: blobRandomReader(blobs, key, row.byte_size),
          stream: (range) => guard(blobs.get(key, range)),
          read: () => guard(readWholeBlob(blobs, key, row.byte_size)),
        }
      })
    },
    forget: (id) => cache.invalidate(id),
    get size() {
      return cache.size
    },
  }
}
