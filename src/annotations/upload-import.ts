/**
 * Import on upload: the annotations already in an uploaded PDF become Folio
 * annotations of the default layer, in the transaction that creates the document, so a round
 * trip (upload → export → upload) keeps them. Read with Folio's own random-access reader on the
 * staged file: memory does not grow with the file, only with the annotations (at most
 * MAX_IMPORTED). Encrypted files are not read (their strings are encrypted); nothing is imported.
 */
import type { Queryable } from '../db/db.js'
import type { UploadHook } from '../documents/upload.js'
import { FolioError } from '../errors.js'
import { PdfInspectError } from '../pdf/inspect.js'
import type { PdfWork } from '../workers/pool.js'
import { newAnnotationId } from './ids.js'
import type { ImportedAnnotation } from './pdf-export.js'
import * as store from './store.js'
import { toRecord } from './records.js'

export const MAX_IMPORTED = 50_000

interface Read { annotations: ImportedAnnotation[]; errors: Array<{ reason: string; message: string }> }

export function createUploadImport(pdfWork: PdfWork): UploadHook {
  return {
    async read(path, info): Promise<Read> {
      if (info.encrypted) return { annotations: [], errors: [] }
      try {
        // In a worker thread, on the staged file by path (the same limits as inspection).
        const { annotations, more } = await pdfWork.run('annotations-read', { max: MAX_IMPORTED }, { source: { path } })
        const errors = more ? [{ reason: 'annotations_not_imported', message: `only the first ${MAX_IMPORTED} annotations were imported` }] : []
        return { annotations, errors }
      } catch (e) {
        // The file passed inspection; an annotation that cannot be read does not refuse the upload.
        if (e instanceof PdfInspectError) return { annotations: [], errors: [{ reason: 'annotations_not_imported', message: e.message }] }
        if (e instanceof FolioError && e.code === 'pdf_too_complex') return { annotations: [], errors: [{ reason: 'annotations_not_imported', message: e.message }] }
        throw e
      }
    },

    async write(tx: Queryable, documentId: string, data: unknown, opts): Promise<unknown[]> {
      const { annotations, errors } = data as Read
      const at = opts.now.toISOString()
      const changes: store.NewChange[] = []
      if (opts.replaced) {
        // A new file under an old id: the old annotations do not belong to it (spec: overwrite).
        await store.clearDocument(tx, documentId)
        changes.push({ seq: 0, layer: '', op: 'reset', annotation_id: null, record: null, changed_at: at })
      }
      const seen = new Set<string>()
      const rows: store.NewRow[] = annotations.map((a) => {
        let id = a.id && !seen.has(a.id) ? a.id : newAnnotationId()
        while (seen.has(id)) id = newAnnotationId()
        seen.add(id)
        return { id, page_index: a.content.pageIndex, content: a.content, group_name: null, created_by: null, updated_by: null, version: 1, created_at: at, updated_at: at }
      })
      for (const r of rows) changes.push({ seq: 0, layer: '', op: 'created', annotation_id: r.id, record: toRecord(r), changed_at: at })
      if (changes.length === 0) return errors
      const first = await store.claimSeqs(tx, documentId, changes.length)
      changes.forEach((c, i) => (c.seq = first + i))
      if (rows.length > 0) await store.insertAnnotations(tx, documentId, '', rows)
      await store.insertChanges(tx, documentId, changes)
      return errors
    },
  }
}
