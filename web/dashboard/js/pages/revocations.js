// JWT revocations (spec §5): the active ones, add by token / jti / document / user, lift.
import { api } from '../api.js'
import { confirmDialog, errorCard, field, formatDate, h, pageHead, table, toast, unavailable } from '../ui.js'

const KINDS = [
  { key: 'token', label: 'A token', hint: 'paste the whole JWT', multiline: true },
  { key: 'jti', label: 'A token id (jti)' },
  { key: 'document_id', label: 'Every token for a document', issued: true },
  { key: 'user_id', label: 'Every token of a user', issued: true },
]

function what(r) {
  if (r.tokenSha256) return h('span', {}, 'Token ', h('span', { class: 'mono' }, r.tokenSha256.slice(0, 16) + '…'))
  if (r.jti) return h('span', {}, 'jti ', h('span', { class: 'mono' }, r.jti))
  if (r.document_id) return h('span', {}, 'Document ', h('span', { class: 'mono' }, r.document_id))
  if (r.user_id) return h('span', {}, 'User ', h('span', { class: 'mono' }, r.user_id))
  return '—'
}

export async function revocationsPage(root) {
  root.append(pageHead('Revocations', 'A revoked token is refused on every node within a second.'))
  const listCard = h('section', { class: 'card card-flush', id: 'revocation-list', 'aria-label': 'Active revocations' })
  const kind = h('select', { id: 'revoke-kind' }, KINDS.map((k) => h('option', { value: k.key }, k.label)))
  const valueWrap = h('div')
  const issued = h('input', { type: 'datetime-local', id: 'revoke-issued-before' })
  const issuedField = field('Issued before', issued, 'optional; default now')
  const form = h('form', { class: 'card', id: 'revoke-form', 'aria-labelledby': 'revoke-heading' }, h('h2', { id: 'revoke-heading' }, 'Revoke'),
    field('What to revoke', kind), valueWrap, issuedField,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Revoke')))
  let valueInput
  const setKind = () => {
    const k = KINDS.find((x) => x.key === kind.value)
    valueInput = k.multiline
      ? h('textarea', { id: 'revoke-value', required: true, spellcheck: 'false', autocomplete: 'off' })
      : h('input', { type: 'text', id: 'revoke-value', required: true, autocomplete: 'off' })
    valueWrap.replaceChildren(field(k.key === 'token' ? 'Token' : k.key, valueInput, k.hint))
    issuedField.hidden = !k.issued
  }
  kind.addEventListener('change', setKind)
  setKind()
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const body = { [kind.value]: valueInput.value.trim() }
    if (!issuedField.hidden && issued.value) body.issuedBefore = new Date(issued.value).toISOString()
    try {
      await api('/jwt/revocations', { method: 'POST', json: body })
      form.reset()
      setKind()
      toast('Revoked')
      load()
    } catch (err) { toast(err.message, 'error') }
  })
  root.append(listCard, form)

  async function load() {
    let list
    try {
      list = (await api('/jwt/revocations')).data.revocations
    } catch (e) {
      if (e.notAvailable) { root.replaceChildren(root.firstChild, unavailable('JWT revocation')); return }
      listCard.replaceChildren(errorCard(e))
      return
    }
    if (list.length === 0) { listCard.replaceChildren(h('div', { class: 'empty' }, 'No active revocation.')); return }
    listCard.replaceChildren(table([
      { label: 'Id', cell: (r) => h('span', { class: 'mono' }, String(r.id)) },
      { label: 'Revokes', cell: what },
      { label: 'Issued before', cell: (r) => r.issuedBefore ? formatDate(r.issuedBefore) : '—' },
      { label: 'Created', cell: (r) => formatDate(r.createdAt) },
      { label: 'Ends', cell: (r) => formatDate(r.expiresAt) },
      { label: 'Actions', cell: (r) => h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Lift revocation ${r.id}`, onclick: async () => {
        if (!await confirmDialog({ title: 'Lift this revocation?', text: 'Tokens it covers are accepted again until they expire.', ok: 'Lift' })) return
        try {
          await api('/jwt/revocations/' + encodeURIComponent(r.id), { method: 'DELETE' })
          toast('Revocation lifted')
          load()
        } catch (err) { toast(err.message, 'error') }
      } }, 'Lift') },
    ], list, 'Active revocations'))
  }
  await load()
}
