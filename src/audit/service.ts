/**
 * The audit log (spec §4): every secret add/rotate/expire/seed and every revocation
 * add/lift/prune, with time, action, type, target id, key fingerprint and the credential that did
 * it. Never a secret: entries carry fingerprints and ids only. Other rooms record entries inside
 * their own transactions with `recordAudit`, so an entry exists exactly when its change does.
 */
import type { Db, Queryable } from '../db/db.js'
import { FolioError } from '../errors.js'
import { findEntries, insertEntries, type AuditRow } from './store.js'

/** Which credential made a change. */
export type Actor =
  | { type: 'api_auth_token'; secretId: number; fingerprint: string }
  | { type: 'env'; variable: string }
  | { type: 'dashboard'; username: string; secretId: number }
  | { type: 'system' }

export type AuditAction =
  | 'secret.add'
  | 'secret.rotate'
  | 'secret.expire'
  | 'secret.seed'
  | 'secret.generate'
  | 'revocation.add'
  | 'revocation.lift'
  | 'revocation.prune'

export interface AuditInput {
  action: AuditAction
  secretType?: string
  targetId?: number
  fingerprint?: string
  actor: Actor
  details?: Record<string, unknown>
}

export interface AuditEntry {
  id: number
  at: string
  action: string
  type: string | null
  targetId: number | null
  fingerprint: string | null
  actor: { type: string; id: string | null; fingerprint: string | null }
  details: Record<string, unknown>
}

function actorColumns(a: Actor): { actorType: string; actorId: string | null; actorFingerprint: string | null } {
  // A dashboard operator is recorded by username (the password secret's id stays out of the log).
  if (a.type === 'dashboard') return { actorType: 'dashboard', actorId: a.username, actorFingerprint: null }
  switch (a.type) {
    case 'api_auth_token':
      return { actorType: a.type, actorId: String(a.secretId), actorFingerprint: a.fingerprint }
    case 'env':
      return { actorType: a.type, actorId: a.variable, actorFingerprint: null }
    default:
      return { actorType: a.type, actorId: null, actorFingerprint: null }
  }
}

/** Writes entries in the caller's transaction. */
export async function recordAudit(q: Queryable, at: Date, entries: AuditInput[]): Promise<void> {
  await insertEntries(q, entries.map((e) => ({
    at,
    action: e.action,
    secretType: e.secretType ?? null,
    targetId: e.targetId ?? null,
    fingerprint: e.fingerprint ?? null,
    ...actorColumns(e.actor),
    details: e.details ?? {},
  })))
}

function toEntry(r: AuditRow): AuditEntry {
  return {
    id: Number(r.id),
    at: r.at.toISOString(),
    action: r.action,
    type: r.secret_type,
    targetId: r.target_id === null ? null : Number(r.target_id),
    fingerprint: r.fingerprint,
    actor: { type: r.actor_type, id: r.actor_id, fingerprint: r.actor_fingerprint },
    details: r.details,
  }
}

export interface AuditService {
  /** Newest first; `cursor` is the `next_cursor` of the previous page. */
  list(f: { limit: number; cursor?: string; action?: string; type?: string }): Promise<{ entries: AuditEntry[]; nextCursor: string | null }>
}

export function createAuditService(deps: { db: Db }): AuditService {
  return {
    async list(f) {
      if (f.cursor !== undefined && !/^\d{1,15}$/.test(f.cursor)) throw new FolioError('invalid_cursor')
      const beforeId = f.cursor === undefined ? undefined : Number(f.cursor)
      const rows = await findEntries(deps.db, { limit: f.limit + 1, beforeId, action: f.action, secretType: f.type })
      const page = rows.slice(0, f.limit).map(toEntry)
      return { entries: page, nextCursor: rows.length > f.limit ? String(page[page.length - 1]!.id) : null }
    },
  }
}
