/**
 * Annotations and layers (spec §3 and §7): the rules. Every write is one transaction
 * that first takes the document's change-counter row (store.claimSeqs), which orders writers
 * of a document, numbers their changes and makes a batch all or nothing. Writers name the
 * layer ('' = default) and the actor explicitly: the server API passes API_ACTOR (a body
 * `user_id` names the user), the client surfaces the JWT's user_id and layer.
 */
import type { Db, Queryable } from '../db/db.js'
import { sqlState } from '../db/db.js'
import type { DocumentService } from '../documents/service.js'
import { FolioError } from '../errors.js'
import type { Logger } from '../log.js'
import { ChangeHub, type ChangeSink, type Subscription } from './events.js'
import { parseLayerName } from './ids.js'
import type { Content } from './instant-json.js'
import { pageOverlaySvg } from './overlay.js'
import { LoadingCache } from '../tools/ttl-map.js'
import { checkBatchSize, MAX_IDS, parseItems, type Actor, type ParsedItem, type WriteItem } from './items.js'
import type { PdfWork } from '../workers/pool.js'
import { layerOperations } from './layers.js'
import { createPdfOutput, type PdfFile, type PdfOpenOptions } from './pdf-file.js'
import { applyInstantJsonTx, dropLayerRows, followPages, insertImported, restoreAnnotations, snapshotAnnotations, type PageOrigins } from './page-edits.js'
import { toRecord, type AnnotationRecord } from './records.js'
import * as store from './store.js'
import type { BookmarkService } from '../bookmarks/service.js'

export type { Actor, WriteItem } from './items.js'
export { API_ACTOR, parseIfMatch } from './items.js'
export type { AnnotationRecord } from './records.js'
export type { ChangeEvent, ChangeSink, Subscription } from './events.js'
export type { PdfFile, PdfBody } from './pdf-file.js'
export { createUploadImport } from './upload-import.js'

export const LIST_CAP = 1000
const INSTANT_JSON_FORMAT = 'https://pspdfkit.com/instant-json/v1'

export interface WriteOptions { batch: boolean }

export function createAnnotationService(deps: { db: Db; documents: DocumentService; log: Logger; now?: () => Date; pdfWork: PdfWork; cacheMaxEntries?: number; bookmarks?: BookmarkService }) {
  const { db, documents } = deps
  const now = deps.now ?? (() => new Date())
  // The annotation version of a document (part of page-image cache keys), from memory for up to
  // 1 s so a cached page image costs no query. Forgotten after this node's writes (write()), on
  // every change notification (other nodes' writes, re-import on overwrite) and when the
  // documents room reports a change of the document; the TTL covers a lost notification.
  const versions = new LoadingCache<number>(1000, deps.cacheMaxEntries ?? 10_000)
  const hub = new ChangeHub({ db, log: deps.log, now, onNotify: (documentId) => versions.invalidate(documentId) })
  const stopDocumentChanges = documents.onChange((documentId) => versions.invalidate(documentId))
  const pdf = createPdfOutput({ db, documents, pdfWork: deps.pdfWork })

  async function pageCount(documentId: string): Promise<number> {
    return (await documents.info(documentId)).pageCount
  }

  async function mustExist(documentId: string): Promise<void> {
    if (!(await documents.exists(documentId))) throw new FolioError('document_not_found')
  }

  /**
   * A write transaction of `documentId`'s annotations; a document deleted meanwhile (FK
   * violation) reads as not found. Once it is over, this node forgets the document's cached
   * annotation version (other nodes forget it on the change notification it sent).
   */
  function write<T>(documentId: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return db.transaction(fn).catch((e: unknown) => {
      if (sqlState(e) === '23503') throw new FolioError('document_not_found', {}, { cause: e })
      throw e
    }).finally(() => versions.invalidate(documentId))
  }

  function change(seq: number, layer: string, op: store.ChangeOp, id: string, record: unknown, at: string): store.NewChange {
    return { seq, layer, op, annotation_id: id, record, changed_at: at }
  }

  function newRow(p: ParsedItem, at: string): store.NewRow {
    return { id: p.id, page_index: p.content.pageIndex, content: p.content, group_name: p.group ?? null, created_by: p.userId, updated_by: p.userId, version: 1, created_at: at, updated_at: at }
  }

  /** Replaced rows: version + 1, creator and creation time kept, group kept unless given. */
  function replacedRow(p: ParsedItem, old: store.AnnotationRow, at: string): store.NewRow {
    return {
      id: p.id, page_index: p.content.pageIndex, content: p.content, group_name: p.group === undefined ? old.group_name : p.group,
      created_by: old.created_by, updated_by: p.userId, version: old.version + 1, created_at: old.created_at.toISOString(), updated_at: at,
    }
  }

  function checkVersions(items: ParsedItem[], existing: Map<string, store.AnnotationRow>, batch: boolean): void {
    const conflicts = items.filter((p) => p.version !== undefined && existing.get(p.id)!.version !== p.version)
    if (conflicts.length === 0) return
    const first = existing.get(conflicts[0]!.id)!
    throw new FolioError('annotation_version_conflict', batch
      ? { conflicts: conflicts.map((p) => ({ id: p.id, currentVersion: existing.get(p.id)!.version })) }
      : { annotationId: first.id, currentVersion: first.version })
  }

  async function lockExisting(tx: Queryable, documentId: string, layer: string, ids: string[]): Promise<Map<string, store.AnnotationRow>> {
    const existing = new Map((await store.lockAnnotations(tx, documentId, layer, ids)).map((r) => [r.id, r]))
    const missing = ids.filter((id) => !existing.has(id))
    if (missing.length > 0) throw new FolioError('annotation_not_found', { annotationIds: missing })
    return existing
  }

  const service = {
    /** Entries of the annotation-version cache (metrics). */
    cacheSize: () => versions.size,
    /** 404 document_not_found unless the document exists. */
    assertDocument: mustExist,

    async list(documentId: string, layer: string): Promise<{ annotations: AnnotationRecord[]; truncated: boolean }> {
      await mustExist(documentId)
      const rows = await store.listAnnotations(db, documentId, layer, { limit: LIST_CAP + 1 })
      return { annotations: rows.slice(0, LIST_CAP).map(toRecord), truncated: rows.length > LIST_CAP }
    },

    /** Every annotation of the layer, in pages of 1000 (NDJSON, Instant JSON export). */
    async *all(documentId: string, layer: string): AsyncGenerator<AnnotationRecord> {
      let after: { createdAt: Date; id: string } | undefined
      for (;;) {
        const rows = await store.listAnnotations(db, documentId, layer, { after, limit: LIST_CAP })
        for (const r of rows) yield toRecord(r)
        if (rows.length < LIST_CAP) return
        const last = rows[rows.length - 1]!
        after = { createdAt: last.created_at, id: last.id }
      }
    },

    /** The layer's first 1000 annotations on one page (per-page reads, highlighted text); 404 document/page_not_found. */
    async onPage(documentId: string, layer: string, pageIndex: number): Promise<{ annotations: AnnotationRecord[]; truncated: boolean }> {
      const pages = await pageCount(documentId)
      if (pageIndex >= pages) throw new FolioError('page_not_found', { pageCount: pages })
      const rows = await store.annotationsOnPage(db, documentId, layer, pageIndex)
      return { annotations: rows.slice(0, LIST_CAP).map(toRecord), truncated: rows.length > LIST_CAP }
    },

    async get(documentId: string, layer: string, id: string): Promise<AnnotationRecord> {
      const row = await store.getAnnotation(db, documentId, layer, id)
      if (!row) {
        await mustExist(documentId)
        throw new FolioError('annotation_not_found')
      }
      return toRecord(row)
    },

    async create(documentId: string, layer: string, actor: Actor, items: WriteItem[], opts: WriteOptions): Promise<AnnotationRecord[]> {
      checkBatchSize(items.length)
      if (items.length === 0) return (await mustExist(documentId), [])
      const parsed = parseItems(items, await pageCount(documentId), actor, { base: (i) => (opts.batch ? `$.annotations[${i}]` : '$'), requireId: false })
      const at = now().toISOString()
      const rows = parsed.map((p) => newRow(p, at))
      await write(documentId, async (tx) => {
        const first = await store.claimSeqs(tx, documentId, rows.length)
        if (layer !== '') await store.insertLayer(tx, documentId, layer, at)
        const inserted = new Set(await store.insertAnnotations(tx, documentId, layer, rows))
        if (inserted.size !== rows.length) {
          throw new FolioError('annotation_exists', { annotationIds: rows.filter((r) => !inserted.has(r.id)).map((r) => r.id) })
        }
        await store.insertChanges(tx, documentId, rows.map((r, i) => change(first + i, layer, 'created', r.id, toRecord(r), at)))
      })
      return rows.map(toRecord)
    },

    async replace(documentId: string, layer: string, actor: Actor, items: WriteItem[], opts: WriteOptions): Promise<AnnotationRecord[]> {
      checkBatchSize(items.length)
      if (items.length === 0) return (await mustExist(documentId), [])
      const parsed = parseItems(items, await pageCount(documentId), actor, { base: (i) => (opts.batch ? `$.annotations[${i}]` : '$'), requireId: true })
      const at = now().toISOString()
      return write(documentId, async (tx) => {
        const first = await store.claimSeqs(tx, documentId, parsed.length)
        const existing = await lockExisting(tx, documentId, layer, parsed.map((p) => p.id))
        checkVersions(parsed, existing, opts.batch)
        const rows = parsed.map((p) => replacedRow(p, existing.get(p.id)!, at))
        await store.updateAnnotations(tx, documentId, layer, rows)
        await store.insertChanges(tx, documentId, rows.map((r, i) => change(first + i, layer, 'updated', r.id, toRecord(r), at)))
        return rows.map(toRecord)
      })
    },

    /** Deletes the listed annotations (missing ones are skipped) or all; returns the ids deleted. */
    async remove(documentId: string, layer: string, ids: string[] | 'all'): Promise<string[]> {
      if (ids !== 'all') checkBatchSize(ids.length, MAX_IDS)
      return deleteIn(documentId, layer, ids)
    },

    /** Deletes one annotation; 404 when absent, 409 when `version` is given and stale. */
    async removeOne(documentId: string, layer: string, id: string, version?: number): Promise<void> {
      await deleteIn(documentId, layer, [id], async (tx) => {
        const existing = await lockExisting(tx, documentId, layer, [id])
        if (version !== undefined) checkVersions([{ id, version } as ParsedItem], existing, false)
      })
    },

    ...layerOperations({ db, documents, now, write, mustExist, pdfWork: deps.pdfWork }),

    /** Instant JSON document of a layer (spec §3 `document.json`): annotations, each with its id. */
    async *instantJson(documentId: string, layer: string): AsyncGenerator<string> {
      await mustExist(documentId)
      yield `{"format":${JSON.stringify(INSTANT_JSON_FORMAT)},"annotations":[`
      let first = true
      for await (const r of service.all(documentId, layer)) {
        yield `${first ? '' : ','}${JSON.stringify({ ...r.content, id: r.id })}`
        first = false
      }
      yield ']'
      // The layer's bookmarks (Instant JSON `bookmarks`), when the bookmark room is wired in.
      if (deps.bookmarks) yield `,"bookmarks":${JSON.stringify(await deps.bookmarks.instantJson(documentId, layer))}`
      yield '}'
    },

    async applyInstantJson(documentId: string, layer: string, actor: Actor, body: unknown): Promise<{ created: number; updated: number; deleted: number }> {
      if (typeof body !== 'object' || body === null || Array.isArray(body) || (body as { format?: unknown }).format !== INSTANT_JSON_FORMAT) {
        throw new FolioError('invalid_instant_json', {}, { message: `An Instant JSON document needs "format": "${INSTANT_JSON_FORMAT}"` })
      }
      const doc = body as { annotations?: unknown; skippedPdfObjectIds?: unknown; bookmarks?: unknown }
      const annotations = doc.annotations ?? []
      const skipped = doc.skippedPdfObjectIds ?? []
      if (!Array.isArray(annotations)) throw new FolioError('invalid_instant_json', {}, { message: '"annotations" must be an array' })
      if (!Array.isArray(skipped) || !skipped.every((n) => Number.isSafeInteger(n) && n >= 0)) {
        throw new FolioError('invalid_instant_json', {}, { message: '"skippedPdfObjectIds" must be an array of object numbers' })
      }
      checkBatchSize(annotations.length, MAX_IDS)
      const pages = await pageCount(documentId)
      const parsed = parseItems(annotations as WriteItem[], pages, actor, { base: (i) => `$.annotations[${i}]`, requireId: false, contentIsItem: true })
      const bookmarks = deps.bookmarks ? deps.bookmarks.parseInstantJson(doc.bookmarks, pages) : []
      const at = now().toISOString()
      return write(documentId, async (tx) => {
        if (deps.bookmarks) await deps.bookmarks.applyInTx(tx, documentId, layer, actor.userId, bookmarks)
        const next = await store.claimSeqs(tx, documentId, 0)
        if (layer !== '') await store.insertLayer(tx, documentId, layer, at)
        const existing = new Map((await store.lockAnnotations(tx, documentId, layer, parsed.map((p) => p.id))).map((r) => [r.id, r]))
        const updates = parsed.filter((p) => existing.has(p.id)).map((p) => replacedRow(p, existing.get(p.id)!, at))
        const creates = parsed.filter((p) => !existing.has(p.id)).map((p) => newRow(p, at))
        const keep = new Set(parsed.map((p) => p.id))
        const stale = skipped.length > 0 ? (await store.idsByPdfObjectIds(tx, documentId, layer, skipped as number[])).filter((id) => !keep.has(id)) : []
        const deleted = stale.length > 0 ? await store.deleteAnnotations(tx, documentId, layer, stale) : []
        await store.insertAnnotations(tx, documentId, layer, creates)
        await store.updateAnnotations(tx, documentId, layer, updates)
        const changes = [
          ...creates.map((r) => ({ op: 'created' as const, id: r.id, record: toRecord(r) })),
          ...updates.map((r) => ({ op: 'updated' as const, id: r.id, record: toRecord(r) })),
          ...deleted.map((id) => ({ op: 'deleted' as const, id, record: null })),
        ]
        await store.advanceSeq(tx, documentId, changes.length)
        await store.insertChanges(tx, documentId, changes.map((c, i) => change(next + i, layer, c.op, c.id, c.record, at)))
        return { created: creates.length, updated: updates.length, deleted: deleted.length }
      })
    },

    /** POST /api/copy_document: same file, every layer and annotation. */
    async copyDocument(sourceId: string, newId?: string): Promise<{ document_id: string }> {
      return documents.copy(sourceId, newId, (tx, id) => store.copyDocumentAnnotations(tx, sourceId, id))
    },

    /** Live changes of one document and layer after `lastEventId` (or from now). */
    async subscribe(documentId: string, layer: string, lastEventId: number | undefined, sink: ChangeSink): Promise<Subscription> {
      await mustExist(documentId)
      return hub.subscribe(documentId, layer, lastEventId, sink)
    },

    /** The PDF with this layer's annotations written in (or burnt in with `flatten`). */
    pdf(documentId: string, opts: PdfOpenOptions): Promise<PdfFile> {
      return pdf.open(documentId, opts)
    },

    parseLayer: parseLayerName,

    /**
     * Annotations in a document edit's transaction (documents/versions.ts): snapshot for the
     * kept version, follow the pages of the new file, or restore a version's snapshot.
     */
    pageEdits: {
      snapshot: snapshotAnnotations,
      async follow(tx: Queryable, documentId: string, origins: PageOrigins) {
        versions.invalidate(documentId)
        return followPages(tx, documentId, origins, now().toISOString())
      },
      instantJson: (tx: Queryable, documentId: string, doc: unknown, pageCount: number, field: string) => applyInstantJsonTx(tx, documentId, '', doc, pageCount, field, now().toISOString()),
      imported: (tx: Queryable, documentId: string, items: Array<{ content: Record<string, unknown> }>) => insertImported(tx, documentId, items, now().toISOString()),
      dropLayer: (tx: Queryable, documentId: string, layer: string) => dropLayerRows(tx, documentId, layer, now().toISOString()),
      async restore(tx: Queryable, documentId: string, snapshot: { layers: string[]; annotations: unknown[] }) {
        versions.invalidate(documentId)
        await restoreAnnotations(tx, documentId, snapshot, now().toISOString())
      },
    },

    /**
     * What the renderer draws over pages: the annotations of one layer, and a version
     * that changes with every annotation change of the document (part of the image cache key).
     */
    overlaySource: {
      async version(documentId: string, layer: string): Promise<string> {
        // From memory (see `versions` above for when it is forgotten).
        return `${layer.length}:${layer}@${await versions.get(documentId, () => store.lastSeq(db, documentId))}`
      },
      async overlays(documentId: string, layer: string, pageIndex: number, page: { width: number; height: number; rotation: number }) {
        const rows = await store.annotationsOnPage(db, documentId, layer, pageIndex)
        const svg = pageOverlaySvg(rows.map((r) => r.content as Content), page)
        return svg === '' ? [] : [{ svg }]
      },
    },
    start: () => hub.start(),
    close: () => {
      stopDocumentChanges()
      return hub.close()
    },
    get subscribers() {
      return hub.size
    },
  }

  async function deleteIn(documentId: string, layer: string, ids: string[] | 'all', check?: (tx: Queryable) => Promise<void>): Promise<string[]> {
    const at = now().toISOString()
    return write(documentId, async (tx) => {
      const next = await store.claimSeqs(tx, documentId, 0)
      await check?.(tx)
      const deleted = await store.deleteAnnotations(tx, documentId, layer, ids)
      if (deleted.length > 0) {
        await store.advanceSeq(tx, documentId, deleted.length)
        await store.insertChanges(tx, documentId, deleted.map((id, i) => change(next + i, layer, 'deleted', id, null, at)))
      }
      return deleted
    })
  }

  return service
}

export type AnnotationService = ReturnType<typeof createAnnotationService>
