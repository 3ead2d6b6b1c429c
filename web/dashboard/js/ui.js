// Small DOM helpers. Text is always set as text (never as HTML), so nothing from the server or
// a document title can inject markup.

/** h('button', { class: 'btn', onclick }, 'Text', childNode) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v)
    else if (k === 'class') el.className = v
    else if (k === 'dataset') Object.assign(el.dataset, v)
    else if (v === true) el.setAttribute(k, '')
    else el.setAttribute(k, String(v))
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue
    el.append(c instanceof Node ? c : document.createTextNode(String(c)))
  }
  return el
}

/** An inline SVG icon from a path list (no external files, no innerHTML). */
export function icon(paths, cls = 'icon') {
  const ns = 'http://www.w3.org/2000/svg'
  const svg = document.createElementNS(ns, 'svg')
  svg.setAttribute('viewBox', '0 0 24 24')
  svg.setAttribute('aria-hidden', 'true')
  svg.setAttribute('class', cls)
  svg.setAttribute('fill', 'none')
  svg.setAttribute('stroke', 'currentColor')
  svg.setAttribute('stroke-width', '1.8')
  svg.setAttribute('stroke-linecap', 'round')
  for (const d of paths) {
    const p = document.createElementNS(ns, 'path')
    p.setAttribute('d', d)
    svg.append(p)
  }
  return svg
}

export function formatBytes(n) {
  if (n < 1024) return n + ' B'
  const units = ['KB', 'MB', 'GB', 'TB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return v.toFixed(v < 10 ? 1 : 0) + ' ' + units[i]
}

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
export function formatDate(iso) {
  if (!iso) return '—'
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? String(iso) : dateFmt.format(d)
}

export function toast(message, kind = 'info') {
  const el = h('div', { class: 'toast' + (kind === 'error' ? ' toast-error' : '') }, message)
  document.getElementById('toasts').append(el)
  setTimeout(() => el.remove(), kind === 'error' ? 7000 : 4000)
}

/** A modal confirmation; resolves true when the user confirms. Focus returns to the opener. */
export function confirmDialog({ title, text, ok = 'Delete' }) {
  const dialog = document.getElementById('confirm')
  dialog.querySelector('#confirm-title').textContent = title
  dialog.querySelector('#confirm-text').textContent = text
  dialog.querySelector('#confirm-ok').textContent = ok
  const opener = document.activeElement
  dialog.returnValue = ''
  dialog.showModal()
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      if (opener && opener.focus) opener.focus()
      resolve(dialog.returnValue === 'ok')
    }, { once: true })
  })
}

/** The "this server does not have that yet" state for pages whose API answered 404 not_found. */
export function unavailable(what) {
  return h('div', { class: 'card unavailable', role: 'note', dataset: { state: 'unavailable' } },
    icon(['M12 9v4', 'M12 17h.01', 'M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z']),
    h('div', {},
      h('h2', {}, 'Not available on this server'),
      h('p', { class: 'muted' }, `This Folio does not offer ${what} yet. The page lights up once the server has the API.`)))
}

export function errorCard(e) {
  return h('div', { class: 'card result result-bad', role: 'alert' }, h('h3', {}, 'Something went wrong'),
    h('p', {}, e.message), e.code ? h('p', { class: 'muted mono' }, e.code) : null)
}

export function pageHead(title, subtitle, ...actions) {
  return h('div', { class: 'page-head' },
    h('div', {}, h('h1', {}, title), subtitle ? h('p', { class: 'muted' }, subtitle) : null),
    actions.length ? h('div', { class: 'actions' }, ...actions) : null)
}

/** A table from rows; columns: [{ label, cell: row => node|string, num? }]. */
export function table(columns, rows, caption) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    caption ? h('caption', { class: 'sr-only' }, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.cell(r))))))))
}

export function field(labelText, control, hint) {
  const id = control.id || 'f-' + Math.random().toString(36).slice(2, 9)
  control.id = id
  return h('div', { class: 'field' }, h('label', { for: id }, labelText, hint ? h('span', { class: 'hint' }, ' — ' + hint) : null), control)
}
