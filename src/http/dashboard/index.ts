/**
 * The dashboard surface (/dashboard, spec §9, issue #7). One encapsulated scope whose credential
 * hook (session.ts) runs before every route in it, including the 404 handler, so an unknown
 * /dashboard path tells nothing to someone without the password, and every path is 404 while
 * the dashboard is off.
 *
 * The dashboard is a client of the server API, like PocketBase's UI on its SDK (HOUSE-STYLE §1):
 * the same route plugins as /api are mounted a second time under /dashboard/api, with this
 * scope's session + CSRF check instead of the API token. The UI (web/dashboard) is static.
 */
import type { FastifyInstance } from 'fastify'
import { LoginGate, LoginRateLimiter, type DashboardCredentials, type SessionSigner } from '../../auth/dashboard.js'
import type { DashboardSignouts } from '../../auth/dashboard-signouts.js'
import { FolioError } from '../../errors.js'
import { apiRoutes, type ApiDeps } from '../api/index.js'
import { data, dataSchema, errors } from '../reply.js'
import { loadStaticFiles, serveStaticFiles, WEB_ROOT } from '../static.js'
import { cookie, CSRF_HEADER, createDashboardAuthHook, LOGOUT_COOKIE, SESSION_COOKIE } from './session.js'

export interface DashboardDeps extends ApiDeps {
  dashboardCredentials: DashboardCredentials
  sessionSigner: SessionSigner
  dashboardSignouts: DashboardSignouts
}

/** Strict: the dashboard loads only its own files and is never framed (clickjacking). */
export const DASHBOARD_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}

export function dashboardSurface(deps: DashboardDeps) {
  return async function dashboard(app: FastifyInstance): Promise<void> {
    const { config } = deps
    const limiter = new LoginRateLimiter(config.dashboard.rateLimitMax, config.dashboard.rateLimitWindowMs)
    app.decorateRequest('dashboardSession', undefined)
    const gate = new LoginGate(config.dashboardLoginConcurrency)
    app.addHook('onRequest', createDashboardAuthHook({
      credentials: deps.dashboardCredentials, signer: deps.sessionSigner, limiter, gate, signouts: deps.dashboardSignouts,
    }))
    app.addHook('onSend', async (_req, reply) => {
      reply.header('cache-control', reply.getHeader('cache-control') ?? 'no-store')
      reply.header('x-content-type-options', 'nosniff')
    })
    app.setNotFoundHandler(async () => {
      throw new FolioError('not_found')
    })

    serveStaticFiles(app, await loadStaticFiles(`${WEB_ROOT}dashboard`), DASHBOARD_HEADERS)

    app.get('/session', {
      schema: {
        hide: true,
        response: {
          200: dataSchema({
            type: 'object',
            required: ['username', 'csrfToken', 'csrfHeader', 'expiresAt'],
            properties: { username: { type: 'string' }, csrfToken: { type: 'string' }, csrfHeader: { type: 'string' }, expiresAt: { type: 'string' } },
          }),
          ...errors(401, 429),
        },
      },
    }, async (req) => {
      const s = req.dashboardSession!
      return data({ username: s.u, csrfToken: s.x, csrfHeader: CSRF_HEADER, expiresAt: new Date(s.e).toISOString() })
    })

    app.post('/logout', { schema: { hide: true } }, async (req, reply) => {
      // Ends the session on every node, not only in this browser: a copied cookie stops working too.
      const s = req.dashboardSession!
      await deps.dashboardSignouts.signOut(s.i, s.e)
      reply.header('set-cookie', [cookie(req, SESSION_COOKIE, '', 0), cookie(req, LOGOUT_COOKIE, '1', 300)])
      return data({})
    })

    await app.register(async (api) => {
      // The same routes as /api; kept out of the OpenAPI document, which describes /api once.
      api.addHook('onRoute', (route) => {
        route.schema = { ...(route.schema ?? {}), hide: true }
      })
      await apiRoutes(api, deps)
      api.setNotFoundHandler(async () => {
        throw new FolioError('not_found')
      })
    }, { prefix: '/api' })
  }
}
