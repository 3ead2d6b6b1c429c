/**
 * Signed-out dashboard sessions (table `dashboard_signouts`). A session cookie is valid by its
 * signature until its expiry, on every node; signing out must end it everywhere, so its id is
 * recorded in the shared database and every dashboard request checks it (one indexed lookup;
 * the dashboard is a low-traffic surface). Rows are dropped once the session would have expired.
 */
import type { Db } from '../db/db.js'

export interface DashboardSignouts {
  isSignedOut(sessionId: string): Promise<boolean>
  signOut(sessionId: string, expiresAtMs: number): Promise<void>
}

export function createDashboardSignouts(db: Db, now: () => Date = () => new Date()): DashboardSignouts {
  return {
    async isSignedOut(sessionId) {
      const rows = await db.query('select 1 from dashboard_signouts where session_id = $1', [sessionId])
      return rows.length > 0
    },
    async signOut(sessionId, expiresAtMs) {
      await db.query('delete from dashboard_signouts where expires_at < $1', [now().toISOString()])
      await db.query(
        'insert into dashboard_signouts (session_id, expires_at) values ($1, $2) on conflict (session_id) do nothing',
        [sessionId, new Date(expiresAtMs).toISOString()],
      )
    },
  }
}
