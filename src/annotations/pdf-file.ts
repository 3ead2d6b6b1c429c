/**
 * The PDF a download serves (spec §3 `GET …/pdf`): the source bytes followed, when the layer has
 * annotations (or the source has imported ones to drop), by an incremental update that writes
 * them (pdf-export.ts). Memory: the tail only (proportional to the annotations); the source is
 * streamed. The strong ETag is derived from the source hash and the exact annotation state
 * (ids, versions, update times), so it can be answered (304) without building anything.
 */
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import type { Db } from '../db/db.js'
import type { DocumentService, DocumentSource } from '../documents/service.js'
import { FolioError } from '../errors.js'
import { PdfInspectError } from '../pdf/inspect.js'
import type { ByteRange } from '../storage/blob-store.js'
import { TtlMap } from '../tools/ttl-map.js'
import { structureKey } from '../workers/kinds.js'
import type { PdfWork } from '../workers/pool.js'
import type { Content } from './instant-json.js'
import * as store from './store.js'

/** Bump when the bytes written for the same annotations change (new ETags for everyone). */
const EXPORT_FORMAT = 'folio-export-1'
const CACHE_SIZE = 256

export interface PdfBody {
  size: number
  stream(range?: ByteRange): Promise<Readable>
}

export interface PdfFile {
  etag: string
  title: string
  /** Builds the bytes (reads the source structure, writes the update). */
  open(): Promise<PdfBody>
}

export interface PdfOpenOptions { layer: string; flatten: boolean; source: boolean }

export function createPdfOutput(deps: { db: Db; documents: DocumentService; pdfWork: PdfWork }) {
  // Blobs never change: whether a source holds importable annotations is cached by its hash.
  const importable = new TtlMap<string, boolean>({ maxEntries: CACHE_SIZE })

  // Structure work runs in a worker thread, which keeps the parsed structure by the blob's hash
  // (workers/jobs/structure.ts): the export after this check does not parse the file again.
  const onSource = (src: DocumentSource) => ({ source: { reader: src.reader }, docKey: structureKey(src.sha256) })

  async function sourceHasImportable(src: DocumentSource): Promise<boolean> {
    const hit = importable.get(src.sha256)
    if (hit !== undefined) return hit
    const value = await structureWork(() => deps.pdfWork.run('annotations-importable', {}, onSource(src)))
    importable.set(src.sha256, value)
    return value
  }

  const plain = (src: DocumentSource): PdfBody => ({ size: src.size, stream: (range) => src.stream(range) })

  return {
    async open(documentId: string, opts: PdfOpenOptions): Promise<PdfFile> {
      const src = await deps.documents.source(documentId)
      if (opts.source) return { etag: `"${src.sha256}"`, title: src.title, open: async () => plain(src) }
      const rows = await store.annotationsForExport(deps.db, documentId, opts.layer)
      if (rows.length === 0 && !(await sourceHasImportable(src))) {
        return { etag: `"${src.sha256}"`, title: src.title, open: async () => plain(src) }
      }
      const h = createHash('sha256').update(`${EXPORT_FORMAT}\n${src.sha256}\n${opts.layer}\n${opts.flatten}\n`)
      for (const r of rows) h.update(`${r.id}\n${r.version}\n${r.updated_at.toISOString()}\n`)
      return {
        etag: `"${src.sha256.slice(0, 16)}-${h.digest('hex').slice(0, 32)}"`,
        title: src.title,
        async open() {
          const items = rows.map((r) => ({
            id: r.id,
            content: r.content as Content,
            createdBy: r.created_by,
            createdAt: r.created_at,
            updatedAt: r.updated_at,
          }))
          const update = await structureWork(() => deps.pdfWork.run('annotations-export', { items, flatten: opts.flatten }, onSource(src)))
          if (!update) return plain(src)
          const tail = Buffer.from(update.buffer, update.byteOffset, update.byteLength)
          const size = src.size + tail.length
          return {
            size,
            async stream(range) {
              const start = range?.start ?? 0
              const end = range?.end ?? size - 1
              async function* parts(): AsyncGenerator<Buffer> {
                if (start < src.size) yield* await src.stream({ start, end: Math.min(end, src.size - 1) })
                if (end >= src.size) yield tail!.subarray(Math.max(0, start - src.size), end - src.size + 1)
              }
              return Readable.from(parts())
            },
          }
        },
      }
    },
  }
}

async function structureWork<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (e) {
    if (e instanceof PdfInspectError) throw new FolioError('invalid_pdf', { reason: e.reason }, { cause: e })
    throw e
  }
}
