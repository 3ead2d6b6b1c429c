// Secrets (spec §4): per type, list (ids, expiries, algorithm and fingerprint; the server never
// returns a secret), add with an expiry, rotate, expire. What the operator types stays in masked
// inputs and is cleared after sending; nothing here ever displays a secret.
import { api } from '../api.js'
import { confirmDialog, errorCard, field, formatDate, h, pageHead, table, toast, unavailable } from '../ui.js'

const TYPES = [
  { type: 'jwt', label: 'JWT public keys', help: 'PEM public keys that verify client JWTs. Every valid key is accepted.', pem: true },
  { type: 'api_auth_token', label: 'API tokens', help: 'Tokens for the server API. At least 32 characters.', generate: 32 },
  { type: 'dashboard_password', label: 'Dashboard passwords', help: 'Passwords for this dashboard (stored with scrypt). At least 8 characters.' },
  { type: 'secret_key_base', label: 'Secret key base', help: 'Key material for what Folio signs (dashboard sessions). At least 64 characters.', generate: 64 },
]
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']

function randomSecret(bytes) {
  const b = new Uint8Array(bytes)
  crypto.getRandomValues(b)
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
}

/** ISO time from a datetime-local input (local time), or undefined. */
function isoFrom(input) {
  return input.value ? new Date(input.value).toISOString() : undefined
}

function secretInput(t, id) {
  if (t.pem) return h('textarea', { id, name: 'secret', required: true, spellcheck: 'false', autocomplete: 'off', placeholder: '-----BEGIN PUBLIC KEY-----' })
  return h('input', { id, name: 'secret', type: 'password', required: true, autocomplete: 'new-password', minlength: t.type === 'dashboard_password' ? 8 : undefined })
}

function generateButton(t, input) {
  if (!t.generate) return null
  return h('button', { type: 'button', class: 'btn btn-small', onclick: async () => {
    input.value = randomSecret(t.generate)
    try {
      await navigator.clipboard.writeText(input.value)
      toast('Generated and copied to the clipboard; store it before you save')
    } catch {
      input.value = ''
      toast('Could not copy to the clipboard; type a value you have stored instead', 'error')
    }
  } }, 'Generate')
}

export async function secretsPage(root) {
  const selected = new URLSearchParams(location.hash.split('?')[1] || '').get('type') || 'jwt'
  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Secret types' })
  const panel = h('div', { role: 'tabpanel', id: 'secret-panel' })
  root.append(pageHead('Secrets', 'Changes take effect on every node within a second. Secrets are never shown.'), tabs, panel)
  for (const t of TYPES) {
    const tab = h('button', { type: 'button', role: 'tab', class: 'tab', id: 'tab-' + t.type, 'aria-controls': 'secret-panel', 'aria-selected': String(t.type === selected), tabindex: t.type === selected ? '0' : '-1', dataset: { type: t.type } }, t.label)
    tab.addEventListener('click', () => { location.hash = '#/secrets?type=' + t.type })
    tab.addEventListener('keydown', (e) => {
      const i = TYPES.indexOf(t)
      const next = e.key === 'ArrowRight' ? TYPES[(i + 1) % TYPES.length] : e.key === 'ArrowLeft' ? TYPES[(i + TYPES.length - 1) % TYPES.length] : null
      if (next) { location.hash = '#/secrets?type=' + next.type; setTimeout(() => document.getElementById('tab-' + next.type)?.focus(), 50) }
    })
    tabs.append(tab)
  }
  const t = TYPES.find((x) => x.type === selected) || TYPES[0]
  panel.setAttribute('aria-labelledby', 'tab-' + t.type)
  await renderType(panel, t)
}

async function renderType(panel, t) {
  let list
  try {
    const body = await api('/secrets/' + t.type)
    list = Array.isArray(body) ? body : body.data
  } catch (e) {
    panel.replaceChildren(e.notAvailable ? unavailable('runtime secrets (rotation, expiry)') : errorCard(e))
    return
  }
  const reload = () => renderType(panel, t)
  const columns = [
    { label: 'Id', cell: (s) => h('span', { class: 'mono' }, String(s.id)) },
    { label: 'Status', cell: (s) => s.expiresAt === null ? h('span', { class: 'badge badge-ok' }, 'Current') : h('span', { class: 'badge badge-warn' }, 'Expires ' + formatDate(s.expiresAt)) },
  ]
  if (t.type === 'jwt') {
    columns.push({ label: 'Algorithm', cell: (s) => s.algorithm || '—' }, { label: 'Fingerprint', cell: (s) => h('span', { class: 'mono' }, s.fingerprint || '—') })
  }
  columns.push({ label: 'Actions', cell: (s) => s.expiresAt === null ? h('span', { class: 'muted' }, 'Rotate to replace') : h('button', {
    type: 'button', class: 'btn btn-small btn-danger', dataset: { action: 'expire' }, 'aria-label': `Expire secret ${s.id} now`,
    onclick: async () => {
      if (!await confirmDialog({ title: 'Expire this secret now?', text: `Secret ${s.id} stops being accepted at once, on every node.`, ok: 'Expire now' })) return
      try {
        await api(`/secrets/${t.type}/${s.id}`, { method: 'PATCH', json: { expiresAt: 'now' } })
        toast('Secret expired')
        reload()
      } catch (e) { toast(e.message, 'error') }
    },
  }, 'Expire now') })

  const listCard = h('section', { class: 'card card-flush', 'aria-label': t.label, id: 'secret-list' },
    h('div', { class: 'card-head card-pad' }, h('p', { class: 'muted' }, t.help)),
    list.length ? table(columns, list, t.label) : h('div', { class: 'empty' }, 'No valid secret of this type.'))

  // Rotate
  const rotSecret = secretInput(t, 'rotate-secret')
  const rotWhen = h('select', { id: 'rotate-previous' }, h('option', { value: 'default' }, 'After the longest token lifetime (default)'), h('option', { value: 'now' }, 'Now (the old secret leaked)'), h('option', { value: 'at' }, 'At a time I choose'))
  const rotAt = h('input', { type: 'datetime-local', id: 'rotate-previous-at', hidden: true, 'aria-label': 'Previous secret expires at' })
  rotWhen.addEventListener('change', () => { rotAt.hidden = rotWhen.value !== 'at' })
  const rotAlg = t.type === 'jwt' ? h('select', { id: 'rotate-algorithm' }, h('option', { value: '' }, 'From the key'), ALGORITHMS.map((a) => h('option', { value: a }, a))) : null
  const rotate = h('form', { class: 'card', id: 'rotate-form', 'aria-labelledby': 'rotate-heading' },
    h('h2', { id: 'rotate-heading' }, 'Rotate'),
    h('p', { class: 'muted' }, 'The new secret becomes current; the previous one stays valid until the time you pick.'),
    field(t.pem ? 'New public key (PEM)' : 'New secret', rotSecret), h('div', { class: 'actions' }, generateButton(t, rotSecret)),
    field('Previous secret stays valid', rotWhen), rotAt,
    rotAlg ? field('Algorithm', rotAlg) : null,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', id: 'rotate-submit' }, 'Rotate')))
  rotate.addEventListener('submit', async (e) => {
    e.preventDefault()
    const body = { secret: rotSecret.value }
    if (rotWhen.value === 'now') body.previousExpiresAt = 'now'
    if (rotWhen.value === 'at' && rotAt.value) body.previousExpiresAt = isoFrom(rotAt)
    if (rotAlg && rotAlg.value) body.algorithm = rotAlg.value
    try {
      await api(`/secrets/${t.type}/rotate`, { method: 'POST', json: body })
      rotate.reset()
      toast('Rotated: the new secret is current')
      reload()
    } catch (err) { toast(err.message, 'error') }
  })

  // Add
  const addSecret = secretInput(t, 'add-secret')
  const addAt = h('input', { type: 'datetime-local', id: 'add-expires', required: true })
  const addAlg = t.type === 'jwt' ? h('select', { id: 'add-algorithm' }, h('option', { value: '' }, 'From the key'), ALGORITHMS.map((a) => h('option', { value: a }, a))) : null
  const add = h('form', { class: 'card', id: 'add-form', 'aria-labelledby': 'add-heading' },
    h('h2', { id: 'add-heading' }, 'Add'),
    h('p', { class: 'muted' }, 'An extra valid secret, alongside the current one, until it expires.'),
    field(t.pem ? 'Public key (PEM)' : 'Secret', addSecret), h('div', { class: 'actions' }, generateButton(t, addSecret)),
    field('Expires at', addAt), addAlg ? field('Algorithm', addAlg) : null,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add')))
  add.addEventListener('submit', async (e) => {
    e.preventDefault()
    const body = { secret: addSecret.value, expiresAt: isoFrom(addAt) }
    if (addAlg && addAlg.value) body.algorithm = addAlg.value
    try {
      await api('/secrets/' + t.type, { method: 'POST', json: body })
      add.reset()
      toast('Secret added')
      reload()
    } catch (err) { toast(err.message, 'error') }
  })

  panel.replaceChildren(listCard, h('div', { class: 'grid-2' }, rotate, add))
}
