/**
 * Annotations follow their pages when a document's file is edited (apply_instructions,
 * apply_operations) and come back with a restored version. Runs inside the documents room's
 * edit transaction (documents/versions.ts), so the file and the annotations change together;
 * the changes go to the change log like any write, and live viewers receive them (events.ts).
 *
 * Instant JSON coordinates are in the unrotated page's space (the overlay turns them with the
 * page, overlay.ts), so a rotated page keeps its annotations' geometry; they are reported as
 * updated so viewers redraw them.
 */
import type { Queryable } from '../db/db.js'
import { FolioError } from '../errors.js'
import { API_ACTOR, checkBatchSize, MAX_IDS, parseItems, type WriteItem } from './items.js'
import { newAnnotationId } from './ids.js'
import { toRecord } from './records.js'
import * as store from './store.js'

/** Where each page of the new file came from: the old page index (and the rotation added), or null. */
export type PageOrigins = Array<{ page: number; rotate: number } | null>

interface SnapshotRow extends store.NewRow { layer: string }

export async function snapshotAnnotations(tx: Queryable, documentId: string): Promise<{ layers: string[]; annotations: SnapshotRow[] }> {
  const layers = await store.listLayers(tx, documentId)
  const rows = await tx.query<store.AnnotationRow & { layer: string } & Record<string, unknown>>(
    `select layer, id, page_index, content, group_name, created_by, updated_by, version, created_at, updated_at
     from annotations where document_id = $1 order by layer, created_at, id`,
    [documentId],
  )
  return {
    layers,
    annotations: rows.map((r) => ({ ...r, created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString() })),
  }
}

export async function followPages(tx: Queryable, documentId: string, origins: PageOrigins, at: string): Promise<{ updated: number; deleted: number; created: number }> {
  const next = await store.claimSeqs(tx, documentId, 0) // the document's writer lock
  const targets = new Map<number, Array<{ index: number; rotate: number }>>()
  origins.forEach((o, index) => {
    if (o) targets.set(o.page, [...(targets.get(o.page) ?? []), { index, rotate: o.rotate }])
  })
  const rows = await tx.query<store.AnnotationRow & { layer: string } & Record<string, unknown>>(
    `select layer, id, page_index, content, group_name, created_by, updated_by, version, created_at, updated_at
     from annotations where document_id = $1 order by layer, created_at, id for update`,
    [documentId],
  )
  const changes: store.NewChange[] = []
  const byLayer = new Map<string, { deletes: string[]; updates: store.NewRow[]; creates: store.NewRow[] }>()
  const layerOf = (l: string) => {
    let v = byLayer.get(l)
    if (!v) byLayer.set(l, (v = { deletes: [], updates: [], creates: [] }))
    return v
  }
  for (const r of rows) {
    const to = targets.get(r.page_index) ?? []
    const l = layerOf(r.layer)
    if (to.length === 0) {
      l.deletes.push(r.id)
      changes.push({ seq: 0, layer: r.layer, op: 'deleted', annotation_id: r.id, record: null, changed_at: at })
      continue
    }
    const [first, ...copies] = to
    const base = { group_name: r.group_name, created_by: r.created_by, updated_by: r.updated_by }
    if (first!.index !== r.page_index || first!.rotate !== 0) {
      const row: store.NewRow = { id: r.id, page_index: first!.index, content: { ...r.content, pageIndex: first!.index }, ...base, version: r.version + 1, created_at: r.created_at.toISOString(), updated_at: at }
      l.updates.push(row)
      changes.push({ seq: 0, layer: r.layer, op: 'updated', annotation_id: r.id, record: toRecord(row), changed_at: at })
    }
    for (const c of copies) {
      const id = newAnnotationId()
      const content = { ...r.content, pageIndex: c.index }
      delete (content as { pdfObjectId?: unknown }).pdfObjectId // a copy is no object of the source file
      const row: store.NewRow = { id, page_index: c.index, content, ...base, version: 1, created_at: at, updated_at: at }
      l.creates.push(row)
      changes.push({ seq: 0, layer: r.layer, op: 'created', annotation_id: id, record: toRecord(row), changed_at: at })
    }
  }
  for (const [layer, l] of byLayer) {
    if (l.deletes.length > 0) await store.deleteAnnotations(tx, documentId, layer, l.deletes)
    if (l.updates.length > 0) await store.updateAnnotations(tx, documentId, layer, l.updates)
    if (l.creates.length > 0) await store.insertAnnotations(tx, documentId, layer, l.creates)
  }
  if (changes.length > 0) {
    await store.advanceSeq(tx, documentId, changes.length)
    changes.forEach((c, i) => (c.seq = next + i))
    await store.insertChanges(tx, documentId, changes)
  }
  let updated = 0, deleted = 0, created = 0
  for (const l of byLayer.values()) {
    updated += l.updates.length
    deleted += l.deletes.length
    created += l.creates.length
  }
  return { updated, deleted, created }
}

/** Puts back a snapshot: every layer and annotation as it was; viewers are told to reload (`reset`). */
export async function restoreAnnotations(tx: Queryable, documentId: string, snapshot: { layers: string[]; annotations: unknown[] }, at: string): Promise<void> {
  const first = await store.claimSeqs(tx, documentId, 1)
  await store.clearDocument(tx, documentId)
  for (const name of snapshot.layers) await store.insertLayer(tx, documentId, name, at)
  const rows = snapshot.annotations as SnapshotRow[]
  const layers = new Set(rows.map((r) => r.layer))
  for (const layer of layers) {
    await store.insertAnnotations(tx, documentId, layer, rows.filter((r) => r.layer === layer).map(({ layer: _l, ...r }) => r))
  }
  await store.insertChanges(tx, documentId, [{ seq: first, layer: '', op: 'reset', annotation_id: null, record: null, changed_at: at }])
}

/**
 * An Instant JSON document applied inside an edit's transaction (the same rules as
 * POST …/instant_json: annotations created or, by id, replaced), against the new page count.
 */
export async function applyInstantJsonTx(tx: Queryable, documentId: string, layer: string, doc: unknown, pageCount: number, field: string, at: string): Promise<number> {
  const annotations = (doc as { annotations?: unknown } | null)?.annotations
  if (typeof doc !== 'object' || doc === null || !Array.isArray(annotations)) {
    throw new FolioError('invalid_instructions', { field, reason: 'invalid' }, { message: `${field}: not an Instant JSON document with "annotations"` })
  }
  checkBatchSize(annotations.length, MAX_IDS)
  let parsed
  try {
    parsed = parseItems(annotations as WriteItem[], pageCount, API_ACTOR, { base: (i) => `${field}.annotations[${i}]`, requireId: false, contentIsItem: true })
  } catch (e) {
    if (e instanceof FolioError) throw new FolioError('invalid_instructions', { field: String(e.details.path ?? field), reason: 'invalid_annotation' }, { message: e.message })
    throw e
  }
  const next = await store.claimSeqs(tx, documentId, 0)
  if (layer !== '') await store.insertLayer(tx, documentId, layer, at)
  const existing = new Map((await store.lockAnnotations(tx, documentId, layer, parsed.map((p) => p.id))).map((r) => [r.id, r]))
  const rows = parsed.map((p) => {
    const old = existing.get(p.id)
    return {
      id: p.id, page_index: p.content.pageIndex, content: p.content, group_name: p.group ?? old?.group_name ?? null,
      created_by: old ? old.created_by : p.userId, updated_by: p.userId, version: old ? old.version + 1 : 1,
      created_at: old ? old.created_at.toISOString() : at, updated_at: at,
    } satisfies store.NewRow
  })
  await store.insertAnnotations(tx, documentId, layer, rows.filter((r) => !existing.has(r.id)))
  await store.updateAnnotations(tx, documentId, layer, rows.filter((r) => existing.has(r.id)))
  await store.advanceSeq(tx, documentId, rows.length)
  await store.insertChanges(tx, documentId, rows.map((r, i) => ({ seq: next + i, layer, op: existing.has(r.id) ? 'updated' as const : 'created' as const, annotation_id: r.id, record: toRecord(r), changed_at: at })))
  return rows.length
}

/** Annotations found in the built file on pages that came from other documents or files. */
export async function insertImported(tx: Queryable, documentId: string, items: Array<{ content: Record<string, unknown> }>, at: string): Promise<void> {
  if (items.length === 0) return
  const first = await store.claimSeqs(tx, documentId, items.length)
  const rows: store.NewRow[] = items.map((a) => ({
    id: newAnnotationId(), page_index: a.content.pageIndex as number, content: a.content, group_name: null, created_by: null, updated_by: null, version: 1, created_at: at, updated_at: at,
  }))
  await store.insertAnnotations(tx, documentId, '', rows)
  await store.insertChanges(tx, documentId, rows.map((r, i) => ({ seq: first + i, layer: '', op: 'created' as const, annotation_id: r.id, record: toRecord(r), changed_at: at })))
}

/** After a flatten burnt a layer's annotations into the file, its rows go. */
export async function dropLayerRows(tx: Queryable, documentId: string, layer: string, at: string): Promise<void> {
  const next = await store.claimSeqs(tx, documentId, 0)
  const deleted = await store.deleteAnnotations(tx, documentId, layer, 'all')
  if (deleted.length === 0) return
  await store.advanceSeq(tx, documentId, deleted.length)
  await store.insertChanges(tx, documentId, deleted.map((id, i) => ({ seq: next + i, layer, op: 'deleted' as const, annotation_id: id, record: null, changed_at: at })))
}
