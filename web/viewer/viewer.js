// Folio viewer (spec §9, issue #7): every page as an element with data-page-index, page images
// loaded lazily at the displayed width × devicePixelRatio, annotations drawn over them, live
// changes from the events stream. A refused token shows a message and no page.
import { AnnotationLayer, COLORS } from './annotations.js'
import { TYPE_LABELS, svg } from './draw.js'
import { listen } from './live.js'
import { createTransport, ViewerError } from './transport.js'
import { setupSearch } from './search.js'
import { setupPanel } from './panel.js'

const $ = (id) => document.getElementById(id)
const MAX_RENDER_WIDTH = 5000 // px, the server's limit (spec §3)
const state = { zoom: 1, pages: [], visible: new Set(), imagesUnavailable: false }
let transport
let layer

function message(title, text, code) {
  $('pages').replaceChildren()
  $('tools').hidden = true
  document.querySelector('.view-controls').hidden = true
  const m = $('message')
  const h = document.createElement('h2')
  h.textContent = title
  const p = document.createElement('p')
  p.textContent = text
  m.replaceChildren(h, p)
  if (code) {
    const c = document.createElement('p')
    c.className = 'code'
    c.textContent = code
    m.append(c)
  }
  m.hidden = false
  document.body.dataset.state = 'error'
}

/** Words a person can act on, for each way opening a document can fail. */
function explain(e) {
  if (e.code === 'invalid_token') {
    if (e.reason === 'expired') return ['This link has expired', 'The access token is no longer valid. Ask for a new link.', 'invalid_token: expired']
    if (e.reason === 'revoked') return ['Access was revoked', 'This access token has been revoked. Ask for a new link.', 'invalid_token: revoked']
    return ['The access token was refused', 'This link does not grant access to the document. Ask for a new link.', `invalid_token${e.reason ? ': ' + e.reason : ''}`]
  }
  if (e.code === 'forbidden') return ['No access to this document', 'The access token does not allow viewing this document.', 'forbidden']
  if (e.code === 'document_not_found') return ['Document not found', 'There is no such document, or it was deleted.', 'document_not_found']
  if (e.code === 'no_document' || e.code === 'no_token') return ['Nothing to show', e.message, e.code]
  if (e.status === 401 || e.code === 'unauthorized') return ['Sign in to the dashboard first', 'Open the dashboard, sign in, then open the document again.', 'unauthorized']
  if (e.code === 'not_found') return ['Viewer not available', 'This server does not offer the viewer API yet.', 'not_found']
  return ['Could not open the document', e.message, e.code]
}

function layout() {
  const avail = Math.max(200, $('viewer').clientWidth - 24)
  const widest = Math.max(...state.pages.map((p) => p.width))
  const scale = (Math.min(avail, 980) * state.zoom) / widest
  for (const p of state.pages) {
    p.el.style.width = Math.round(p.width * scale) + 'px'
    p.el.style.height = Math.round(p.height * scale) + 'px'
  }
  $('zoom-level').value = Math.round(state.zoom * 100) + '%'
  for (const i of state.visible) loadImage(state.pages[i])
}

async function loadImage(p) {
  if (state.imagesUnavailable) return
  const wanted = Math.min(MAX_RENDER_WIDTH, Math.ceil((p.el.clientWidth * (window.devicePixelRatio || 1)) / 50) * 50)
  if (wanted <= 0 || p.loadedWidth >= wanted || p.loadingWidth >= wanted) return
  p.loadingWidth = wanted
  try {
    // annotations=false: the viewer draws them itself (editable, live); the image must not repeat them.
    const res = await transport.request(`/pages/${p.index}/image?width=${wanted}&annotations=false`, { accept: 'image/png' })
    const url = URL.createObjectURL(await res.blob())
    if (p.loadedWidth > wanted) return URL.revokeObjectURL(url)
    await new Promise((resolve) => { p.img.onload = resolve; p.img.onerror = resolve; p.img.src = url })
    if (p.url) URL.revokeObjectURL(p.url)
    p.url = url
    p.loadedWidth = wanted
    p.el.dataset.imageWidth = String(wanted)
    p.placeholder.hidden = true
  } catch (e) {
    if (e.code === 'not_found') {
      state.imagesUnavailable = true // rendering is not on this server: keep the page boxes, say so once
      for (const q of state.pages) q.placeholder.textContent = 'Page preview not available on this server'
    } else {
      p.placeholder.textContent = 'Could not load this page'
    }
  } finally {
    p.loadingWidth = 0
  }
}

function buildPages(info) {
  const container = $('pages')
  const observer = new IntersectionObserver((entries) => {
    for (const en of entries) {
      const i = Number(en.target.dataset.pageIndex)
      if (en.isIntersecting) {
        state.visible.add(i)
        loadImage(state.pages[i])
      } else state.visible.delete(i)
    }
  }, { root: $('viewer'), rootMargin: '400px 0px' })
  state.pages = info.pages.map((pg) => {
    const turned = pg.rotation === 90 || pg.rotation === 270
    const width = turned ? pg.height : pg.width
    const height = turned ? pg.width : pg.height
    const el = document.createElement('section')
    el.className = 'page'
    el.dataset.pageIndex = String(pg.pageIndex)
    el.setAttribute('aria-label', `Page ${pg.pageIndex + 1} of ${info.pageCount}`)
    const img = document.createElement('img')
    img.alt = ''
    img.decoding = 'async'
    const placeholder = document.createElement('div')
    placeholder.className = 'placeholder'
    placeholder.textContent = 'Loading…'
    const overlay = svg('svg', { class: 'overlay', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none' })
    const num = document.createElement('span')
    num.className = 'page-number'
    num.textContent = String(pg.pageIndex + 1)
    num.setAttribute('aria-hidden', 'true')
    el.append(placeholder, img, overlay, num)
    container.append(el)
    observer.observe(el)
    return { index: pg.pageIndex, width, height, el, img, placeholder, svg: overlay, loadedWidth: 0, loadingWidth: 0 }
  })
}

function setupTools() {
  const tools = $('tools')
  tools.hidden = false
  const buttons = [...tools.querySelectorAll('.tool')]
  const pick = (tool) => {
    layer.setTool(tool)
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.tool === tool))
  }
  for (const b of buttons) b.addEventListener('click', () => pick(b.dataset.tool))
  const swatches = (container, onPick, current) => {
    container.replaceChildren()
    for (const c of COLORS) {
      const s = document.createElement('button')
      s.type = 'button'
      s.className = 'swatch'
      s.style.background = c.value
      s.setAttribute('role', 'radio')
      s.setAttribute('aria-label', c.name)
      s.setAttribute('aria-checked', String(c.value === current))
      s.dataset.color = c.value
      s.addEventListener('click', () => {
        for (const o of container.children) o.setAttribute('aria-checked', String(o === s))
        onPick(c.value)
      })
      container.append(s)
    }
  }
  swatches($('colors'), (c) => { layer.color = c }, layer.color)
  $('delete-annotation').addEventListener('click', () => { const a = layer.selected(); if (a) layer.remove(a.id) })
  $('edit-note').addEventListener('click', () => layer.editNote())
  layer.ui.onSelect = (a) => {
    $('selection-bar').hidden = !a
    if (!a) return
    $('selection-label').textContent = `${TYPE_LABELS[a.content.type] || 'Annotation'} on page ${a.content.pageIndex + 1}`
    $('edit-note').hidden = a.content.type !== 'pspdfkit/note'
    swatches($('selection-colors'), (c) => layer.recolor(c), null)
  }
  document.addEventListener('keydown', (e) => {
    if (e.target.closest('input, textarea, dialog') || e.ctrlKey || e.metaKey || e.altKey) return
    const map = { v: 'select', h: 'highlight', r: 'rectangle', i: 'ink', n: 'note' }
    if (map[e.key.toLowerCase()]) pick(map[e.key.toLowerCase()])
    if (e.key === 'Escape') { pick('select'); layer.select(null) }
  })
}

function editNote(initial) {
  const d = $('note-dialog')
  const ta = $('note-text')
  ta.value = initial
  d.returnValue = ''
  d.showModal()
  ta.focus()
  return new Promise((resolve) => d.addEventListener('close', () => resolve(d.returnValue === 'ok' ? ta.value : null), { once: true }))
}

/** For screen readers: what just happened (aria-live region). */
function announce(text) {
  $('announcer').textContent = text
}

async function main() {
  window.addEventListener('hashchange', () => location.reload())
  try {
    transport = await createTransport(location.hash)
  } catch (e) {
    return message(...explain(e instanceof ViewerError ? e : new ViewerError(0, null)))
  }
  let info
  try {
    info = (await transport.json('/document_info')).data
  } catch (e) {
    return message(...explain(e))
  }
  document.title = (info.title || info.document_id) + ' · Folio'
  $('doc-title').textContent = info.title || 'Untitled document'
  $('doc-meta').textContent = `${info.pageCount} page${info.pageCount === 1 ? '' : 's'} · ${transport.canWrite ? 'can annotate' : 'read only'}`
  document.body.dataset.state = 'ready'
  buildPages(info)
  layout()
  layer = new AnnotationLayer({ transport, pages: state.pages, ui: { announce, error: showError, editNote, onSelect: () => {} } })
  if (transport.canWrite) setupTools()
  setupSearch({ transport, pages: state.pages, info, announce })
  setupPanel({ transport, pages: state.pages, announce, error: showError })
  try {
    await layer.load()
  } catch (e) {
    // not_found: this server has no annotations API yet; show the pages without them.
    if (e.code === 'not_found') layer.unavailable = true
    else showError(e)
  }
  document.body.dataset.annotations = layer.unavailable ? 'unavailable' : 'loaded'
  if (!layer.unavailable) listen(transport, { onChange: () => layer.scheduleRefresh(), onState: liveState, onRefused: (e) => showError(e) })
  else $('tools').hidden = true

  $('zoom-in').addEventListener('click', () => zoom(1.25))
  $('zoom-out').addEventListener('click', () => zoom(0.8))
  document.addEventListener('keydown', (e) => {
    if (e.target.closest('input, textarea, dialog')) return
    if (e.key === '+' || e.key === '=') zoom(1.25)
    if (e.key === '-') zoom(0.8)
  })
  let resizeTimer
  window.addEventListener('resize', () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(layout, 150) })
}

function zoom(f) {
  state.zoom = Math.min(4, Math.max(0.25, state.zoom * f))
  layout()
}

function liveState(s, reason) {
  const el = $('live')
  el.hidden = false
  el.dataset.state = s
  $('live-text').textContent = s === 'live' ? 'Live' : s === 'polling' ? 'Auto-refresh' : 'Reconnecting…'
  // Why there is no live stream, for the curious (hover) and for support.
  el.title = reason ? `Auto-refresh every few seconds: ${reason}` : ''
}

let noticeTimer
function showError(e) {
  const [title, text] = explain(e)
  const n = $('notice')
  n.textContent = `${title}. ${text}`
  n.hidden = false
  clearTimeout(noticeTimer)
  noticeTimer = setTimeout(() => { n.hidden = true }, 7000)
}

main()
