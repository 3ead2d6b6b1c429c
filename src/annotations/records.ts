/**
 * The annotation record as the API shows it (spec §3: id, content, createdBy, updatedBy, group,
 * createdAt, updatedAt) plus `version`, Folio's concurrency token.
 */
import type { AnnotationRow, NewRow } from './store.js'

export interface AnnotationRecord {
  id: string
  content: Record<string, unknown>
  createdBy: string | null
  updatedBy: string | null
  group: string | null
  createdAt: string
  updatedAt: string
  version: number
}

const iso = (t: Date | string) => (typeof t === 'string' ? t : t.toISOString())

export function toRecord(r: AnnotationRow | NewRow): AnnotationRecord {
  return {
    id: r.id,
    content: r.content,
    createdBy: r.created_by,
    updatedBy: r.updated_by,
    group: r.group_name,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    version: r.version,
  }
}
