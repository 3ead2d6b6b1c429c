/**
 * Folio's annotations drawn over rendered pages: Instant JSON content →
 * SVG in page points, top-left origin (Instant JSON's coordinate space), turned to the page's
 * displayed orientation. The render service composites the result with sharp; nothing here is
 * taken from the client as markup: every value written into the SVG is a number or a
 * validated `#rrggbb` colour, and text is XML-escaped.
 */
import type { Content } from './instant-json.js'

const COLOR_RE = /^#[0-9a-fA-F]{6}$/

function color(v: unknown, fallback: string): string {
  return typeof v === 'string' && COLOR_RE.test(v) ? v : fallback
}

function num(v: unknown, fallback = 0): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.round(v * 100) / 100 : fallback
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
}

function rect(r: unknown): [number, number, number, number] {
  const a = Array.isArray(r) ? r : []
  return [num(a[0]), num(a[1]), num(a[2]), num(a[3])]
}

/** One annotation as SVG elements; '' for types that have no look of their own (links). */
export function annotationSvg(c: Content): string {
  const [x, y, w, h] = rect(c.bbox)
  const opacity = num(c.opacity, 1)
  switch (c.type) {
    case 'pspdfkit/markup/highlight':
    case 'pspdfkit/markup/underline':
    case 'pspdfkit/markup/strikeout':
    case 'pspdfkit/markup/squiggly': {
      const fill = color(c.color, '#ffeb3b')
      const rects = (Array.isArray(c.rects) ? c.rects : []).map(rect)
      if (c.type === 'pspdfkit/markup/highlight') {
        return rects.map(([rx, ry, rw, rh]) => `<rect x="${rx}" y="${ry}" width="${rw}" height="${rh}" fill="${fill}" fill-opacity="${Math.min(opacity, 0.5)}"/>`).join('')
      }
      return rects.map(([rx, ry, rw, rh]) => {
        const ly = c.type === 'pspdfkit/markup/strikeout' ? ry + rh / 2 : ry + rh - 1
        const dash = c.type === 'pspdfkit/markup/squiggly' ? ' stroke-dasharray="2 1"' : ''
        return `<line x1="${rx}" y1="${ly}" x2="${rx + rw}" y2="${ly}" stroke="${fill}" stroke-width="1.5"${dash} stroke-opacity="${opacity}"/>`
      }).join('')
    }
    case 'pspdfkit/ink': {
      const lines = (c.lines as { points?: unknown[] } | undefined)?.points ?? []
      const stroke = color(c.strokeColor, '#000000')
      const width = num(c.lineWidth, 2)
      return lines.map((segment) => {
        const pts = (Array.isArray(segment) ? segment : []).map((p) => (Array.isArray(p) ? `${num(p[0])},${num(p[1])}` : '')).join(' ')
        return `<polyline points="${pts}" fill="none" stroke="${stroke}" stroke-width="${width}" stroke-linecap="round" stroke-linejoin="round" stroke-opacity="${opacity}"/>`
      }).join('')
    }
    case 'pspdfkit/shape/rectangle':
    case 'pspdfkit/shape/ellipse': {
      const sw = num(c.strokeWidth, 1)
      const paint = `fill="${c.fillColor ? color(c.fillColor, 'none') : 'none'}" stroke="${color(c.strokeColor, '#000000')}" stroke-width="${sw}" opacity="${opacity}"`
      return c.type === 'pspdfkit/shape/rectangle'
        ? `<rect x="${x + sw / 2}" y="${y + sw / 2}" width="${Math.max(0, w - sw)}" height="${Math.max(0, h - sw)}" ${paint}/>`
        : `<ellipse cx="${x + w / 2}" cy="${y + h / 2}" rx="${Math.max(0, (w - sw) / 2)}" ry="${Math.max(0, (h - sw) / 2)}" ${paint}/>`
    }
    case 'pspdfkit/shape/line': {
      const [x1, y1] = rect(c.startPoint)
      const [x2, y2] = rect(c.endPoint)
      return `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${color(c.strokeColor, '#000000')}" stroke-width="${num(c.strokeWidth, 1)}" opacity="${opacity}"/>`
    }
    case 'pspdfkit/note':
      return `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="2" fill="${color(c.color, '#ffd54f')}" stroke="#8d6e00" stroke-width="0.75" opacity="${opacity}"/>`
    case 'pspdfkit/text': {
      const size = num(c.fontSize, 12)
      const value = escapeXml(String((c.text as { value?: unknown } | undefined)?.value ?? '')).slice(0, 4000)
      const bg = c.backgroundColor ? `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${color(c.backgroundColor, 'none')}"/>` : ''
      const lines = value.split('\n').map((line, i) => `<tspan x="${x + 2}" dy="${i === 0 ? size : size * 1.2}">${line}</tspan>`).join('')
      return `${bg}<text y="${y}" font-family="Helvetica, Arial, sans-serif" font-size="${size}" fill="${color(c.fontColor, '#000000')}" opacity="${opacity}">${lines}</text>`
    }
    case 'pspdfkit/stamp': {
      const stroke = color(c.color, '#c62828')
      const label = escapeXml(String(c.title ?? c.stampType ?? 'Stamp')).slice(0, 200)
      return `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="4" fill="none" stroke="${stroke}" stroke-width="2" opacity="${opacity}"/>` +
        `<text x="${x + w / 2}" y="${y + h / 2}" text-anchor="middle" dominant-baseline="central" font-family="Helvetica, Arial, sans-serif" font-weight="bold" font-size="${Math.max(6, Math.min(h * 0.5, 24))}" fill="${stroke}" opacity="${opacity}">${label}</text>`
    }
    default:
      return ''
  }
}

/**
 * The page's annotations as one SVG fragment in the displayed page's coordinates: unrotated
 * page (width × height points) turned by `rotation` degrees clockwise, as PDF /Rotate does.
 */
export function pageOverlaySvg(contents: readonly Content[], page: { width: number; height: number; rotation: number }): string {
  const body = contents.map(annotationSvg).join('')
  if (body === '') return ''
  const { width: W, height: H } = page
  const matrix = ({ 90: `0 1 -1 0 ${H} 0`, 180: `-1 0 0 -1 ${W} ${H}`, 270: `0 -1 1 0 0 ${W}` } as Record<number, string>)[page.rotation]
  return matrix ? `<g transform="matrix(${matrix})">${body}</g>` : body
}
