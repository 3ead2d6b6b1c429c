/**
 * The viewer (/viewer, spec §9): static files that need no credential to load. The
 * page reads `document` and `jwt` from the URL fragment, which browsers never send to a server,
 * and talks to /i/ with `Authorization: Bearer` (web/viewer/viewer.js). Opened from the
 * dashboard it uses the dashboard session instead (`#document=ID&session=dashboard`): Folio
 * only verifies JWTs and holds no private key to mint one (docs/architecture.md).
 *
 * The viewer is meant to be embedded by customers: with ALLOWED_ORIGINS set, only those origins
 * (and Folio's own) may frame it; unset, any may, like the /i/ API it talks to.
 */
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { FolioError } from '../errors.js'
import { loadStaticFiles, serveStaticFiles, WEB_ROOT } from './static.js'

export function viewerHeaders(config: Config): Record<string, string> {
  const frame = config.allowedOrigins ? `'self' ${config.allowedOrigins.join(' ')}` : '*'
  return {
    'content-security-policy':
      "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
      `object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors ${frame}`,
    'x-content-type-options': 'nosniff',
    // The token lives in the fragment, which is never in a Referer; this makes sure of the rest.
    'referrer-policy': 'no-referrer',
  }
}

export function viewerSurface(deps: { config: Config }) {
  return async function viewer(app: FastifyInstance): Promise<void> {
    serveStaticFiles(app, await loadStaticFiles(`${WEB_ROOT}viewer`), viewerHeaders(deps.config))
    app.setNotFoundHandler(async () => {
      throw new FolioError('not_found')
    })
  }
}
