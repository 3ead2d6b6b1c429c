/**
 * The text under markup annotations (Document Engine's "highlighted text"): the characters
 * whose box centre lies inside one of the annotation's rects. Like the reference says of its
 * own, an approximation of what a reader sees highlighted.
 */
import type { AnnotationRecord } from '../annotations/records.js'
import type { PageRow } from '../documents/service.js'
import type { SearchPage } from '../render/document-text.js'
import type { Box } from '../render/protocol.js'
import { displayToAnnotation } from '../search/coordinates.js'

export const MARKUP_TYPES = new Set(['pspdfkit/markup/highlight', 'pspdfkit/markup/underline', 'pspdfkit/markup/strikeout', 'pspdfkit/markup/squiggly'])

export interface HighlightedText {
  annotation: AnnotationRecord
  text: string
}

function isBox(v: unknown): v is Box {
  return Array.isArray(v) && v.length === 4 && v.every((n) => typeof n === 'number' && Number.isFinite(n))
}

export function highlightedText(page: SearchPage, row: Pick<PageRow, 'width' | 'height' | 'rotation'>, annotations: readonly AnnotationRecord[]): HighlightedText[] {
  const markups = annotations.filter((a) => MARKUP_TYPES.has(String(a.content.type)))
  if (markups.length === 0) return []
  // Centres of the characters in annotation coordinates, computed once for all annotations.
  const n = page.text.length
  const cx = new Float64Array(n), cy = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const b = page.boxes.subarray(i * 4, i * 4 + 4)
    if (page.text[i] === '\n' || (b[2] === 0 && b[3] === 0)) {
      cx[i] = NaN
      continue
    }
    const [l, t, w, h] = displayToAnnotation([b[0]!, b[1]!, b[2]!, b[3]!], row)
    cx[i] = l + w / 2
    cy[i] = t + h / 2
  }
  return markups.map((annotation) => {
    const c = annotation.content as { rects?: unknown; bbox?: unknown }
    const rects = (Array.isArray(c.rects) ? c.rects.filter(isBox) : []).slice(0, 1000)
    if (rects.length === 0 && isBox(c.bbox)) rects.push(c.bbox)
    let text = ''
    let last = -2
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(cx[i]!)) continue
      const x = cx[i]!, y = cy[i]!
      if (!rects.some(([l, t, w, h]) => x >= l && x <= l + w && y >= t && y <= t + h)) continue
      if (last >= 0 && i !== last + 1 && !/\s$/.test(text)) text += ' ' // a gap or a line break between the pieces
      text += page.text[i]
      last = i
    }
    return { annotation, text: text.trim() }
  })
}
