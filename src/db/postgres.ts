/** postgres.js adapter for a real PostgreSQL server (STACK-NOTES §2: fastest client measured here). */
import postgres from 'postgres'
import type { PostgresConfig } from '../config.js'
import type { Db, Queryable, Row } from './db.js'

type Sql = postgres.Sql<Record<string, never>>

// int8 → number: counts and byte sizes here stay far below 2^53.
const int8 = { to: 20, from: [20], serialize: (x: unknown) => String(x), parse: (x: string) => Number(x) }

function wrap(sql: postgres.Sql | postgres.TransactionSql): Queryable & { exec(text: string): Promise<void> } {
  return {
    async query<T extends Row>(text: string, params: unknown[] = []): Promise<T[]> {
      const rows = await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true })
      return Array.from(rows) as unknown as T[] // a plain array, as PGlite gives
    },
    async exec(text: string): Promise<void> {
      await sql.unsafe(text) // simple protocol: several statements allowed
    },
  }
}

export function connectPostgres(cfg: PostgresConfig, opts: { max?: number; applicationName?: string } = {}): Db {
  const common = {
    max: opts.max ?? 10,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => {},
    types: { int8 } as unknown as Record<string, never>,
    connection: { application_name: opts.applicationName ?? 'folio' },
    // Reconnect delay in seconds: 50 ms doubling to at most 1 s, with jitter. postgres.js's
    // default grows to 20 s, which would keep a node's LISTEN down (and its views on the slower
    // reconcile path) for up to 20 s after the database came back (secrets and revocations must propagate within 1 s).
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1) * (0.5 + Math.random() / 2),
  }
  const sql = (cfg.url
    ? postgres(cfg.url, common)
    : postgres({
        ...common,
        host: cfg.host,
        port: cfg.port,
        user: cfg.user,
        password: cfg.password,
        database: cfg.database,
        ssl: cfg.ssl === 'require' ? 'require' : cfg.ssl === 'verify-full' ? 'verify-full' : false,
      })) as unknown as Sql
  const base = wrap(sql)
  return {
    kind: 'postgres',
    maxConnections: common.max,
    query: base.query,
    async transaction(fn) {
      return (await sql.begin((tx) => fn(wrap(tx)))) as Awaited<ReturnType<typeof fn>>
    },
    async listen(channel, onPayload, onListen) {
      // postgres.js re-listens on a new connection when the old one closes, calling onListen again.
      const sub = await sql.listen(channel, onPayload, onListen)
      return async () => sub.unlisten()
    },
    async notify(channel, payload) {
      await sql.notify(channel, payload)
    },
    async close() {
      await sql.end({ timeout: 5 })
    },
  }
}
