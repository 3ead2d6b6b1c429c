// Search box of the viewer: asks Folio's search route (GET …/search, the same for a JWT and a
// dashboard session), draws every match as a box over its page and jumps from one to the next.
// Results are in annotation coordinates (unrotated page, top-left origin); the overlay is in the
// page as displayed, so a rotated page's boxes are turned the way PDF /Rotate turns the page.
import { svg } from './draw.js'

const $ = (id) => document.getElementById(id)

function toDisplay([l, t, w, h], page) {
  const W = page.pdfWidth, H = page.pdfHeight
  const corners = [[l, t], [l + w, t + h]].map(([x, y]) => {
    switch (page.rotation) {
      case 90: return [H - y, x]
      case 180: return [W - x, H - y]
      case 270: return [y, W - x]
      default: return [x, y]
    }
  })
  const [[x1, y1], [x2, y2]] = corners
  return [Math.min(x1, x2), Math.min(y1, y2), Math.abs(x2 - x1), Math.abs(y2 - y1)]
}

export function setupSearch({ transport, pages, info, announce }) {
  const form = $('search-form')
  const input = $('search-input')
  const count = $('search-count')
  form.hidden = false
  let hits = []
  let current = -1
  let lastQuery = ''

  const clear = () => {
    for (const p of pages) for (const g of p.svg.querySelectorAll('.search-hits')) g.remove()
    hits = []
    current = -1
    count.value = ''
  }

  const show = (i) => {
    for (const el of document.querySelectorAll('.search-hit.current')) el.classList.remove('current')
    current = i
    const hit = hits[i]
    for (const el of hit.els) el.classList.add('current')
    pages[hit.pageIndex].el.scrollIntoView({ block: 'center' })
    count.value = `${i + 1} of ${hits.length}`
  }

  async function run(q) {
    clear()
    lastQuery = q
    if (q.trim().length < 3) {
      count.value = q.trim() === '' ? '' : 'Type 3 letters or more'
      return
    }
    let results
    try {
      results = (await transport.json(`/search?q=${encodeURIComponent(q)}`)).data
    } catch (e) {
      count.value = e.message
      return
    }
    if (q !== lastQuery) return // a newer search started meanwhile
    const groups = new Map()
    hits = results.map((r) => {
      const page = pages[r.pageIndex]
      const row = info.pages[r.pageIndex]
      if (!page || !row) return { pageIndex: r.pageIndex, els: [] }
      let g = groups.get(r.pageIndex)
      if (!g) {
        g = svg('g', { class: 'search-hits' })
        page.svg.prepend(g) // under the annotations, so they stay clickable
        groups.set(r.pageIndex, g)
      }
      const geometry = { pdfWidth: row.width, pdfHeight: row.height, rotation: row.rotation }
      const els = r.rectsOnPage.map((rect) => {
        const [x, y, w, h] = toDisplay(rect, geometry)
        const el = svg('rect', { class: 'search-hit', x, y, width: w, height: h })
        g.append(el)
        return el
      })
      return { pageIndex: r.pageIndex, els }
    })
    announce(`${hits.length} ${hits.length === 1 ? 'match' : 'matches'}`)
    if (hits.length === 0) count.value = 'No matches'
    else show(0)
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    const q = input.value
    if (q !== lastQuery || hits.length === 0) run(q)
    else show((current + 1) % hits.length) // Enter again: the next match
  })
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      input.value = ''
      clear()
      lastQuery = ''
    }
  })
}
