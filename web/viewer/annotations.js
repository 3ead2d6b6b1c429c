// The annotation layer: draws every annotation over its page, and with the `write` permission
// lets the user add highlights, rectangles, ink strokes and notes, move, recolour, edit and
// delete them, by pointer or keyboard. The server is the truth: after each change (and each
// live event) the list is fetched again.
import { colorKey, drawAnnotation, moved, newContent, svg, TYPE_LABELS } from './draw.js'

export const COLORS = [
  { value: '#ffd400', name: 'Yellow' },
  { value: '#4ade80', name: 'Green' },
  { value: '#60a5fa', name: 'Blue' },
  { value: '#f472b6', name: 'Pink' },
  { value: '#ef4444', name: 'Red' },
]
const MIN_SIZE = 3 // points: smaller drags are clicks

function newId() {
  const b = new Uint8Array(16)
  crypto.getRandomValues(b)
  return 'v' + [...b].map((x) => x.toString(36).padStart(2, '0')).join('').slice(0, 26)
}

export class AnnotationLayer {
  constructor({ transport, pages, ui }) {
    this.t = transport
    this.pages = pages // [{ index, width, height, svg }]
    this.ui = ui // { announce, error, editNote(text) → Promise<string|null>, onSelect(annotation|null) }
    this.list = []
    this.tool = 'select'
    this.color = COLORS[0].value
    this.selectedId = null
    this.refreshTimer = null
    for (const p of pages) this.attach(p)
  }

  // ---- data ----
  async load() {
    const body = await this.t.json('/annotations')
    const d = body.data
    this.list = Array.isArray(d) ? d : d.annotations || []
    this.render()
  }

  /** Coalesces bursts (several events, or our own change and its event) into one fetch. */
  scheduleRefresh(delay = 80) {
    if (this.unavailable) return
    clearTimeout(this.refreshTimer)
    // Never under the user's pointer: a refresh would replace what is being dragged.
    this.refreshTimer = setTimeout(() => (this.dragging ? this.scheduleRefresh(300) : this.load().catch((e) => this.ui.error(e))), delay)
  }

  async create(content) {
    const a = { id: newId(), content }
    this.list.push(a)
    this.render()
    try {
      await this.t.request('/annotations', { method: 'POST', json: { id: a.id, content } })
      this.ui.announce(`${TYPE_LABELS[content.type]} added on page ${content.pageIndex + 1}`)
    } catch (e) {
      this.ui.error(e)
    }
    this.scheduleRefresh()
  }

  async update(id, content) {
    const a = this.list.find((x) => x.id === id)
    if (!a) return
    a.content = { ...content, updatedAt: new Date().toISOString() }
    this.render()
    try {
      await this.t.request('/annotations/' + encodeURIComponent(id), { method: 'PUT', json: { content: a.content } })
    } catch (e) {
      this.ui.error(e)
    }
    this.scheduleRefresh()
  }

  async remove(id) {
    const a = this.list.find((x) => x.id === id)
    this.list = this.list.filter((x) => x.id !== id)
    this.select(null)
    this.render()
    try {
      await this.t.request('/annotations/' + encodeURIComponent(id), { method: 'DELETE' })
      if (a) this.ui.announce(`${TYPE_LABELS[a.content.type] || 'Annotation'} deleted`)
    } catch (e) {
      this.ui.error(e)
    }
    this.scheduleRefresh()
  }

  // ---- drawing ----
  render() {
    const focusedId = document.activeElement?.dataset?.annotationId
    for (const p of this.pages) {
      let layer = p.svg.querySelector('g.annots')
      if (!layer) p.svg.append((layer = svg('g', { class: 'annots' })))
      layer.replaceChildren()
    }
    for (const a of this.list) {
      const p = this.pages[a.content.pageIndex]
      if (!p) continue
      const g = drawAnnotation(a, p.index + 1)
      if (a.id === this.selectedId) g.classList.add('selected')
      p.svg.querySelector('g.annots').append(g)
      if (a.id === focusedId) g.focus({ preventScroll: true })
    }
    if (this.selectedId && !this.list.some((a) => a.id === this.selectedId)) this.select(null)
  }

  select(id) {
    this.selectedId = id
    for (const g of document.querySelectorAll('.annot.selected')) g.classList.remove('selected')
    const a = id ? this.list.find((x) => x.id === id) : null
    if (a) document.querySelector(`.annot[data-annotation-id="${CSS.escape(id)}"]`)?.classList.add('selected')
    this.ui.onSelect(a)
  }

  setTool(tool) {
    this.tool = tool
    for (const p of this.pages) p.svg.dataset.tool = tool
    if (tool !== 'select') this.select(null)
  }

  selected() {
    return this.list.find((x) => x.id === this.selectedId) || null
  }

  recolor(color) {
    const a = this.selected()
    if (a) this.update(a.id, { ...a.content, [colorKey(a.content.type)]: color })
  }

  async editNote() {
    const a = this.selected()
    if (!a || a.content.type !== 'pspdfkit/note') return
    const text = await this.ui.editNote(a.content.text.value)
    if (text !== null) this.update(a.id, { ...a.content, text: { format: 'plain', value: text } })
  }

  // ---- input ----
  attach(p) {
    p.svg.dataset.tool = this.tool
    const at = (e) => {
      const r = p.svg.getBoundingClientRect()
      return [Math.max(0, Math.min(p.width, ((e.clientX - r.left) * p.width) / r.width)), Math.max(0, Math.min(p.height, ((e.clientY - r.top) * p.height) / r.height))]
    }
    let drag = null
    p.svg.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return
      const start = at(e)
      const g = e.target.closest('.annot')
      if (this.tool === 'select') {
        if (!g) return this.select(null)
        this.select(g.dataset.annotationId)
        if (!this.t.canWrite) return
        drag = { kind: 'move', g, start, dx: 0, dy: 0 }
      } else if (!this.t.canWrite) {
        return
      } else if (this.tool === 'ink') {
        const line = svg('polyline', { class: 'draft-ink', fill: 'none', stroke: this.color, 'stroke-width': 3, 'stroke-linecap': 'round', 'stroke-linejoin': 'round', points: start.join(',') })
        p.svg.append(line)
        drag = { kind: 'ink', points: [start], line }
      } else if (this.tool === 'note') {
        drag = { kind: 'note', start }
      } else {
        const rect = svg('rect', { class: 'draft', x: start[0], y: start[1], width: 0, height: 0 })
        p.svg.append(rect)
        drag = { kind: 'box', start, rect }
      }
      this.dragging = true
      p.svg.setPointerCapture(e.pointerId)
      e.preventDefault()
    })
    p.svg.addEventListener('pointermove', (e) => {
      if (!drag) return
      const pt = at(e)
      if (drag.kind === 'move') {
        drag.dx = pt[0] - drag.start[0]
        drag.dy = pt[1] - drag.start[1]
        drag.g.setAttribute('transform', `translate(${drag.dx} ${drag.dy})`)
      } else if (drag.kind === 'ink') {
        const last = drag.points[drag.points.length - 1]
        if (Math.hypot(pt[0] - last[0], pt[1] - last[1]) >= 1) {
          drag.points.push(pt)
          drag.line.setAttribute('points', drag.points.map((q) => q.join(',')).join(' '))
        }
      } else if (drag.kind === 'box') {
        const [x0, y0] = drag.start
        drag.rect.setAttribute('x', Math.min(x0, pt[0]))
        drag.rect.setAttribute('y', Math.min(y0, pt[1]))
        drag.rect.setAttribute('width', Math.abs(pt[0] - x0))
        drag.rect.setAttribute('height', Math.abs(pt[1] - y0))
      }
    })
    const finish = async (e) => {
      if (!drag) return
      const d = drag
      drag = null
      this.dragging = false
      const pt = at(e)
      if (d.kind === 'move') {
        d.g.removeAttribute('transform')
        if (Math.abs(d.dx) + Math.abs(d.dy) >= 1) {
          const a = this.list.find((x) => x.id === d.g.dataset.annotationId)
          if (a) this.update(a.id, moved(a.content, d.dx, d.dy))
        }
      } else if (d.kind === 'ink') {
        d.line.remove()
        if (d.points.length === 1) d.points.push([d.points[0][0] + 0.5, d.points[0][1] + 0.5])
        this.create(newContent('ink', p.index, { points: d.points }, this.color))
      } else if (d.kind === 'note') {
        const text = await this.ui.editNote('')
        if (text) this.create(newContent('note', p.index, { point: d.start, text }, this.color))
      } else if (d.kind === 'box') {
        d.rect.remove()
        const rect = [Math.min(d.start[0], pt[0]), Math.min(d.start[1], pt[1]), Math.abs(pt[0] - d.start[0]), Math.abs(pt[1] - d.start[1])]
        if (rect[2] >= MIN_SIZE && rect[3] >= MIN_SIZE) this.create(newContent(this.tool, p.index, { rect }, this.color))
      }
    }
    p.svg.addEventListener('pointerup', finish)
    p.svg.addEventListener('pointercancel', () => { this.dragging = false; if (drag) { drag.rect?.remove(); drag.line?.remove(); drag.g?.removeAttribute('transform'); drag = null } })
    p.svg.addEventListener('keydown', (e) => this.keydown(e))
  }

  /** Keyboard on a focused annotation: Enter/Space select, arrows move (Shift: 10 pt), Delete. */
  keydown(e) {
    const g = e.target.closest && e.target.closest('.annot')
    if (!g) return
    const id = g.dataset.annotationId
    if (e.key === 'Enter' || e.key === ' ') {
      this.select(id)
      e.preventDefault()
    } else if ((e.key === 'Delete' || e.key === 'Backspace') && this.t.canWrite) {
      this.remove(id)
      e.preventDefault()
    } else if (e.key.startsWith('Arrow') && this.t.canWrite) {
      const step = e.shiftKey ? 10 : 1
      const dx = e.key === 'ArrowLeft' ? -step : e.key === 'ArrowRight' ? step : 0
      const dy = e.key === 'ArrowUp' ? -step : e.key === 'ArrowDown' ? step : 0
      const a = this.list.find((x) => x.id === id)
      if (a) {
        this.selectedId = id
        this.update(id, moved(a.content, dx, dy))
      }
      e.preventDefault()
    }
  }
}
