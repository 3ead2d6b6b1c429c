/** Small HTTP helpers for tests: JSON requests against a running Folio. */
import assert from 'node:assert/strict'

export interface JsonResponse {
  status: number
  headers: Headers
  body: any // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string
}

export async function request(url: string, init: RequestInit & { json?: unknown } = {}): Promise<JsonResponse> {
  const headers = new Headers(init.headers)
  let body = init.body
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json')
    body = JSON.stringify(init.json)
  }
  const res = await fetch(url, { ...init, headers, body, duplex: 'half' } as RequestInit)
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = text === '' ? undefined : JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: res.status, headers: res.headers, body: parsed, text }
}

/** Asserts a Folio error response: status, stable code, and the JSON error shape. */
export function assertError(res: JsonResponse, status: number, code: string): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`)
  assert.equal(res.body?.error?.code, code, `expected code ${code}: ${res.text}`)
  assert.equal(typeof res.body.error.message, 'string')
  assert.ok(!/\bat .+:\d+:\d+/.test(res.text), 'no stack trace in a response')
}
