/**
 * The one SQL path (HOUSE-STYLE §5): the smallest interface both drivers satisfy. Stores write
 * plain parameterised SQL with `$1` placeholders; the adapters hide driver differences
 * (int8 comes back as a JS number from both; jsonb parameters go in as objects).
 */
export type Row = Record<string, unknown>

export interface Queryable {
  query<T extends Row = Row>(text: string, params?: unknown[]): Promise<T[]>
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres'
  /** Connections the adapter may open at most (PGlite: 1), for the pool-use metrics. */
  readonly maxConnections?: number
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable & { exec(sql: string): Promise<void> }) => Promise<T>): Promise<T>
  /**
   * Subscribes to a NOTIFY channel; resolves to an unsubscribe function. `onListen` runs after
   * every (re)subscription, e.g. after the listening connection was lost and re-established, so
   * a caller can look for what it missed meanwhile.
   */
  listen(channel: string, onPayload: (payload: string) => void, onListen?: () => void): Promise<() => Promise<void>>
  notify(channel: string, payload: string): Promise<void>
  close(): Promise<void>
}

/** SQLSTATE of a driver error, or undefined (graphile-worker's habit: translate at the store). */
export function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}
