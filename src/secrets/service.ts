/**
 * Secrets at runtime (spec §4). This first version covers what the foundation needs: the
 * api_auth_token type, seeded from API_AUTH_TOKEN or generated once at first start, and an
 * in-memory view of its valid digests so checking a token costs no database query.
 * Issue #4 adds the other types, the /api/secrets routes, rotation, expiry and propagation.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Db } from '../db/db.js'
import { findCurrent, findValid, replaceCurrent } from './store.js'

export function sha256Hex(s: string | Buffer): string {
  return createHash('sha256').update(s).digest('hex')
}

/** Public, non-reversible id of a secret for listings and the audit log. */
export function fingerprintOf(secret: string): string {
  return sha256Hex(`folio-fingerprint:${secret}`).slice(0, 16)
}

export interface SecretsService {
  /**
   * Applies API_AUTH_TOKEN (replacing the current token) or, when unset and none is stored,
   * generates one. Returns the generated token so that main.ts can print it once; never logged.
   */
  seedApiToken(envToken: string | undefined): Promise<{ generated?: string }>
  /** sha256 digests of every valid api_auth_token, from memory. */
  apiTokenDigests(): readonly Buffer[]
  /** Reloads the in-memory view from the database. */
  reload(): Promise<void>
}

export function createSecretsService(deps: { db: Db; now?: () => Date }): SecretsService {
  const now = deps.now ?? (() => new Date())
  let digests: Buffer[] = []

  const reload = async () => {
    const rows = await findValid(deps.db, 'api_auth_token', now())
    digests = rows.map((r) => Buffer.from(r.material, 'hex'))
  }

  return {
    async seedApiToken(envToken) {
      let generated: string | undefined
      await deps.db.transaction(async (tx) => {
        // Serialise concurrent starts of several nodes on one database.
        await tx.query('select pg_advisory_xact_lock($1)', [0x666f6c697f])
        const current = await findCurrent(tx, 'api_auth_token')
        const token = envToken ?? (current ? undefined : (generated = randomBytes(32).toString('base64url')))
        if (token === undefined) return
        const material = sha256Hex(token)
        if (current?.material === material) return
        // An env token replaces the stored one at once: the operator changed it on purpose.
        await replaceCurrent(tx, { type: 'api_auth_token', material, algorithm: null, fingerprint: fingerprintOf(token) }, now())
      })
      await reload()
      return { generated }
    },
    apiTokenDigests: () => digests,
    reload,
  }
}
