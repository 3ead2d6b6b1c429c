/**
 * The client surfaces (spec §7): `/i/d/:documentId/...` (Folio's viewer) and
 * `/documents/:documentId/...` (client apps). One implementation, mounted twice by server.ts;
 * the same rights on both.
 *
 * Every route registered in this scope inherits, in order:
 *   1. the Origin check and CORS headers (auth/origin.ts) — 403 origin_not_allowed;
 *   2. the JWT check (auth/jwt.ts) — 401 invalid_token with a reason; the grant lands on
 *      `req.grant`. Only `Authorization: Bearer`, so the API token is never accepted here, and
 *      a query `?jwt=` only on routes that opt in (`config: { jwtInQuery: true }`: the cover).
 * Routes then call `requirePermission(req, documentId, permission)` (403 forbidden).
 *
 * Adding a route: a file next to document.ts exporting
 * `(mount, deps) => plugin` whose handlers call `requirePermission` (access.ts), registered
 * with one line next to `documentRoutes` below; the hooks, 404s and CORS come with the scope.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { CORS, type OriginPolicy } from '../../auth/origin.js'
import { sha256Hex } from '../../tools/digest.js'
import { FolioError } from '../../errors.js'
import { authFailures } from '../../metrics/catalog.js'
import { presentedToken, type ClientDeps, type Mount } from './access.js'
import { documentRoutes } from './document.js'
import { pageRoutes } from './pages.js'
import { registerClientAnnotationRoutes } from './annotations.js'
import { textStructureRoutes } from './text-structure.js'
import { bookmarkRoutes } from './bookmarks.js'

export { CLIENT_MOUNT, INTERNAL_MOUNT, requirePermission, type ClientDeps, type Mount } from './access.js'

export function clientSurface(mount: Mount, deps: ClientDeps) {
  return async function register(app: FastifyInstance): Promise<void> {
    const failures = authFailures(deps.metrics)
    const refused = (reply: FastifyReply, e: unknown) => {
      if (e instanceof FolioError && e.code === 'invalid_token') {
        bearerChallenge(reply)
        failures.labels('client', String(e.details.reason ?? 'invalid')).inc()
      }
    }
    // A live stream asks again every second (a cache hit: revocation, key validity, expiry).
    const streamCredential = (token: string) => ({
      key: () => `jwt:${sha256Hex(token)}`,
      stillValid: () => deps.jwt.verify(token).then(() => true, () => false),
    })
    // A callback hook with a synchronous fast path: a token verified before (the viewer's many
    // page requests) is answered from the verification cache without a promise or a microtask.
    app.addHook('onRequest', (req, reply, done) => {
      let token: string | undefined
      try {
        applyOrigin(req, reply, deps.origins)
        if (req.method === 'OPTIONS') return done() // a preflight carries no credential (Fetch standard)
        token = presentedToken(req)
        if (token === undefined) {
          // Counted and challenged in the catch below, like every invalid_token.
          throw new FolioError('invalid_token', { reason: 'missing_token' }, {
            message: 'Send the JWT as Authorization: Bearer <jwt>',
          })
        }
        const cached = deps.jwt.verifyCached(token)
        if (cached !== undefined) {
          req.grant = cached
          req.streamCredential = streamCredential(token)
          return done()
        }
      } catch (e) {
        refused(reply, e)
        return done(e as Error)
      }
      const presented = token
      deps.jwt.verify(presented).then((grant) => {
        req.grant = grant
        req.streamCredential = streamCredential(presented)
        done()
      }, (e: unknown) => {
        refused(reply, e)
        done(e as Error)
      })
    })

    // Preflight for any path of the surface: the origin hook above has judged it already.
    app.options('/*', { schema: { hide: true } }, async (req, reply) => {
      if (req.headers.origin !== undefined) {
        reply.header('access-control-allow-methods', CORS.allowMethods)
        reply.header('access-control-allow-headers', CORS.allowHeaders)
        reply.header('access-control-max-age', String(CORS.maxAgeSeconds))
      }
      return reply.code(204).send()
    })

    await app.register(documentRoutes(mount, deps), { prefix: mount.documentPrefix })
    await app.register(pageRoutes(mount, deps), { prefix: mount.documentPrefix })
    await app.register(textStructureRoutes(mount, deps), { prefix: mount.documentPrefix })
    await app.register(bookmarkRoutes(mount, deps), { prefix: mount.documentPrefix })
    await app.register(async (scope) => {
      registerClientAnnotationRoutes(scope, { annotations: deps.annotations, grantOf: (req) => req.grant! }, '/:documentId', mount)
    }, { prefix: mount.documentPrefix })

    // Inside the scope, so that probing unknown paths needs a valid token too.
    app.setNotFoundHandler(async () => {
      throw new FolioError('not_found')
    })
  }
}

function applyOrigin(req: FastifyRequest, reply: FastifyReply, origins: OriginPolicy): void {
  const origin = req.headers.origin
  if (origins.varies) reply.header('vary', 'Origin')
  const decision = origins.check(origin, `${req.protocol}://${req.host}`)
  if (!decision.allowed) throw new FolioError('origin_not_allowed')
  if (decision.allowOrigin !== undefined) {
    reply.header('access-control-allow-origin', decision.allowOrigin)
    reply.header('access-control-expose-headers', CORS.exposeHeaders)
  }
}

/** RFC 6750 §3: a 401 from a Bearer-protected resource names the scheme and the error. */
function bearerChallenge(reply: FastifyReply): void {
  reply.header('www-authenticate', 'Bearer realm="folio", error="invalid_token"')
}
