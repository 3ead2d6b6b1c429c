// Drawing Instant JSON annotations (v2) as SVG in page coordinates: PDF points, origin at the
// top left of the page, bbox/rects = [left, top, width, height] (the convention of issue #5).

const NS = 'http://www.w3.org/2000/svg'

export function svg(tag, attrs = {}) {
  const el = document.createElementNS(NS, tag)
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v))
  return el
}

export const TYPE_LABELS = {
  'pspdfkit/markup/highlight': 'Highlight',
  'pspdfkit/markup/underline': 'Underline',
  'pspdfkit/markup/strikeout': 'Strikeout',
  'pspdfkit/markup/squiggly': 'Squiggly underline',
  'pspdfkit/shape/rectangle': 'Rectangle',
  'pspdfkit/shape/ellipse': 'Ellipse',
  'pspdfkit/shape/line': 'Line',
  'pspdfkit/ink': 'Ink drawing',
  'pspdfkit/note': 'Note',
  'pspdfkit/text': 'Text',
  'pspdfkit/link': 'Link',
  'pspdfkit/stamp': 'Stamp',
}

/** The colour property a type is drawn with (what the colour picker changes). */
export function colorKey(type) {
  if (type === 'pspdfkit/shape/rectangle' || type === 'pspdfkit/shape/ellipse' || type === 'pspdfkit/shape/line' || type === 'pspdfkit/ink') return 'strokeColor'
  if (type === 'pspdfkit/text') return 'fontColor'
  return 'color'
}

const num = (v, d) => (typeof v === 'number' && Number.isFinite(v) ? v : d)

/** The SVG group for one annotation: its marks plus an invisible hit box for picking. */
export function drawAnnotation(a, pageNumber) {
  const c = a.content
  const [x, y, w, h] = Array.isArray(c.bbox) ? c.bbox : [0, 0, 0, 0]
  const label = `${TYPE_LABELS[c.type] || 'Annotation'} on page ${pageNumber}` + (c.type === 'pspdfkit/note' && c.text ? `: ${c.text.value}` : '')
  const g = svg('g', { class: 'annot', 'data-annotation-id': a.id, 'data-annotation-type': c.type, tabindex: 0, role: 'button', 'aria-label': label })
  const opacity = num(c.opacity, 1)
  const color = c[colorKey(c.type)] || '#ffd400'
  switch (c.type) {
    case 'pspdfkit/markup/highlight':
      for (const r of c.rects || [c.bbox]) g.append(svg('rect', { class: 'highlight', x: r[0], y: r[1], width: r[2], height: r[3], fill: color, 'fill-opacity': 0.45 * opacity }))
      break
    case 'pspdfkit/markup/underline':
    case 'pspdfkit/markup/squiggly':
    case 'pspdfkit/markup/strikeout':
      for (const r of c.rects || [c.bbox]) {
        const ly = c.type === 'pspdfkit/markup/strikeout' ? r[1] + r[3] / 2 : r[1] + r[3] - 1
        g.append(svg('line', { x1: r[0], y1: ly, x2: r[0] + r[2], y2: ly, stroke: color, 'stroke-width': 1.5, opacity, 'stroke-dasharray': c.type.endsWith('squiggly') ? '2 2' : null }))
      }
      break
    case 'pspdfkit/shape/rectangle':
    case 'pspdfkit/shape/ellipse': {
      const sw = num(c.strokeWidth, 2)
      const attrs = { fill: c.fillColor || 'none', stroke: color, 'stroke-width': sw, opacity }
      g.append(c.type.endsWith('rectangle')
        ? svg('rect', { ...attrs, x: x + sw / 2, y: y + sw / 2, width: Math.max(0, w - sw), height: Math.max(0, h - sw) })
        : svg('ellipse', { ...attrs, cx: x + w / 2, cy: y + h / 2, rx: Math.max(0, (w - sw) / 2), ry: Math.max(0, (h - sw) / 2) }))
      break
    }
    case 'pspdfkit/shape/line':
      g.append(svg('line', { x1: c.startPoint[0], y1: c.startPoint[1], x2: c.endPoint[0], y2: c.endPoint[1], stroke: color, 'stroke-width': num(c.strokeWidth, 2), opacity }))
      break
    case 'pspdfkit/ink':
      for (const line of (c.lines && c.lines.points) || []) {
        g.append(svg('polyline', { points: line.map((p) => p.join(',')).join(' '), fill: 'none', stroke: color, 'stroke-width': num(c.lineWidth, 3), 'stroke-linecap': 'round', 'stroke-linejoin': 'round', opacity }))
      }
      break
    case 'pspdfkit/note': {
      const s = Math.min(w || 24, h || 24)
      const icon = svg('g', { class: 'note-icon' })
      icon.append(svg('path', { d: `M${x} ${y}h${s}v${s * 0.7}l${-s * 0.3} ${s * 0.3}h${-s * 0.7}z`, fill: color }))
      icon.append(svg('path', { d: `M${x + s * 0.2} ${y + s * 0.3}h${s * 0.6}M${x + s * 0.2} ${y + s * 0.5}h${s * 0.45}`, fill: 'none' }))
      g.append(icon)
      const title = svg('title')
      title.textContent = c.text ? c.text.value : ''
      g.append(title)
      break
    }
    case 'pspdfkit/text': {
      const t = svg('text', { x: x + 2, y: y + num(c.fontSize, 12), 'font-size': num(c.fontSize, 12), fill: color || '#000', opacity })
      t.textContent = c.text ? c.text.value : ''
      g.append(t)
      break
    }
    default:
      g.append(svg('rect', { x, y, width: w, height: h, fill: 'none', stroke: '#8a90a2', 'stroke-dasharray': '3 2', 'stroke-width': 1 }))
  }
  g.append(svg('rect', { class: 'hit', x: x - 2, y: y - 2, width: w + 4, height: h + 4, rx: 2 }))
  return g
}

/** A copy of content moved by (dx, dy) points: bbox, rects, ink points and line ends. */
export function moved(content, dx, dy) {
  const c = structuredClone(content)
  const shift4 = (r) => [r[0] + dx, r[1] + dy, r[2], r[3]]
  c.bbox = shift4(c.bbox)
  if (Array.isArray(c.rects)) c.rects = c.rects.map(shift4)
  if (c.lines && Array.isArray(c.lines.points)) c.lines.points = c.lines.points.map((l) => l.map((p) => [p[0] + dx, p[1] + dy]))
  if (Array.isArray(c.startPoint)) c.startPoint = [c.startPoint[0] + dx, c.startPoint[1] + dy]
  if (Array.isArray(c.endPoint)) c.endPoint = [c.endPoint[0] + dx, c.endPoint[1] + dy]
  return c
}

/** Rounds to 1/100 pt: plenty for drawing, and keeps the JSON small. */
export const r2 = (v) => Math.round(v * 100) / 100

/** New annotation content for the viewer's tools. */
export function newContent(tool, pageIndex, geometry, color, extra = {}) {
  const now = new Date().toISOString()
  const base = { v: 2, pageIndex, opacity: 1, createdAt: now, updatedAt: now, ...extra }
  if (tool === 'highlight') {
    const b = geometry.rect.map(r2)
    return { ...base, type: 'pspdfkit/markup/highlight', bbox: b, rects: [b], color, blendMode: 'multiply' }
  }
  if (tool === 'rectangle') return { ...base, type: 'pspdfkit/shape/rectangle', bbox: geometry.rect.map(r2), strokeColor: color, strokeWidth: 2 }
  if (tool === 'ink') {
    const lineWidth = 3
    const pts = geometry.points.map((p) => [r2(p[0]), r2(p[1])])
    const xs = pts.map((p) => p[0])
    const ys = pts.map((p) => p[1])
    const pad = lineWidth / 2
    const bbox = [Math.min(...xs) - pad, Math.min(...ys) - pad, Math.max(...xs) - Math.min(...xs) + lineWidth, Math.max(...ys) - Math.min(...ys) + lineWidth].map(r2)
    return { ...base, type: 'pspdfkit/ink', bbox, lines: { points: [pts], intensities: [pts.map(() => 0.5)] }, lineWidth, strokeColor: color, isDrawnNaturally: false }
  }
  if (tool === 'note') {
    return { ...base, type: 'pspdfkit/note', bbox: [r2(geometry.point[0]), r2(geometry.point[1]), 24, 24], text: { format: 'plain', value: geometry.text }, icon: 'comment', color }
  }
  throw new Error('unknown tool ' + tool)
}
