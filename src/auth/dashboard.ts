/**
 * The dashboard credential (spec §2, §9): HTTP Basic against DASHBOARD_USERNAME and a valid
 * dashboard password, failed attempts rate limited per client IP, then a session cookie signed
 * with secret_key_base that carries a per-session CSRF token.
 *
 * The two credential checks sit behind tiny interfaces, implemented by the runtime secrets:
 * - `DashboardCredentials`: any valid `dashboard_password` secret (createSecretCredentials below);
 * - `SessionSigner`: the secrets service's signer (secrets/signer.ts: the current
 *   secret_key_base signs, every valid one verifies).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export interface DashboardCredentials {
  /** Whether the dashboard is on: a username and at least one valid password exist. */
  enabled(): boolean
  /**
   * The public id of the password that matched (e.g. the secret's id), or undefined. Compares in
   * constant time; may be slow on purpose (scrypt), hence the promise and the rate limit.
   */
  verify(username: string, password: string): Promise<string | undefined>
  /** Whether a session made with `credentialId` for `username` may still be used. */
  stillValid(username: string, credentialId: string): boolean
}

/** Signs and verifies what Folio hands out itself (secrets/signer.ts's `Signer`). */
export interface SessionSigner {
  sign(value: string): string
  /** The value when the signature is good; undefined otherwise. */
  verify(signed: string): string | undefined
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest()

/** Equal-length digests first, so neither the length nor the content leaks through timing. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b))
}

/** `Authorization: Basic base64(user:pass)` (RFC 7617); undefined when absent or malformed. */
export function parseBasicAuth(header: string | undefined): { username: string; password: string } | undefined {
  if (header === undefined || header.length > 4096) return undefined
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (!m) return undefined
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/** What the signed session cookie holds. Readable by its holder (base64), so nothing secret. */
export interface DashboardSession {
  /** random session id: signing out records it, and every node refuses it from then on */
  i: string
  /** username */
  u: string
  /** credential id that logged in (see DashboardCredentials.stillValid) */
  c: string
  /** CSRF token for state-changing requests (random, per session) */
  x: string
  /** expiry, ms since epoch */
  e: number
}

/** Sessions end this long after login (absolute; a new Basic login makes a new one). */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000

export function newSession(username: string, credentialId: string, now: number): DashboardSession {
  return { i: randomBytes(16).toString('base64url'), u: username, c: credentialId, x: randomBytes(24).toString('base64url'), e: now + SESSION_TTL_MS }
}

export function readSession(signer: SessionSigner, cookie: string | undefined, now: number): DashboardSession | undefined {
  if (cookie === undefined) return undefined
  const value = signer.verify(cookie)
  if (value === undefined) return undefined
  let s: unknown
  try {
    s = JSON.parse(value)
  } catch {
    return undefined
  }
  const o = s as Partial<DashboardSession>
  if (typeof o.i !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(o.i) || typeof o.u !== 'string' || typeof o.c !== 'string' || typeof o.x !== 'string' || typeof o.e !== 'number') return undefined
  if (o.e <= now) return undefined
  return o as DashboardSession
}

export function csrfMatches(session: DashboardSession, presented: string | undefined): boolean {
  return presented !== undefined && presented.length < 256 && sameSecret(presented, session.x)
}

/**
 * Password checks in flight (scrypt is slow on purpose and runs on libuv's small thread pool,
 * which file I/O and DNS share): at most one per client address and `max` in all. A login that
 * finds no room is refused (429) rather than queued, so a flood of logins cannot keep the pool
 * busy or a guesser run checks in parallel past the failure count.
 */
export class LoginGate {
  private readonly inFlight = new Set<string>()

  constructor(private readonly max: number) {}

  /** Whether `ip` may start a check now; if true, `leave(ip)` must follow. */
  enter(ip: string): boolean {
    if (this.inFlight.has(ip) || this.inFlight.size >= this.max) return false
    this.inFlight.add(ip)
    return true
  }

  leave(ip: string): void {
    this.inFlight.delete(ip)
  }
}

/**
 * Failed logins per client IP in a fixed window (DASHBOARD_RATE_LIMITING_MAX_REQUESTS per
 * DASHBOARD_RATE_LIMITING_WINDOW_MS). In memory and per node: N nodes allow N times the
 * attempts, which still bounds guessing. The table is bounded: expired entries are swept and,
 * past the cap, the oldest entry is dropped.
 */
export class LoginRateLimiter {
  private readonly failures = new Map<string, { count: number; resetAt: number }>()

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly cap = 10_000,
  ) {}

  /** ms until the client may try again, or 0 when it may try now. */
  retryAfter(ip: string, now: number): number {
    const f = this.failures.get(ip)
    if (!f) return 0
    if (f.resetAt <= now) {
      this.failures.delete(ip)
      return 0
    }
    return f.count >= this.max ? f.resetAt - now : 0
  }

  fail(ip: string, now: number): void {
    const f = this.failures.get(ip)
    if (f && f.resetAt > now) {
      f.count++
      return
    }
    this.failures.delete(ip)
    if (this.failures.size >= this.cap) this.sweep(now)
    this.failures.set(ip, { count: 1, resetAt: now + this.windowMs })
  }

  succeed(ip: string): void {
    this.failures.delete(ip)
  }

  private sweep(now: number): void {
    for (const [ip, f] of this.failures) if (f.resetAt <= now) this.failures.delete(ip)
    while (this.failures.size >= this.cap) {
      const oldest = this.failures.keys().next().value
      if (oldest === undefined) break
      this.failures.delete(oldest)
    }
  }
}

/**
 * Any valid `dashboard_password` secret (scrypt, from the
 * secrets service's memory); the credential id is the secret's id, so a session ends when the
 * password it was made with expires.
 */
export function createSecretCredentials(
  username: string | undefined,
  secrets: {
    hasDashboardPassword(): boolean
    verifyDashboardPassword(password: string): Promise<{ secretId: number } | undefined>
    validDashboardPasswordIds?(): readonly number[]
  },
): DashboardCredentials {
  return {
    enabled: () => username !== undefined && secrets.hasDashboardPassword(),
    async verify(u, p) {
      if (username === undefined) return undefined
      const userOk = sameSecret(u, username)
      const found = await secrets.verifyDashboardPassword(p) // always run: timing tells nothing about the username
      return userOk && found ? String(found.secretId) : undefined
    },
    stillValid: (u, id) =>
      username !== undefined && u === username &&
      (secrets.validDashboardPasswordIds ? secrets.validDashboardPasswordIds().map(String).includes(id) : secrets.hasDashboardPassword()),
  }
}
