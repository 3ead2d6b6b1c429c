/**
 * A tiny static file server for the dashboard and the viewer (web/…). Every file of the folder
 * is read once at start and registered as its own GET route, so there is no path to traverse
 * (`/dashboard/../../etc/passwd` matches no route) and no dependency; the files are small.
 * Responses carry a strong ETag and `no-cache` (revalidate: a new Folio version shows at once).
 */
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { extname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'

/** web/ at the repository root (this file runs from dist/src/http/). */
export const WEB_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url))

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
}

export interface StaticFile {
  body: Buffer
  type: string
  etag: string
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await walk(p)))
    else if (TYPES[extname(e.name)]) out.push(p)
  }
  return out
}

/** Reads every servable file under `dir`, keyed by its path relative to `dir` with `/`. */
export async function loadStaticFiles(dir: string): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>()
  for (const p of await walk(dir)) {
    const body = await readFile(p)
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
    files.set(relative(dir, p).split(sep).join('/'), { body, type: TYPES[extname(p)]!, etag })
  }
  return files
}

/**
 * Registers GET routes for `files` in `app`: `index.html` at `/` (the scope's prefix itself),
 * every file at `/<relative path>`. `headers` go on every response (CSP and the like).
 */
export function serveStaticFiles(app: FastifyInstance, files: Map<string, StaticFile>, headers: Record<string, string>): void {
  for (const [name, file] of files) {
    const path = name === 'index.html' ? '/' : `/${name}`
    app.get(path, { schema: { hide: true } }, async (req, reply) => {
      reply.headers(headers).header('etag', file.etag).header('cache-control', 'no-cache')
      if (req.headers['if-none-match'] === file.etag) return reply.code(304).send()
      return reply.type(file.type).send(file.body)
    })
  }
}
