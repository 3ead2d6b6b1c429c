/**
 * Layers (spec §3: `GET/POST …/layers`, `DELETE …/layers/:layer`). The default layer ('') always
 * exists; named layers are created here or by the first write into them. A new layer starts as
 * a copy of `source_layer_name` when that layer exists, otherwise of the annotations embedded in
 * the PDF file itself (Document Engine's "base layer").
 */
import type { Db, Queryable } from '../db/db.js'
import type { DocumentService } from '../documents/service.js'
import { FolioError } from '../errors.js'
import { PdfInspectError } from '../pdf/inspect.js'
import { structureKey } from '../workers/kinds.js'
import type { PdfWork } from '../workers/pool.js'
import { newAnnotationId, parseLayerName } from './ids.js'
import { toRecord } from './records.js'
import * as store from './store.js'
import { MAX_IMPORTED } from './upload-import.js'

interface LayerDeps {
  db: Db
  documents: DocumentService
  now: () => Date
  write<T>(documentId: string, fn: (tx: Queryable) => Promise<T>): Promise<T>
  mustExist(documentId: string): Promise<void>
  pdfWork: PdfWork
}

export function layerOperations(deps: LayerDeps) {
  const { db } = deps

  function named(name: string): string {
    if (name === '') throw new FolioError('invalid_layer_name', {}, { message: 'The default layer ("") cannot be created or deleted' })
    return parseLayerName(name)
  }

  /** The annotations embedded in the document's PDF, with ids as imported. */
  async function baseAnnotations(documentId: string, at: string): Promise<store.NewRow[]> {
    const src = await deps.documents.source(documentId)
    try {
      const { annotations } = await deps.pdfWork.run('annotations-read', { max: MAX_IMPORTED }, { source: { reader: src.reader }, docKey: structureKey(src.sha256) })
      const seen = new Set<string>()
      return annotations.map((a) => {
        let id = a.id && !seen.has(a.id) ? a.id : newAnnotationId()
        while (seen.has(id)) id = newAnnotationId()
        seen.add(id)
        return { id, page_index: a.content.pageIndex, content: a.content, group_name: null, created_by: null, updated_by: null, version: 1, created_at: at, updated_at: at }
      })
    } catch (e) {
      if (e instanceof PdfInspectError) return []
      throw e
    }
  }

  return {
    /** Layer names, the default layer ('') first. */
    async layers(documentId: string): Promise<string[]> {
      await deps.mustExist(documentId)
      return ['', ...(await store.listLayers(db, documentId))]
    },

    async createLayer(documentId: string, name: string, source?: string): Promise<{ name: string; errors: unknown[] }> {
      named(name)
      const at = deps.now().toISOString()
      const fromLayer = source !== undefined && (source === '' || (await store.layerExists(db, documentId, source)))
      const base = fromLayer ? [] : await baseAnnotations(documentId, at)
      await deps.write(documentId, async (tx) => {
        const next = await store.claimSeqs(tx, documentId, 0)
        if (!(await store.insertLayer(tx, documentId, name, at))) throw new FolioError('layer_exists')
        let rows: store.NewRow[] | store.AnnotationRow[]
        if (fromLayer) rows = await store.copyLayerAnnotations(tx, documentId, source!, name, at)
        else {
          await store.insertAnnotations(tx, documentId, name, base)
          rows = base
        }
        if (rows.length === 0) return
        await store.advanceSeq(tx, documentId, rows.length)
        await store.insertChanges(tx, documentId, rows.map((r, i) => ({
          seq: next + i, layer: name, op: 'created' as const, annotation_id: r.id, record: toRecord(r), changed_at: at,
        })))
      })
      return { name, errors: [] }
    },

    async deleteLayer(documentId: string, name: string): Promise<void> {
      named(name)
      const at = deps.now().toISOString()
      await deps.write(documentId, async (tx) => {
        const next = await store.claimSeqs(tx, documentId, 0)
        const deleted = await store.deleteAnnotations(tx, documentId, name, 'all')
        const existed = await store.deleteLayer(tx, documentId, name)
        if (!existed && deleted.length === 0) throw new FolioError('layer_not_found')
        if (deleted.length === 0) return
        await store.advanceSeq(tx, documentId, deleted.length)
        await store.insertChanges(tx, documentId, deleted.map((id, i) => ({
          seq: next + i, layer: name, op: 'deleted' as const, annotation_id: id, record: null, changed_at: at,
        })))
      })
    },
  }
}
