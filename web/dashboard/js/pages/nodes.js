// Nodes sharing the database (GET /api/nodes). The shape is shown generically: whatever fields
// the server reports, with times formatted, so the page needs no change when fields are added.
import { api } from '../api.js'
import { errorCard, formatDate, h, pageHead, table, unavailable } from '../ui.js'

const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d/

function cell(v) {
  if (v === null || v === undefined) return '—'
  if (typeof v === 'boolean') return h('span', { class: 'badge ' + (v ? 'badge-ok' : 'badge-warn') }, v ? 'yes' : 'no')
  if (typeof v === 'string' && TIME_RE.test(v)) return formatDate(v)
  if (typeof v === 'object') return h('span', { class: 'mono' }, JSON.stringify(v))
  return String(v)
}

export async function nodesPage(root) {
  root.append(pageHead('Nodes', 'Folio processes sharing this database.'))
  let body
  try {
    body = await api('/nodes')
  } catch (e) {
    root.append(e.notAvailable ? unavailable('a list of nodes') : errorCard(e))
    return
  }
  const nodes = Array.isArray(body.data) ? body.data : (body.data && Array.isArray(body.data.nodes) ? body.data.nodes : [])
  if (nodes.length === 0) { root.append(h('div', { class: 'card empty' }, 'No node has reported in.')); return }
  const keys = [...new Set(nodes.flatMap((n) => Object.keys(n)))]
  root.append(h('section', { class: 'card card-flush', id: 'node-list' },
    table(keys.map((k) => ({ label: k.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' '), cell: (n) => cell(n[k]) })), nodes, 'Nodes')))
}
