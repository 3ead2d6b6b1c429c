/**
 * The dashboard's credential hook (spec §2, §9; issue #7), in order:
 * 1. dashboard off (no username or no valid password) → 404 `not_found`, exactly like an unknown path;
 * 2. a valid signed session cookie → in (state-changing requests also need the CSRF header and a same-origin Origin);
 * 3. else HTTP Basic: none → 401 with `WWW-Authenticate: Basic`; too many failures from this IP, or
 *    a check already running for this IP or DASHBOARD_LOGIN_CONCURRENCY running in all → 429;
 *    the attempt is counted before the password is checked; wrong → 401; right → the count is
 *    cleared and a new session cookie set.
 * A session signed out on any node is refused on every node (dashboard_signouts, checked on use).
 * A state-changing request is never authorised by Basic alone: browsers attach cached Basic
 * credentials to cross-site form posts, so it needs the session's CSRF token (403 otherwise).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { DashboardSignouts } from '../../auth/dashboard-signouts.js'
import {
  csrfMatches,
  LoginGate,
  LoginRateLimiter,
  newSession,
  parseBasicAuth,
  readSession,
  type DashboardCredentials,
  type DashboardSession,
  type SessionSigner,
} from '../../auth/dashboard.js'
import { FolioError } from '../../errors.js'

export const SESSION_COOKIE = 'folio_dashboard'
/** Set by sign-out: the next Basic header is ignored once, so the browser asks again. */
export const LOGOUT_COOKIE = 'folio_dashboard_signed_out'
export const CSRF_HEADER = 'x-csrf-token'
const COOKIE_PATH = '/dashboard'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

declare module 'fastify' {
  interface FastifyRequest {
    /** The dashboard session of this request (dashboard scope only). */
    dashboardSession?: DashboardSession
  }
}

export interface DashboardAuthDeps {
  credentials: DashboardCredentials
  signer: SessionSigner
  limiter: LoginRateLimiter
  gate: LoginGate
  signouts: DashboardSignouts
  now?: () => number
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (header === undefined || header.length > 16_384) return out
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq).trim()
    if (name !== '' && !(name in out)) out[name] = part.slice(eq + 1).trim()
  }
  return out
}

/** HttpOnly, SameSite=Strict, Path=/dashboard, Secure when the request came over HTTPS. */
export function cookie(req: FastifyRequest, name: string, value: string, maxAgeSeconds?: number): string {
  const parts = [`${name}=${value}`, `Path=${COOKIE_PATH}`, 'HttpOnly', 'SameSite=Strict']
  if (maxAgeSeconds !== undefined) parts.push(`Max-Age=${maxAgeSeconds}`)
  // req.protocol believes X-Forwarded-Proto only from TRUSTED_PROXIES (fastify trustProxy).
  if (req.protocol === 'https') parts.push('Secure')
  return parts.join('; ')
}

function challenge(reply: FastifyReply, message = 'Dashboard username and password required'): never {
  reply.header('www-authenticate', 'Basic realm="Folio dashboard", charset="UTF-8"')
  throw new FolioError('unauthorized', {}, { message })
}

/** Refuses cross-site and token-less state changes (403 invalid_csrf_token). */
function checkCsrf(req: FastifyRequest, session: DashboardSession): void {
  if (SAFE_METHODS.has(req.method)) return
  const origin = req.headers.origin
  if (origin !== undefined && origin !== `${req.protocol}://${req.host}`) {
    throw new FolioError('invalid_csrf_token', {}, { message: 'Cross-origin requests cannot change anything through the dashboard' })
  }
  const site = req.headers['sec-fetch-site']
  if (origin === undefined && site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new FolioError('invalid_csrf_token', {}, { message: 'Cross-site requests cannot change anything through the dashboard' })
  }
  const token = req.headers[CSRF_HEADER]
  if (!csrfMatches(session, typeof token === 'string' ? token : undefined)) throw new FolioError('invalid_csrf_token')
}

export function createDashboardAuthHook(deps: DashboardAuthDeps) {
  const now = deps.now ?? Date.now
  return async function dashboardAuth(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!deps.credentials.enabled()) throw new FolioError('not_found')
    const t = now()
    const cookies = parseCookies(req.headers.cookie)
    const session = readSession(deps.signer, cookies[SESSION_COOKIE], t)
    if (session && deps.credentials.stillValid(session.u, session.c) && !(await deps.signouts.isSignedOut(session.i))) {
      req.dashboardSession = session
      req.streamCredential = sessionCredential(deps, session)
      checkCsrf(req, session)
      return
    }
    const basic = parseBasicAuth(req.headers.authorization)
    if (basic === undefined) challenge(reply)
    if (cookies[LOGOUT_COOKIE] !== undefined) {
      // After sign-out the browser still sends its cached Basic credentials; one 401 makes it
      // forget them and ask. Not a failed login: nothing was tried.
      reply.header('set-cookie', cookie(req, LOGOUT_COOKIE, '', 0))
      challenge(reply, 'Signed out; sign in again')
    }
    const wait = deps.limiter.retryAfter(req.ip, t)
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)))
      throw new FolioError('too_many_requests', {}, { message: 'Too many failed dashboard logins from this address; try again later' })
    }
    if (!deps.gate.enter(req.ip)) {
      reply.header('retry-after', '1')
      throw new FolioError('too_many_requests', {}, { message: 'Another dashboard login is being checked; try again in a moment' })
    }
    // Counted before the check: parallel attempts cannot all pass the limit while verifying.
    // A right password clears the count below.
    deps.limiter.fail(req.ip, t)
    let credentialId: string | undefined
    try {
      credentialId = await deps.credentials.verify(basic.username, basic.password)
    } finally {
      deps.gate.leave(req.ip)
    }
    if (credentialId === undefined) challenge(reply, 'Wrong dashboard username or password')
    deps.limiter.succeed(req.ip)
    if (!SAFE_METHODS.has(req.method)) {
      throw new FolioError('invalid_csrf_token', {}, { message: 'Load the dashboard first: changes need its session and CSRF token' })
    }
    const fresh = newSession(basic.username, credentialId, t)
    reply.header('set-cookie', cookie(req, SESSION_COOKIE, deps.signer.sign(JSON.stringify(fresh)), Math.floor((fresh.e - t) / 1000)))
    req.dashboardSession = fresh
    req.streamCredential = sessionCredential(deps, fresh)
  }
}

/** A live stream opened by the dashboard ends with its session (sign-out, expiry, password change). */
function sessionCredential(deps: DashboardAuthDeps, s: DashboardSession) {
  const now = deps.now ?? Date.now
  return {
    key: () => `dashboard:${s.i}`,
    stillValid: async () => s.e > now() && deps.credentials.stillValid(s.u, s.c) && !(await deps.signouts.isSignedOut(s.i)),
  }
}
