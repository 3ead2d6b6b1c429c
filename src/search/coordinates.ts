/**
 * Page text positions are in the page as displayed (rotation applied, top-left origin); Instant
 * JSON annotations use the unrotated page with a top-left origin (what annotations/overlay.ts
 * turns by /Rotate to draw them). Search results are given in annotation coordinates, so a
 * client can put a highlight annotation on a match as is.
 */
import type { PageRow } from '../documents/service.js'
import type { Box } from '../render/protocol.js'

/** Displayed [left, top, width, height] → the unrotated page's, as Instant JSON bbox/rects. */
export function displayToAnnotation(box: Box, page: Pick<PageRow, 'width' | 'height' | 'rotation'>): Box {
  const [l, t, w, h] = box
  const W = page.width, H = page.height
  // Inverse of the overlay's rotation matrices, for each corner of the box.
  const map = (X: number, Y: number): [number, number] => {
    switch (page.rotation) {
      case 90: return [Y, H - X]
      case 180: return [W - X, H - Y]
      case 270: return [W - Y, X]
      default: return [X, Y]
    }
  }
  const [x1, y1] = map(l, t)
  const [x2, y2] = map(l + w, t + h)
  const r = (v: number) => Math.round(v * 100) / 100
  return [r(Math.min(x1, x2)), r(Math.min(y1, y2)), r(Math.abs(x2 - x1)), r(Math.abs(y2 - y1))]
}
