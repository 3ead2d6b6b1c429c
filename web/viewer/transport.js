// How the viewer reaches Folio. Two credentials, one set of paths below a base:
// - a client JWT from the URL fragment (#document=ID&jwt=TOKEN), sent as Authorization: Bearer
//   to /i/d/ID/… (spec §7, §9). The fragment never travels to a server.
// - the dashboard session (#document=ID&session=dashboard), for operators opening a document
//   from the dashboard: the session cookie (Path=/dashboard) goes to /dashboard/api/documents/ID/…,
//   with the session's CSRF token on changes. Folio verifies JWTs but holds no private key to
//   mint one, so the dashboard uses its own session instead (docs/architecture.md).

export class ViewerError extends Error {
  constructor(status, body) {
    const e = body && body.error ? body.error : { code: status ? 'http_' + status : 'network_error', message: status ? 'HTTP ' + status : 'Network error' }
    super(e.message)
    this.status = status
    this.code = e.code
    this.reason = e.reason
  }
}

/** The claims of a JWT, decoded without verification: only to shape the UI; the server decides. */
function claimsOf(jwt) {
  try {
    const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    return JSON.parse(decodeURIComponent(escape(atob(part))))
  } catch {
    return {}
  }
}

export async function createTransport(fragment) {
  const params = new URLSearchParams(fragment.replace(/^#/, ''))
  const documentId = params.get('document')
  if (!documentId) throw new ViewerError(0, { error: { code: 'no_document', message: 'No document given. Open the viewer as /viewer#document=ID&jwt=TOKEN.' } })
  const id = encodeURIComponent(documentId)
  const jwt = params.get('jwt')
  let base
  let auth
  let write
  let csrf = {}
  let userId
  if (jwt) {
    base = `/i/d/${id}`
    auth = { authorization: 'Bearer ' + jwt }
    const claims = claimsOf(jwt)
    write = Array.isArray(claims.permissions) && claims.permissions.includes('write')
    userId = claims.user_id
  } else if (params.get('session') === 'dashboard') {
    base = `/dashboard/api/documents/${id}`
    auth = {}
    const res = await fetch('/dashboard/session', { credentials: 'same-origin', headers: { accept: 'application/json' } })
    if (!res.ok) throw new ViewerError(res.status, await res.json().catch(() => null))
    const s = (await res.json()).data
    csrf = { [s.csrfHeader]: s.csrfToken }
    write = true
    userId = s.username
  } else {
    throw new ViewerError(0, { error: { code: 'no_token', message: 'No access token given. Open the viewer as /viewer#document=ID&jwt=TOKEN.' } })
  }

  async function request(path, { method = 'GET', json, accept = 'application/json', signal } = {}) {
    const headers = { ...auth, accept }
    if (method !== 'GET') Object.assign(headers, csrf)
    let body
    if (json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(json)
    }
    let res
    try {
      res = await fetch(base + path, { method, headers, body, signal, credentials: 'same-origin', cache: 'no-store' })
    } catch (e) {
      if (e.name === 'AbortError') throw e
      throw new ViewerError(0, null)
    }
    if (!res.ok) throw new ViewerError(res.status, await res.json().catch(() => null))
    return res
  }

  return {
    documentId,
    mode: jwt ? 'jwt' : 'dashboard',
    canWrite: write,
    userId,
    request,
    async json(path, opts) {
      return (await request(path, opts)).json()
    },
  }
}
