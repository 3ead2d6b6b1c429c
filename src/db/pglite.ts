/**
 * PGlite adapter: the embedded default (PostgreSQL 18 in WASM, persisted under DATA_DIR).
 * One connection; PGlite serialises queries and transactions itself. Keep SQL in the PG 15 subset.
 */
import { PGlite } from '@electric-sql/pglite'
import type { Transaction } from '@electric-sql/pglite'
import type { Db, Queryable, Row } from './db.js'

function wrap(pg: PGlite | Transaction): Queryable & { exec(text: string): Promise<void> } {
  return {
    async query<T extends Row>(text: string, params: unknown[] = []): Promise<T[]> {
      const res = await pg.query<T>(text, params)
      return normalise(res.rows)
    },
    async exec(text: string): Promise<void> {
      await pg.exec(text)
    },
  }
}

// PGlite returns int8 as number already, and bytea as Uint8Array (pg/postgres.js: Buffer).
function normalise<T extends Row>(rows: T[]): T[] {
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) {
      if (v instanceof Uint8Array && !Buffer.isBuffer(v)) (row as Row)[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength)
      else if (typeof v === 'bigint') (row as Row)[k] = Number(v)
    }
  }
  return rows
}

export async function openPglite(dataDir: string): Promise<Db> {
  const pg = await PGlite.create(dataDir)
  const base = wrap(pg)
  return {
    kind: 'pglite',
    maxConnections: 1,
    query: base.query,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    async listen(channel, onPayload, onListen) {
      const unsub = await pg.listen(channel, onPayload)
      onListen?.() // one in-process connection: it is never lost and re-established
      return async () => unsub()
    },
    async notify(channel, payload) {
      await pg.query('select pg_notify($1, $2)', [channel, payload])
    },
    async close() {
      await pg.close()
    },
  }
}
