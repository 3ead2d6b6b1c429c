// The dashboard's client of the server API, mounted for it at /dashboard/api with the session
// cookie (sent by the browser, HttpOnly) and the session's CSRF token in a header on every
// state-changing request (src/http/dashboard/session.ts).

const BASE = '/dashboard/api'
let session = null

export class ApiError extends Error {
  constructor(status, body) {
    const e = body && body.error ? body.error : { code: 'http_' + status, message: 'HTTP ' + status }
    super(e.message)
    this.status = status
    this.code = e.code
    this.details = e
  }
  /** The route does not exist on this server (its issue is not merged, or an older Folio). */
  get notAvailable() {
    return this.status === 404 && this.code === 'not_found'
  }
}

export async function loadSession() {
  const res = await fetch('/dashboard/session', { credentials: 'same-origin', headers: { accept: 'application/json' } })
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null))
  session = (await res.json()).data
  return session
}

export function csrfHeaders() {
  return session ? { [session.csrfHeader]: session.csrfToken } : {}
}

/** JSON request to /dashboard/api<path>; resolves to the parsed body, throws ApiError. */
export async function api(path, { method = 'GET', json, query } = {}) {
  let url = BASE + path
  if (query) {
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
    const s = q.toString()
    if (s) url += '?' + s
  }
  const headers = { accept: 'application/json' }
  if (method !== 'GET' && method !== 'HEAD') Object.assign(headers, csrfHeaders())
  let body
  if (json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(json)
  }
  const res = await fetch(url, { method, headers, body, credentials: 'same-origin' })
  const parsed = await res.json().catch(() => null)
  if (!res.ok) throw new ApiError(res.status, parsed)
  return parsed
}

/**
 * Multipart upload with progress (fetch cannot report upload progress; XHR can).
 * onProgress(fraction) is called as bytes leave; resolves to the created document.
 */
export function uploadDocument(file, fields, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData()
    for (const [k, v] of Object.entries(fields)) if (v) form.append(k, v)
    form.append('file', file, file.name)
    const xhr = new XMLHttpRequest()
    xhr.open('POST', BASE + '/documents')
    for (const [k, v] of Object.entries(csrfHeaders())) xhr.setRequestHeader(k, v)
    xhr.setRequestHeader('accept', 'application/json')
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total) }
    xhr.onload = () => {
      let body = null
      try { body = JSON.parse(xhr.responseText) } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body.data)
      else reject(new ApiError(xhr.status, body))
    }
    xhr.onerror = () => reject(new ApiError(0, { error: { code: 'network_error', message: 'The upload failed (network error)' } }))
    xhr.send(form)
  })
}

export async function signOut() {
  await fetch('/dashboard/logout', { method: 'POST', headers: csrfHeaders(), credentials: 'same-origin' })
  session = null
}
