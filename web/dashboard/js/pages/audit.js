// Audit log (GET /api/audit): who changed which secret or revocation, and when. Never a secret.
import { api } from '../api.js'
import { errorCard, field, formatDate, h, pageHead, table, unavailable } from '../ui.js'

function actor(a) {
  if (!a) return '—'
  return h('span', {}, a.type, a.id ? h('span', { class: 'muted mono' }, ' ' + a.id) : null)
}

export async function auditPage(root) {
  const action = h('input', { type: 'search', id: 'audit-action', placeholder: 'e.g. secret.rotate', autocomplete: 'off' })
  const list = h('section', { class: 'card card-flush', id: 'audit-list', 'aria-label': 'Audit entries' })
  const filters = h('form', { class: 'card', role: 'search' }, h('div', { class: 'row' }, field('Action', action),
    h('div', {}, h('button', { type: 'submit', class: 'btn' }, 'Filter'))))
  root.append(pageHead('Audit log', 'Every change to secrets and revocations, newest first.'), filters, list)
  const cursors = [undefined]
  filters.addEventListener('submit', (e) => { e.preventDefault(); cursors.length = 1; load() })

  async function load() {
    let page
    try {
      page = await api('/audit', { query: { limit: 50, cursor: cursors[cursors.length - 1], action: action.value.trim() } })
    } catch (e) {
      if (e.notAvailable) { root.replaceChildren(root.firstChild, unavailable('an audit log')); return }
      list.replaceChildren(errorCard(e))
      return
    }
    if (page.data.length === 0) { list.replaceChildren(h('div', { class: 'empty' }, 'No entries.')); return }
    const prev = h('button', { type: 'button', class: 'btn btn-small', disabled: cursors.length < 2, onclick: () => { cursors.pop(); load() } }, '← Newer')
    const next = h('button', { type: 'button', class: 'btn btn-small', disabled: !page.next_cursor, onclick: () => { cursors.push(page.next_cursor); load() } }, 'Older →')
    list.replaceChildren(table([
      { label: 'When', cell: (r) => formatDate(r.at) },
      { label: 'Action', cell: (r) => h('span', { class: 'badge badge-accent' }, r.action) },
      { label: 'Type', cell: (r) => r.type || '—' },
      { label: 'Target', cell: (r) => r.targetId ?? '—' },
      { label: 'Fingerprint', cell: (r) => h('span', { class: 'mono' }, r.fingerprint || '—') },
      { label: 'By', cell: (r) => actor(r.actor) },
    ], page.data, 'Audit entries'), h('div', { class: 'pager' }, h('span', {}, `${page.data.length} shown`), h('div', { class: 'actions' }, prev, next)))
  }
  await load()
}
