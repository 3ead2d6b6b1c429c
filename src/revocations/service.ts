/**
 * JWT revocation (spec §5): by `token`, `jti`, `document_id` or `user_id` (the last
 * two with `issuedBefore`), list and lift, and Document Engine's `POST /api/revoke {"jwts"}`.
 *
 * Document Engine pays a database query per request for this (seed 002); Folio does not: the
 * check is the in-memory index of cache.ts, kept equal on every node by the cluster bus, and
 * consulted by JWT verification through `RevocationCheck`.
 *
 * A revocation is kept only while a token it covers can still be valid, then pruned:
 *   token            → the token's `exp` (+ JWT_CLOCK_TOLERANCE, the verifier's leeway)
 *   jti              → creation + JWT_MAX_LIFETIME (+ tolerance); from /api/revoke the later of
 *                      that and the token's `exp`, since other tokens share the jti
 *   document/user_id → issuedBefore + JWT_MAX_LIFETIME (+ tolerance)
 */
import { recordAudit, type Actor, type AuditInput } from '../audit/service.js'
import type { RevocationCheck } from '../auth/keys.js'
import type { Db, Queryable } from '../db/db.js'
import type { ClusterBus } from '../db/notify.js'
import { FolioError } from '../errors.js'
import type { Logger } from '../log.js'
import { sha256Hex } from '../tools/digest.js'
import { RevocationIndex, type IndexedRevocation, type RevocationKind } from './cache.js'
import { MAX_JTI_LENGTH, readUnverifiedClaims } from './jwt-payload.js'
import { deleteActive, deleteExpired, findActive, insertRevocations, type NewRevocation, type RevocationRow } from './store.js'

export type { RevocationKind } from './cache.js'
export const REVOCATIONS_TOPIC = 'revocations'
const PRUNE_EVERY_MS = 60_000
const DOCUMENT_ID_RE = /^[A-Za-z0-9_-]{1,128}$/
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/

export interface RevocationInput {
  token?: string
  jti?: string
  document_id?: string
  user_id?: string
  issuedBefore?: string
}

/** A revocation as the API shows it: what it covers, never a token (tokens appear as their sha256). */
export interface RevocationView {
  id: number
  tokenSha256?: string
  jti?: string
  document_id?: string
  user_id?: string
  issuedBefore?: string
  expiresAt: string
  createdAt: string
}

export interface RevokeJwtsResult {
  revoked: string[]
  failingPaths: Array<{ path: string; details: string }>
}

export interface RevocationService {
  add(input: RevocationInput, actor: Actor): Promise<RevocationView>
  /** Document Engine's form: each token by its jti, or by itself when it has none. */
  revokeJwts(jwts: string[], actor: Actor): Promise<RevokeJwtsResult>
  list(): Promise<RevocationView[]>
  lift(id: string, actor: Actor): Promise<void>
  /** Deletes expired revocations from the database (run on a timer by every node). */
  prune(): Promise<number>
  /** The in-memory check for JWT verification: O(1), no I/O. */
  readonly check: RevocationCheck
  /** Active revocations in memory. */
  size(): number
  /** Starts the prune timer. */
  start(): void
  /** Stops the timer and waits for a prune in progress. */
  close(): Promise<void>
}

export interface RevocationDeps {
  db: Db
  bus: ClusterBus
  log: Logger
  jwt: { maxLifetimeSeconds: number; clockToleranceSeconds: number }
  now?: () => Date
}

type Op = { a: [number, RevocationKind, string, number | null, number] } | { l: number }

function toIndexed(r: RevocationRow): IndexedRevocation {
  return { id: Number(r.id), kind: r.kind, value: r.value, issuedBeforeMs: r.issued_before?.getTime() ?? null, expiresAtMs: r.expires_at.getTime() }
}

function toView(r: RevocationRow): RevocationView {
  const v: RevocationView = { id: Number(r.id), expiresAt: r.expires_at.toISOString(), createdAt: r.created_at.toISOString() }
  if (r.kind === 'token') v.tokenSha256 = r.value
  else v[r.kind] = r.value
  if (r.issued_before) v.issuedBefore = r.issued_before.toISOString()
  return v
}

function invalid(message: string, field?: string): never {
  throw new FolioError('invalid_revocation', field ? { field } : {}, { message })
}

export function createRevocationService(deps: RevocationDeps): RevocationService {
  const now = deps.now ?? (() => new Date())
  const { db, bus, log } = deps
  const index = new RevocationIndex(() => now().getTime())
  const maxMs = deps.jwt.maxLifetimeSeconds * 1000
  const tolMs = deps.jwt.clockToleranceSeconds * 1000
  let timer: NodeJS.Timeout | undefined
  let pruning: Promise<unknown> = Promise.resolve()

  bus.register<Op>(REVOCATIONS_TOPIC, {
    async load(q: Queryable) {
      const rows = await findActive(q, now())
      index.replaceAll(rows.map(toIndexed))
    },
    apply(ops) {
      for (const op of ops) {
        if ('a' in op) {
          const [id, kind, value, issuedBeforeMs, expiresAtMs] = op.a
          index.add({ id, kind, value, issuedBeforeMs, expiresAtMs })
        } else {
          index.remove(op.l)
        }
      }
    },
  })

  /** Inserts, audits and announces revocations in one transaction. */
  async function insert(rows: NewRevocation[], actor: Actor): Promise<RevocationRow[]> {
    return bus.change<RevocationRow[], Op>(REVOCATIONS_TOPIC, async (tx) => {
      const at = now()
      const created = await insertRevocations(tx, rows, at)
      await recordAudit(tx, at, created.map((r): AuditInput => ({
        action: 'revocation.add',
        targetId: Number(r.id),
        actor,
        details: { ...toView(r), id: undefined },
      })))
      const ops: Op[] = created.map((r) => ({ a: [Number(r.id), r.kind, r.value, r.issued_before?.getTime() ?? null, r.expires_at.getTime()] }))
      return { result: created, ops }
    })
  }

  function fromInput(input: RevocationInput): NewRevocation {
    const at = now().getTime()
    const given = (['token', 'jti', 'document_id', 'user_id'] as const).filter((k) => input[k] !== undefined)
    if (given.length !== 1) invalid('Give exactly one of token, jti, document_id, user_id')
    const kind = given[0]!
    if (input.issuedBefore !== undefined && kind !== 'document_id' && kind !== 'user_id') {
      invalid('issuedBefore applies to document_id and user_id revocations only', 'issuedBefore')
    }
    switch (kind) {
      case 'token': {
        const claims = readUnverifiedClaims(input.token!)
        if (!claims) throw new FolioError('malformed_jwt', { field: 'token' })
        // A token without exp is never accepted (spec §2); keep it as long as any could be.
        const until = claims.exp !== undefined ? claims.exp * 1000 : at + maxMs
        return { kind, value: sha256Hex(input.token!), issuedBefore: null, expiresAt: new Date(until + tolMs) }
      }
      case 'jti':
        if (input.jti === '' || input.jti!.length > MAX_JTI_LENGTH) invalid(`jti must be 1 to ${MAX_JTI_LENGTH} characters`, 'jti')
        return { kind, value: input.jti!, issuedBefore: null, expiresAt: new Date(at + maxMs + tolMs) }
      default: {
        const value = input[kind]!
        if (kind === 'document_id' && !DOCUMENT_ID_RE.test(value)) throw new FolioError('invalid_document_id')
        if (kind === 'user_id' && (value === '' || value.length > 1024)) invalid('user_id must be 1 to 1024 characters', 'user_id')
        let issuedBefore = at
        if (input.issuedBefore !== undefined) {
          issuedBefore = ISO_RE.test(input.issuedBefore) ? Date.parse(input.issuedBefore) : NaN
          if (Number.isNaN(issuedBefore)) invalid('issuedBefore must be an ISO 8601 time with a time zone', 'issuedBefore')
          // A future issuedBefore would block tokens not yet issued: a ban, not a revocation.
          if (issuedBefore > at + tolMs) invalid('issuedBefore must not be in the future', 'issuedBefore')
        }
        return { kind, value, issuedBefore: new Date(issuedBefore), expiresAt: new Date(issuedBefore + maxMs + tolMs) }
      }
    }
  }

  async function prune(): Promise<number> {
    const at = now()
    const n = await deleteExpired(db, at)
    if (n > 0) await recordAudit(db, at, [{ action: 'revocation.prune', actor: { type: 'system' }, details: { count: n } }])
    index.dropExpired(at.getTime())
    return n
  }

  return {
    async add(input, actor) {
      const [row] = await insert([fromInput(input)], actor)
      return toView(row!)
    },

    async revokeJwts(jwts, actor) {
      const at = now().getTime()
      const rows: NewRevocation[] = []
      const revoked: string[] = []
      const failingPaths: RevokeJwtsResult['failingPaths'] = []
      jwts.forEach((token, i) => {
        const claims = readUnverifiedClaims(token)
        if (!claims) {
          failingPaths.push({ path: `$.jwts[${i}]`, details: 'not a compact JWT with a JSON payload' })
          return
        }
        const exp = claims.exp !== undefined ? claims.exp * 1000 : at + maxMs
        rows.push(claims.jti !== undefined
          ? { kind: 'jti', value: claims.jti, issuedBefore: null, expiresAt: new Date(Math.max(exp, at + maxMs) + tolMs) }
          : { kind: 'token', value: sha256Hex(token), issuedBefore: null, expiresAt: new Date(exp + tolMs) })
        revoked.push(token)
      })
      await insert(rows, actor)
      return { revoked, failingPaths }
    },

    async list() {
      return (await findActive(db, now())).map(toView)
    },

    async lift(id, actor) {
      if (!/^\d{1,15}$/.test(id)) throw new FolioError('revocation_not_found')
      await bus.change<void, Op>(REVOCATIONS_TOPIC, async (tx) => {
        const at = now()
        const row = await deleteActive(tx, Number(id), at)
        if (!row) throw new FolioError('revocation_not_found')
        await recordAudit(tx, at, [{ action: 'revocation.lift', targetId: Number(row.id), actor, details: { ...toView(row), id: undefined } }])
        return { result: undefined, ops: [{ l: Number(row.id) }] }
      })
    },

    prune,
    check: index,
    size: () => index.size,

    start() {
      if (timer) return
      const run = () => {
        pruning = prune().catch((e: unknown) => log.warn({ err: e }, 'pruning expired revocations failed; will retry'))
      }
      run()
      timer = setInterval(run, PRUNE_EVERY_MS)
      timer.unref()
    },

    async close() {
      if (timer) clearInterval(timer)
      timer = undefined
      await pruning
    },
  }
}
