/**
 * Secrets at runtime (spec §4): four types, each with exactly one current version that
 * never expires and any number of others with an expiry. A secret is valid while it is current or
 * not yet expired; every valid one is accepted, the current one signs.
 *
 * Every consumer reads the in-memory view (cache.ts): the API token check, the JWT KeyRing, the
 * dashboard password check and the signer cost no database query per request. Changes go through
 * the cluster bus (db/notify.ts), which reloads the view on every node within a second.
 * Mutations serialise on one advisory lock, so two rotations on two nodes cannot both replace the
 * same current secret.
 */
import type { Actor } from '../audit/service.js'
import { recordAudit } from '../audit/service.js'
import type { ApiTokenEntry } from '../auth/api-token.js'
import type { KeyRing } from '../auth/keys.js'
import type { JwtAlgorithm } from '../auth/jwt-key.js'
import type { Db, Queryable } from '../db/db.js'
import type { ClusterBus } from '../db/notify.js'
import { FolioError } from '../errors.js'
import type { Logger } from '../log.js'
import { SecretsView } from './cache.js'
import { prepareSecret } from './material.js'
import { verifyPassword } from './password.js'
import { seedSecrets, type SeedEnv } from './seed.js'
import { createSigner, type Signer } from './signer.js'
import { countValid, findAllValid, findById, findValid, insertSecret, replaceCurrent, setExpiry, SECRET_TYPES, type SecretRow, type SecretType } from './store.js'

export { fingerprintOf } from './material.js'
export { SECRET_TYPES, type SecretType } from './store.js'
export type { SeedEnv } from './seed.js'
export type { Signer } from './signer.js'

export const SECRETS_TOPIC = 'secrets'
// "folio" + 0x7f: the key of the transaction-scoped advisory lock all secret changes take.
const SECRETS_LOCK = 0x666f6c697f
const MAX_TIMER_MS = 2 ** 31 - 1

/** What listings and responses show of a secret: never the secret (spec §4). */
export interface SecretSummary {
  id: number
  expiresAt: string | null
  /** jwt only */
  algorithm?: string
  /** jwt only: RFC 7638 thumbprint of the public key */
  fingerprint?: string
}

export interface RotateResult extends SecretSummary {
  previous: SecretSummary | null
}

export interface DashboardCredential {
  secretId: number
  fingerprint: string
}

export interface SecretsService {
  /** Env seeding at start (seed.ts); returns a generated API token to print once, never logged. */
  seedFromEnv(env: SeedEnv, replace: boolean): Promise<{ generatedApiToken?: string }>
  list(type: string): Promise<SecretSummary[]>
  add(type: string, input: { secret: string; expiresAt?: string; algorithm?: string }, actor: Actor): Promise<SecretSummary>
  rotate(type: string, input: { secret: string; previousExpiresAt?: string; algorithm?: string }, actor: Actor): Promise<RotateResult>
  /** Changes a non-current secret's expiry; a past time (or "now") expires it now. */
  setExpiry(type: string, id: string, expiresAt: string | undefined, actor: Actor): Promise<SecretSummary>
  /** sha256 digests of every valid api_auth_token, from memory. */
  apiTokenDigests(): readonly Buffer[]
  /** Every valid api_auth_token (digest, id, fingerprint), from memory. */
  apiTokens(): readonly ApiTokenEntry[]
  /** The valid `jwt` keys for JWT verification; onChange fires on change and expiry. */
  readonly keyRing: KeyRing
  /** Signs with the current secret_key_base, verifies with any valid one (signer.ts). */
  signer(purpose: string): Signer
  /** The valid dashboard_password the given password matches, if any (scrypt; ~0.1 s each). */
  verifyDashboardPassword(password: string): Promise<DashboardCredential | undefined>
  hasDashboardPassword(): boolean
  /** Ids of the valid dashboard_password secrets: a dashboard session ends with its password. */
  validDashboardPasswordIds(): readonly number[]
  /** Stops the expiry timer. */
  close(): void
}

export interface SecretsDeps {
  db: Db
  bus: ClusterBus
  log: Logger
  jwt: { algorithm: JwtAlgorithm; maxLifetimeSeconds: number }
  /** SECRETS_MAX_LIFETIME (s) and SECRETS_MAX_VALID_PER_TYPE; defaults as in config.ts. */
  limits?: { maxLifetimeSeconds: number; maxValidPerType: number }
  now?: () => Date
}

export function parseSecretType(type: string): SecretType {
  if (!(SECRET_TYPES as readonly string[]).includes(type)) {
    throw new FolioError('unknown_secret_type', { allowed: SECRET_TYPES }, { message: `Unknown secret type; use one of ${SECRET_TYPES.join(', ')}` })
  }
  return type as SecretType
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))$/

/** Every field in range for its calendar: Date.parse would move 2030-02-30 to 2030-03-02. */
function isRealTime(m: RegExpExecArray): boolean {
  const [y, mo, d, h, mi, sec = '0'] = m.slice(1, 7).map((x) => (x === undefined ? undefined : Number(x))) as number[]
  const daysInMonth = new Date(Date.UTC(y!, mo!, 0)).getUTCDate()
  const offsetOk = m[8] === 'Z' || (Number(m[9]) <= 23 && Number(m[10]) <= 59)
  return mo! >= 1 && mo! <= 12 && d! >= 1 && d! <= daysInMonth && h! <= 23 && mi! <= 59 && Number(sec) <= 59 && offsetOk
}

/**
 * Parses an expiry. `future`: a past time is refused (add); otherwise it is clamped to now.
 * Later than `maxLifetimeMs` from now is refused: a non-current secret valid for decades would
 * be a second current secret in all but name.
 */
function parseExpiry(raw: string | undefined, field: string, now: Date, opts: { future: boolean; maxLifetimeMs: number }): Date {
  if (raw === undefined) throw new FolioError('invalid_expires_at', { reason: 'missing', field }, { message: `${field} is required` })
  if (raw === 'now' && !opts.future) return now
  const m = ISO_RE.exec(raw)
  const ms = m && isRealTime(m) ? Date.parse(raw) : NaN
  if (Number.isNaN(ms)) {
    throw new FolioError('invalid_expires_at', { reason: 'format', field }, { message: `${field} must be an ISO 8601 time with a time zone, e.g. 2030-01-01T12:00:00Z${opts.future ? '' : ', or "now"'}` })
  }
  if (ms <= now.getTime()) {
    if (opts.future) throw new FolioError('invalid_expires_at', { reason: 'past', field }, { message: `${field} must be in the future` })
    return now
  }
  if (ms > now.getTime() + opts.maxLifetimeMs) {
    const latest = new Date(now.getTime() + opts.maxLifetimeMs).toISOString()
    throw new FolioError('invalid_expires_at', { reason: 'too_far', field, latest }, {
      message: `${field} lies further ahead than SECRETS_MAX_LIFETIME allows (latest ${latest}); rotate to make a secret current instead`,
    })
  }
  return new Date(ms)
}

function summary(r: SecretRow): SecretSummary {
  const s: SecretSummary = { id: Number(r.id), expiresAt: r.is_current || r.expires_at === null ? null : r.expires_at.toISOString() }
  if (r.type === 'jwt') {
    s.algorithm = r.algorithm ?? undefined
    s.fingerprint = r.fingerprint
  }
  return s
}

export function createSecretsService(deps: SecretsDeps): SecretsService {
  const now = deps.now ?? (() => new Date())
  const { db, bus, log } = deps
  const maxLifetimeMs = (deps.limits?.maxLifetimeSeconds ?? 31_536_000) * 1000
  const maxValid = deps.limits?.maxValidPerType ?? 100

  /** Refuses a new valid secret of `type` when the type has `maxValid` of them (under the lock). */
  async function checkRoom(tx: Queryable, type: SecretType, replacing: boolean): Promise<void> {
    // A rotation whose previous secret expires now frees the room it takes.
    if ((await countValid(tx, type, now())) - (replacing ? 1 : 0) >= maxValid) {
      throw new FolioError('too_many_secrets', { limit: maxValid }, {
        message: `${type} has ${maxValid} valid secrets (SECRETS_MAX_VALID_PER_TYPE); expire some first`,
      })
    }
  }
  let view = new SecretsView([])
  const listeners = new Set<() => void>()
  let expiryTimer: NodeJS.Timeout | undefined

  function fireKeyChange(): void {
    for (const l of listeners) {
      try {
        l()
      } catch (e) {
        log.error({ err: e }, 'a KeyRing listener failed')
      }
    }
  }

  // onChange must also fire when a key expires with no database change: a timer at the next expiry.
  function scheduleExpiry(): void {
    if (expiryTimer) clearTimeout(expiryTimer)
    expiryTimer = undefined
    const next = view.jwt.nextExpiry(Date.now())
    if (next === Infinity) return
    expiryTimer = setTimeout(() => {
      fireKeyChange()
      scheduleExpiry()
    }, Math.min(Math.max(next - Date.now() + 1, 0), MAX_TIMER_MS))
    expiryTimer.unref()
  }

  bus.register<never>(SECRETS_TOPIC, {
    async load(q: Queryable) {
      const next = new SecretsView(await findAllValid(q, now()), view)
      const changed = next.jwtSignature !== view.jwtSignature
      view = next
      scheduleExpiry()
      if (changed) fireKeyChange()
    },
  })

  /** Runs a change under the secrets lock, announced to every node, with its audit entries. */
  function change<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return bus.change(SECRETS_TOPIC, async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [SECRETS_LOCK])
      return { result: await fn(tx), ops: [SECRETS_TOPIC] }
    })
  }

  const keyRing: KeyRing = {
    validKeys: (at) => view.jwt.at(at.getTime()),
    onChange(listener) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
  }

  return {
    async seedFromEnv(env, replace) {
      let generated: string | undefined
      // Not through change(), which always announces: a start that changes nothing must not make every node reload.
      await bus.change(SECRETS_TOPIC, async (tx) => {
        await tx.query('select pg_advisory_xact_lock($1)', [SECRETS_LOCK])
        const { changes, generatedApiToken, revived } = await seedSecrets(tx, env, replace, now())
        generated = generatedApiToken
        for (const c of changes) log.info({ action: c.action, type: c.secretType, id: c.targetId, fingerprint: c.fingerprint }, 'secret seeded')
        for (const r of revived) {
          log.warn({ type: r.type, variable: r.variable, expiredId: r.expiredId },
            `${r.variable} holds a secret that had been expired (secret ${r.expiredId}, e.g. cut through the API); REPLACE_SECRETS_FROM_ENV made it valid again. If it was cut because it leaked, change ${r.variable}`)
        }
        return { result: undefined, ops: changes.length > 0 ? [SECRETS_TOPIC] : [] }
      })
      return { generatedApiToken: generated }
    },

    async list(type) {
      const t = parseSecretType(type)
      return (await findValid(db, t, now())).map(summary)
    },

    async add(type, input, actor) {
      const t = parseSecretType(type)
      const expiresAt = parseExpiry(input.expiresAt, 'expiresAt', now(), { future: true, maxLifetimeMs })
      const row = await prepareSecret(t, input.secret, { algorithm: input.algorithm, rsaDefault: deps.jwt.algorithm })
      return change(async (tx) => {
        await checkRoom(tx, t, false)
        const created = await insertSecret(tx, row, expiresAt, now())
        await recordAudit(tx, now(), [{
          action: 'secret.add', secretType: t, targetId: Number(created.id), fingerprint: created.fingerprint, actor,
          details: { expiresAt: expiresAt.toISOString(), ...(created.algorithm ? { algorithm: created.algorithm } : {}) },
        }])
        return summary(created)
      })
    },

    async rotate(type, input, actor) {
      const t = parseSecretType(type)
      const at = now()
      // Default: the previous current stays valid as long as a token signed before the rotation can live.
      const previousExpiresAt = input.previousExpiresAt === undefined
        ? new Date(at.getTime() + deps.jwt.maxLifetimeSeconds * 1000)
        : parseExpiry(input.previousExpiresAt, 'previousExpiresAt', at, { future: false, maxLifetimeMs })
      const row = await prepareSecret(t, input.secret, { algorithm: input.algorithm, rsaDefault: deps.jwt.algorithm })
      return change(async (tx) => {
        await checkRoom(tx, t, previousExpiresAt.getTime() <= at.getTime())
        const { current, previous } = await replaceCurrent(tx, row, previousExpiresAt, now())
        await recordAudit(tx, now(), [{
          action: 'secret.rotate', secretType: t, targetId: Number(current.id), fingerprint: current.fingerprint, actor,
          details: {
            ...(current.algorithm ? { algorithm: current.algorithm } : {}),
            ...(previous ? { previousId: Number(previous.id), previousFingerprint: previous.fingerprint, previousExpiresAt: previousExpiresAt.toISOString() } : {}),
          },
        }])
        return { ...summary(current), previous: previous ? summary(previous) : null }
      })
    },

    async setExpiry(type, id, expiresAtRaw, actor) {
      const t = parseSecretType(type)
      if (!/^\d{1,15}$/.test(id)) throw new FolioError('secret_not_found')
      const expiresAt = parseExpiry(expiresAtRaw, 'expiresAt', now(), { future: false, maxLifetimeMs })
      return change(async (tx) => {
        const row = await findById(tx, t, Number(id))
        if (row?.is_current) throw new FolioError('cannot_expire_current')
        // An expired secret stays expired: reviving a key that may have leaked is not an expiry change.
        if (!row || row.expires_at === null || row.expires_at.getTime() <= now().getTime()) throw new FolioError('secret_not_found')
        const updated = await setExpiry(tx, Number(id), expiresAt)
        await recordAudit(tx, now(), [{
          action: 'secret.expire', secretType: t, targetId: Number(updated.id), fingerprint: updated.fingerprint, actor,
          details: { expiresAt: expiresAt.toISOString(), previousExpiresAt: row.expires_at.toISOString() },
        }])
        return summary(updated)
      })
    },

    apiTokenDigests: () => view.apiDigests.at(now().getTime()),
    apiTokens: () => view.apiTokens.at(now().getTime()),
    keyRing,

    signer(purpose) {
      return createSigner(purpose, {
        current: () => view.currentSigningKey,
        valid: () => view.signingKeys.at(now().getTime()),
      })
    },

    async verifyDashboardPassword(password) {
      let found: DashboardCredential | undefined
      // Every valid hash is tried, so the time does not tell which one matched.
      for (const h of view.dashboard.at(now().getTime())) {
        if (await verifyPassword(password, h.hash)) found ??= { secretId: h.secretId, fingerprint: h.fingerprint }
      }
      return found
    },

    hasDashboardPassword: () => view.dashboard.at(now().getTime()).length > 0,
    validDashboardPasswordIds: () => view.dashboard.at(now().getTime()).map((h) => h.secretId),

    close() {
      if (expiryTimer) clearTimeout(expiryTimer)
      listeners.clear()
    },
  }
}
