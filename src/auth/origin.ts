/**
 * ALLOWED_ORIGINS (spec §1, §7) and the CORS answers of the client surfaces.
 *
 * - Unset: any origin may call `/i/` and `/documents/`; a request with an `Origin` gets
 *   `Access-Control-Allow-Origin: *` (the JWT travels in a header, never in a cookie, so no
 *   credentialed CORS is needed and none is offered).
 * - Set: a listed origin is echoed back (with `Vary: Origin`); any other `Origin` is refused with
 *   403 `origin_not_allowed`, preflights included, and gets no CORS header at all.
 * - Folio's own origin (the `Origin` equals this request's scheme + host, e.g. the viewer page
 *   Folio serves itself) is same-origin and always allowed.
 * - A request without `Origin` (a backend, curl, a same-origin GET) is not a cross-origin browser
 *   request and is not judged here: the JWT still decides.
 */

export type OriginDecision =
  | { allowed: true; allowOrigin?: string }
  | { allowed: false }

export interface OriginPolicy {
  /** `self` is this request's own origin, `${protocol}://${host}`. */
  check(origin: string | undefined, self: string): OriginDecision
  /** Whether the answer depends on the Origin header (then `Vary: Origin` is sent). */
  readonly varies: boolean
}

/** Browsers serialise origins in lower case without a default port; so does this. */
export function normalizeOrigin(o: string): string | undefined {
  try {
    const u = new URL(o)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined
    return u.origin
  } catch {
    return undefined
  }
}

export function createOriginPolicy(allowed: readonly string[] | undefined): OriginPolicy {
  if (allowed === undefined) {
    return {
      varies: false,
      check: (origin) => (origin === undefined ? { allowed: true } : { allowed: true, allowOrigin: '*' }),
    }
  }
  const list = new Set(allowed.map((o) => normalizeOrigin(o)).filter((o): o is string => o !== undefined))
  return {
    varies: true,
    check(origin, self) {
      if (origin === undefined) return { allowed: true }
      // "null" (sandboxed frames, file:) never matches: it is not an origin one can list.
      const o = normalizeOrigin(origin)
      if (o !== undefined && (list.has(o) || o === normalizeOrigin(self))) return { allowed: true, allowOrigin: origin }
      return { allowed: false }
    },
  }
}

/** CORS answers for the client surfaces. */
export const CORS = {
  allowMethods: 'GET, HEAD, POST, PUT, PATCH, DELETE',
  allowHeaders: 'Authorization, Content-Type, If-None-Match, Range, Accept',
  exposeHeaders: 'ETag, Content-Range, Content-Disposition, Accept-Ranges, Content-Length',
  maxAgeSeconds: 600,
} as const
