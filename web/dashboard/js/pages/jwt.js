// JWT validator: paste a token, see whether Folio would accept it and which check fails
// (POST /api/jwt/validate: the same checks as the client surfaces; never key material).
import { api } from '../api.js'
import { errorCard, field, h, pageHead, table, unavailable } from '../ui.js'

const REASONS = {
  expired: 'The token has expired (exp is in the past).',
  bad_signature: 'No valid key verifies the signature.',
  revoked: 'The token is revoked.',
  lifetime_too_long: 'exp lies further ahead than JWT_MAX_LIFETIME allows.',
  not_yet_valid: 'nbf is in the future.',
  algorithm_not_allowed: 'The token\'s alg is not one a valid key allows.',
  malformed: 'This is not a compact JWT.',
  no_keys: 'No JWT public key is configured.',
}

export async function jwtPage(root) {
  const input = h('textarea', { id: 'jwt-token', name: 'token', required: true, spellcheck: 'false', autocomplete: 'off', placeholder: 'eyJhbGciOi…' })
  const out = h('div', { id: 'jwt-result', 'aria-live': 'polite' })
  const form = h('form', { class: 'card', id: 'jwt-form' },
    field('Token', input, 'checked by this server, never stored'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', id: 'jwt-submit' }, 'Validate')))
  root.append(pageHead('JWT validator', 'Paste a client token to see whether Folio accepts it, and if not, which check fails.'), form, out)
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    let r
    try {
      r = (await api('/jwt/validate', { method: 'POST', json: { token: input.value.trim() } })).data
    } catch (err) {
      out.replaceChildren(err.notAvailable ? unavailable('the JWT validator') : errorCard(err))
      return
    }
    const ok = r.valid === true
    const box = h('div', { class: 'result ' + (ok ? 'result-ok' : 'result-bad'), dataset: { valid: String(ok), reason: r.reason || '' } },
      h('h3', {}, ok ? '✓ Valid: Folio accepts this token' : '✗ Refused: ' + (r.reason || 'invalid')),
      !ok && REASONS[r.reason] ? h('p', {}, REASONS[r.reason]) : null,
      r.claim ? h('p', {}, 'Claim at fault: ', h('code', {}, r.claim)) : null)
    const grant = r.grant || (ok && r.claims ? { documentId: r.claims.document_id, permissions: r.claims.permissions } : null)
    if (grant) {
      box.append(h('dl', { class: 'kv' },
        h('dt', {}, 'Document'), h('dd', { class: 'mono' }, grant.documentId || '—'),
        h('dt', {}, 'Permissions'), h('dd', {}, (grant.permissions || []).join(', ') || '—'),
        grant.layer !== undefined ? [h('dt', {}, 'Layer'), h('dd', {}, grant.layer === '' ? '(default)' : grant.layer)] : null,
        grant.userId ? [h('dt', {}, 'User'), h('dd', {}, grant.userId)] : null))
    }
    const parts = [box]
    if (Array.isArray(r.keys_tried) && r.keys_tried.length) {
      parts.push(h('section', { class: 'card card-flush' }, h('div', { class: 'card-pad' }, h('h2', {}, 'Keys tried')), table([
        { label: 'Key id', cell: (k) => h('span', { class: 'mono' }, k.id) },
        { label: 'Algorithm', cell: (k) => k.algorithm },
        { label: 'Fingerprint', cell: (k) => h('span', { class: 'mono' }, k.fingerprint) },
        { label: 'Result', cell: (k) => h('span', { class: 'badge ' + (k.result === 'verified' ? 'badge-ok' : 'badge-danger') }, k.result) },
      ], r.keys_tried, 'Keys tried')))
    }
    if (r.header || r.claims) {
      parts.push(h('section', { class: 'card' }, h('h2', {}, 'Decoded'),
        r.header ? [h('h3', {}, 'Header'), h('pre', { class: 'json' }, JSON.stringify(r.header, null, 2))] : null,
        r.claims ? [h('h3', {}, ok ? 'Claims' : 'Claims (not verified)'), h('pre', { class: 'json' }, JSON.stringify(r.claims, null, 2))] : null))
    }
    out.replaceChildren(...parts)
  })
}
