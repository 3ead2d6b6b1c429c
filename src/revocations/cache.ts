/**
 * The in-memory revocation index (spec §5: "checking costs no database query per request"): one
 * hash map per kind, so `isRevoked` is at most four map lookups whatever the number of active
 * revocations, and a single size check when there are none. Kept equal to the database by the
 * cluster bus (db/notify.ts): a full load, then one add or lift at a time.
 */
import type { RevocationCheck, TokenFacts } from '../auth/keys.js'

export type RevocationKind = 'token' | 'jti' | 'document_id' | 'user_id'

export interface IndexedRevocation {
  id: number
  kind: RevocationKind
  /** sha256 hex of the token for `token`; the jti, document id or user id otherwise */
  value: string
  /** ms since epoch; document_id and user_id only: covers tokens with `iat` before it, or none */
  issuedBeforeMs: number | null
  /** ms since epoch: no covered token can be valid after it */
  expiresAtMs: number
}

type Bucket = Map<string, IndexedRevocation[]>

export class RevocationIndex implements RevocationCheck {
  private readonly byId = new Map<number, IndexedRevocation>()
  private readonly buckets: Record<RevocationKind, Bucket> = {
    token: new Map(), jti: new Map(), document_id: new Map(), user_id: new Map(),
  }

  /** Bumped by every add and reload (RevocationCheck.version); a removal cannot revoke anything. */
  version = 0

  constructor(private readonly nowMs: () => number) {}

  get size(): number {
    return this.byId.size
  }

  isRevoked(t: TokenFacts): boolean {
    if (this.byId.size === 0) return false
    const b = this.buckets
    // tokenHash is read only when some token is revoked: a verifier may pass it as a lazy getter
    // and skip hashing the token (~1-3 µs) in the common case.
    const token = b.token.size === 0 ? undefined : b.token.get(t.tokenHash)
    const jti = t.jti === undefined ? undefined : b.jti.get(t.jti)
    const doc = b.document_id.get(t.documentId)
    const user = t.userId === undefined ? undefined : b.user_id.get(t.userId)
    if (token === undefined && jti === undefined && doc === undefined && user === undefined) return false
    const now = this.nowMs() // only when something matched: the common case reads no clock
    return covers(token, t, now) || covers(jti, t, now) || covers(doc, t, now) || covers(user, t, now)
  }

  add(r: IndexedRevocation): void {
    if (this.byId.has(r.id)) return
    this.version++
    this.byId.set(r.id, r)
    const bucket = this.buckets[r.kind]
    const list = bucket.get(r.value)
    if (list) list.push(r)
    else bucket.set(r.value, [r])
  }

  remove(id: number): void {
    const r = this.byId.get(id)
    if (!r) return
    this.byId.delete(id)
    const bucket = this.buckets[r.kind]
    const rest = (bucket.get(r.value) ?? []).filter((x) => x.id !== id)
    if (rest.length > 0) bucket.set(r.value, rest)
    else bucket.delete(r.value)
  }

  replaceAll(rs: Iterable<IndexedRevocation>): void {
    this.version++
    this.byId.clear()
    for (const b of Object.values(this.buckets)) b.clear()
    for (const r of rs) this.add(r)
  }

  /** Drops entries that can no longer cover a valid token (memory only; the database is pruned apart). */
  dropExpired(nowMs: number): number {
    let n = 0
    for (const r of [...this.byId.values()]) {
      if (r.expiresAtMs <= nowMs) {
        this.remove(r.id)
        n++
      }
    }
    return n
  }
}

function covers(list: IndexedRevocation[] | undefined, t: TokenFacts, now: number): boolean {
  if (list === undefined) return false
  for (const r of list) {
    if (r.expiresAtMs <= now) continue
    // spec §5: a document_id/user_id revocation covers tokens issued before issuedBefore; a
    // covered token without `iat` is refused until the revocation ends.
    if (r.issuedBeforeMs === null || t.iat === undefined || t.iat * 1000 < r.issuedBeforeMs) return true
  }
  return false
}
