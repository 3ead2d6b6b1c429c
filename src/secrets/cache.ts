/**
 * The in-memory view of the valid secrets ("no database query per request"). Built
 * from the rows by a full load (the secrets table is tiny) whenever the cluster bus reports a
 * change; time passing is handled here: each list is filtered by its expiries and the filtered
 * list is cached until the next expiry, so a lookup is O(1) and allocates nothing.
 */
import { createPublicKey } from 'node:crypto'
import type { ApiTokenEntry } from '../auth/api-token.js'
import type { VerificationKey } from '../auth/keys.js'
import type { JwtAlgorithm } from '../auth/jwt-key.js'
import type { SigningKey } from './signer.js'
import type { SecretRow, SecretType } from './store.js'

/** A list whose items expire; `at(now)` is cached between expiries. */
export class ExpiringList<T> {
  private cache: readonly T[] = []
  private lo = Infinity
  private hi = -Infinity

  /** `items` in the order callers should see them; `until` is ms since epoch, Infinity for current. */
  constructor(private readonly items: ReadonlyArray<{ value: T; until: number }>) {}

  at(nowMs: number): readonly T[] {
    if (nowMs >= this.lo && nowMs < this.hi) return this.cache
    let lo = -Infinity
    let hi = Infinity
    const out: T[] = []
    for (const i of this.items) {
      if (i.until > nowMs) {
        out.push(i.value)
        hi = Math.min(hi, i.until)
      } else {
        lo = Math.max(lo, i.until)
      }
    }
    this.cache = out
    this.lo = lo
    this.hi = hi
    return out
  }

  /** The first expiry after `nowMs` (Infinity when none). */
  nextExpiry(nowMs: number): number {
    let next = Infinity
    for (const i of this.items) if (i.until > nowMs && i.until < next) next = i.until
    return next
  }
}

export interface DashboardHash {
  secretId: number
  fingerprint: string
  hash: string
}

export class SecretsView {
  readonly jwt: ExpiringList<VerificationKey>
  readonly apiTokens: ExpiringList<ApiTokenEntry>
  readonly apiDigests: ExpiringList<Buffer>
  readonly signingKeys: ExpiringList<SigningKey>
  readonly currentSigningKey: SigningKey | undefined
  readonly dashboard: ExpiringList<DashboardHash>
  /** Changes exactly when the set of jwt keys (ids, expiries, algorithms) changes. */
  readonly jwtSignature: string

  /** The parsed jwt keys by secret id, reused by the next view: a change re-parses only new keys. */
  readonly jwtKeysById: ReadonlyMap<string, VerificationKey>

  constructor(rows: readonly SecretRow[], previous?: SecretsView) {
    // Current first, then newest first: verification tries the likeliest key first.
    const sorted = [...rows].sort((a, b) => Number(b.is_current) - Number(a.is_current) || Number(b.id) - Number(a.id))
    const of = (t: SecretType) => sorted.filter((r) => r.type === t)
    const until = (r: SecretRow) => (r.is_current || r.expires_at === null ? Infinity : r.expires_at.getTime())

    const jwtRows = of('jwt')
    const keys = new Map<string, VerificationKey>()
    for (const r of jwtRows) {
      const id = String(r.id)
      const old = previous?.jwtKeysById.get(id)
      // A secret's material, algorithm and fingerprint never change after insert; only its expiry does.
      keys.set(id, old?.fingerprint === r.fingerprint ? old : Object.freeze({
        id,
        algorithm: r.algorithm as JwtAlgorithm,
        key: createPublicKey({ key: r.material, format: 'pem' }),
        fingerprint: r.fingerprint,
      }))
    }
    this.jwtKeysById = keys
    this.jwt = new ExpiringList(jwtRows.map((r) => ({ until: until(r), value: keys.get(String(r.id))! })))
    this.jwtSignature = jwtRows.map((r) => `${r.id}:${r.algorithm}:${until(r)}`).join(',')

    const apiRows = of('api_auth_token')
    const apiEntries = apiRows.map((r) => ({
      until: until(r),
      value: { secretId: Number(r.id), fingerprint: r.fingerprint, digest: Buffer.from(r.material, 'hex') },
    }))
    this.apiTokens = new ExpiringList(apiEntries)
    this.apiDigests = new ExpiringList(apiEntries.map((e) => ({ until: e.until, value: e.value.digest })))

    const skbRows = of('secret_key_base')
    this.signingKeys = new ExpiringList(skbRows.map((r) => ({ until: until(r), value: { id: Number(r.id), material: r.material } })))
    const cur = skbRows.find((r) => r.is_current)
    this.currentSigningKey = cur && { id: Number(cur.id), material: cur.material }

    this.dashboard = new ExpiringList(of('dashboard_password').map((r) => ({
      until: until(r),
      value: { secretId: Number(r.id), fingerprint: r.fingerprint, hash: r.material },
    })))
  }
}
