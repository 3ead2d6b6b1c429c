/**
 * Page rendering and page text (spec §3 `/pages/:pageIndex/image` and `/text`, §7; issue #6).
 *
 * The service decides sizes, limits and cache keys; the pool (pool.ts) runs the engine in
 * worker threads; the cache (cache.ts) keeps the encoded results on disk. The cache key, and so
 * the ETag, is known before anything is rendered, so a browser's revalidation costs one
 * database read and no render.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { Readable } from 'node:stream'
import type { PageRow, SourceBlob } from '../documents/service.js'
import { FolioError } from '../errors.js'
import type { Logger } from '../log.js'
import { cacheKey, type RenderCache } from './cache.js'
import { encodeImage, ENCODER_VERSION, MEDIA_TYPES, type AnnotationOverlay, type ImageFormat } from './encode.js'
import type { PoolStats, PoolTask, RenderPool } from './pool.js'
import type { EmbeddedFileInfo, Outline, PageText, RawImage } from './protocol.js'
import { createDocumentText, type DocumentText } from './document-text.js'
import { pdfPassword, type PdfPassword } from './password.js'

/** spec §3: `?width=` / `?height=` are at most this many pixels. */
export const MAX_DIMENSION = 5000
/** Characters of one page's text; a page with more answers `truncated: true`. */
export const MAX_TEXT_CHARS = 200_000

/**
 * Annotations drawn over rendered pages. TODO(#5): the annotation service provides this; until
 * then pages show only the annotations inside the PDF file itself. Overlays must be SVG that
 * Folio generates from validated annotation data, never SVG taken from a client (librsvg would
 * follow references in it).
 */
export interface AnnotationSource {
  /** Changes whenever the document's annotations change; part of the image cache key. */
  version(documentId: string, layer: string): Promise<string>
  /** SVG in the displayed page's points (page: unrotated size and rotation). */
  overlays(documentId: string, layer: string, pageIndex: number, page: { width: number; height: number; rotation: number }): Promise<AnnotationOverlay[]>
}

export interface ImageRequest {
  /** Exactly one of width and height, in pixels (1–5000). */
  width?: number
  height?: number
  format: ImageFormat
  /** Draw annotations (Folio's, which include those imported from the PDF). */
  annotations: boolean
  /** Whose annotations: the layer ('' = default; a JWT's layer on the client routes). */
  layer?: string
  /** Opens an encrypted PDF (render/password.ts). */
  password?: string
}

export type Rendered =
  | { notModified: true; etag: string }
  | { notModified: false; etag: string; contentType: string; size: number; body: Buffer | Readable }

export interface RenderService {
  pageImage(documentId: string, pageIndex: number, req: ImageRequest, ifNoneMatch?: string): Promise<Rendered>
  pageText(documentId: string, pageIndex: number, ifNoneMatch?: string, password?: string): Promise<Rendered>
  /** Every page's text with one box per character (search, all-pages text); cached per blob. */
  documentText(documentId: string, password?: string): Promise<DocumentText & { pageRows: PageRow[] }>
  /** The PDF's outline, bounded (render/outline.ts). */
  outline(documentId: string, password?: string): Promise<Outline>
  /** The PDF's embedded files (render/embedded-files.ts), cached per blob. */
  embeddedFiles(documentId: string, password?: string): Promise<EmbeddedFileInfo[]>
  /** One embedded file's bytes by its sha256, or undefined when the PDF has none such. */
  embeddedFile(documentId: string, sha256: string, password?: string): Promise<{ info: EmbeddedFileInfo; bytes: Buffer } | undefined>
  stats(): PoolStats & { cacheBytes: number }
  close(): Promise<void>
}

export interface RenderDeps {
  documents: { sourceBlob(id: string): Promise<SourceBlob> }
  pool: RenderPool
  cache: RenderCache
  maxPixels: number
  annotations?: AnnotationSource
  log: Logger
  /** Bytes of decoded document text kept in memory for search (SEARCH_TEXT_MEMORY_BYTES). */
  textMemoryBytes?: number
}

/** Bounds of one outline (a hostile file may have millions of nodes or a cycle). */
export const MAX_OUTLINE_NODES = 10_000
export const MAX_OUTLINE_DEPTH = 64
/** Embedded files listed at most, and the largest one served (bytes). */
export const MAX_EMBEDDED_FILES = 1000
export const MAX_EMBEDDED_FILE_BYTES = 64 * 1024 * 1024

/** Identifies the engine build: a different PDFium may draw different pixels. */
async function engineId(): Promise<string> {
  const require = createRequire(import.meta.url)
  const wasm = await readFile(require.resolve('@hyzyla/pdfium/pdfium.wasm'))
  return `pdfium-${createHash('sha256').update(wasm).digest('hex').slice(0, 16)}/${ENCODER_VERSION}`
}

/** The page as displayed: /Rotate 90 or 270 swaps width and height. */
export function displayedSize(page: PageRow): { width: number; height: number } {
  return page.rotation === 90 || page.rotation === 270 ? { width: page.height, height: page.width } : { width: page.width, height: page.height }
}

/** Output pixels for one of width/height, aspect kept (spec §3). */
export function outputSize(page: PageRow, req: { width?: number; height?: number }, maxPixels: number): { width: number; height: number } {
  const shown = displayedSize(page)
  if (!(shown.width > 0 && shown.height > 0)) throw new FolioError('render_failed', { reason: 'unreadable' }, { message: 'The page has no area' })
  let width: number, height: number
  if (req.width !== undefined) {
    width = Math.round(req.width)
    height = Math.max(1, Math.round((width * shown.height) / shown.width))
  } else {
    height = Math.round(req.height!)
    width = Math.max(1, Math.round((height * shown.width) / shown.height))
  }
  if (width * height > maxPixels) {
    throw new FolioError('image_too_large', { maxPixels, width, height }, {
      message: `A ${width}×${height} image exceeds RENDER_MAX_PIXELS (${maxPixels} pixels)`,
    })
  }
  return { width, height }
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')
}

export function createRenderService(deps: RenderDeps): RenderService {
  const { documents, pool, cache } = deps
  const engine = engineId()
  engine.catch(() => {}) // awaited by every request, which reports the failure; not an unhandled rejection
  // Identical requests arriving together share one render (single flight).
  const inFlight = new Map<string, Promise<Buffer>>()

  /**
   * Runs a job on the pool; the engine's "needs a password" becomes 403 with a code that says
   * whether a password was missing or wrong (docs/errors.md), never a 422 render failure.
   */
  function run(task: PoolTask) {
    return pool.run(task).catch((e: unknown) => {
      if (e instanceof FolioError && e.code === 'render_failed' && e.details.reason === 'password_required') {
        throw new FolioError(task.password ? 'pdf_password_incorrect' : 'pdf_password_required', {}, { cause: e })
      }
      throw e
    })
  }
  /** The pool task fields that open the document, with or without a password. */
  function opener(blob: SourceBlob, password: PdfPassword | undefined): Pick<PoolTask, 'docKey' | 'loadBytes' | 'password'> {
    return { docKey: password ? `${blob.key}:${password.tag}` : blob.key, loadBytes: () => blob.read(), password: password?.value }
  }
  /** A small JSON result of a worker op, kept in the render cache under `key`. */
  async function cachedJson<T>(key: string, produce: () => Promise<unknown>): Promise<T> {
    const r = await serve(key, 'json', 'application/json', undefined, async () => Buffer.from(JSON.stringify(await produce())))
    if (r.notModified) throw new Error('unreachable: no If-None-Match given')
    if (Buffer.isBuffer(r.body)) return JSON.parse(r.body.toString('utf8')) as T
    const chunks: Buffer[] = []
    for await (const c of r.body) chunks.push(c as Buffer)
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T
  }
  async function listEmbedded(blob: SourceBlob, password: PdfPassword | undefined): Promise<EmbeddedFileInfo[]> {
    const key = cacheKey(['embedded-files', await engine, blob.key, MAX_EMBEDDED_FILES, MAX_EMBEDDED_FILE_BYTES, ...(password ? [password.tag] : [])])
    return cachedJson<EmbeddedFileInfo[]>(key, () => run({ ...opener(blob, password), job: { op: 'embeddedFiles', pageIndex: 0, maxFiles: MAX_EMBEDDED_FILES, maxBytes: MAX_EMBEDDED_FILE_BYTES } }))
  }
  const texts = createDocumentText({ run, cache, engine, maxChars: MAX_TEXT_CHARS, memoryBytes: deps.textMemoryBytes ?? 64 * 1024 * 1024 })

  async function page(documentId: string, pageIndex: number): Promise<{ blob: SourceBlob; page: PageRow }> {
    const blob = await documents.sourceBlob(documentId)
    if (blob.pages === null) {
      throw new FolioError('invalid_pdf', { reason: 'encrypted_unreadable' }, {
        message: 'The document is encrypted and its pages cannot be read without its password',
      })
    }
    const p = blob.pages[pageIndex]
    if (!p) throw new FolioError('page_not_found', { pageCount: blob.pages.length })
    return { blob, page: p }
  }

  async function serve(key: string, ext: string, contentType: string, ifNoneMatch: string | undefined, produce: () => Promise<Buffer>): Promise<Rendered> {
    const etag = `"${key.slice(0, 40)}"`
    if (matches(ifNoneMatch, etag)) return { notModified: true, etag }
    const hit = await cache.get(key)
    if (hit) return { notModified: false, etag, contentType, size: hit.size, body: hit.body }
    let running = inFlight.get(key)
    if (!running) {
      running = produce().then(async (bytes) => {
        await cache.put(key, ext, bytes)
        return bytes
      })
      inFlight.set(key, running)
      running.then(() => inFlight.delete(key), () => inFlight.delete(key))
    }
    const bytes = await running
    return { notModified: false, etag, contentType, size: bytes.length, body: bytes }
  }

  return {
    async pageImage(documentId, pageIndex, req, ifNoneMatch) {
      const { blob, page: p } = await page(documentId, pageIndex)
      const size = outputSize(p, req, deps.maxPixels)
      const source = req.annotations ? deps.annotations : undefined
      const layer = req.layer ?? ''
      const annotationVersion = req.annotations ? (source ? await source.version(documentId, layer) : 'pdf') : 'none'
      const password = pdfPassword(blob.key, req.password)
      const key = cacheKey(['image', await engine, blob.key, pageIndex, size.width, size.height, req.format, annotationVersion, ...(password ? [password.tag] : [])])
      return serve(key, req.format, MEDIA_TYPES[req.format], ifNoneMatch, async () => {
        const image = (await run({
          ...opener(blob, password),
          // With Folio's annotations drawn as overlays, PDFium draws none of the file's own: those
          // were imported into Folio at upload (issue #5), and drawing both would show them twice
          // (and keep showing one deleted in Folio). Form widgets are not drawn then either.
          job: { op: 'render', pageIndex, width: size.width, height: size.height, annotations: req.annotations && !source },
        })) as RawImage
        const overlays = source ? await source.overlays(documentId, layer, pageIndex, p) : []
        return encodeImage(image, req.format, overlays, displayedSize(p))
      })
    },

    async pageText(documentId, pageIndex, ifNoneMatch, pw) {
      const { blob } = await page(documentId, pageIndex)
      const password = pdfPassword(blob.key, pw)
      const key = cacheKey(['text', await engine, blob.key, pageIndex, MAX_TEXT_CHARS, ...(password ? [password.tag] : [])])
      return serve(key, 'json', 'application/json; charset=utf-8', ifNoneMatch, async () => {
        const text = (await run({
          ...opener(blob, password),
          job: { op: 'text', pageIndex, maxChars: MAX_TEXT_CHARS },
        })) as PageText
        return Buffer.from(JSON.stringify({ data: { pageIndex, ...text } }))
      })
    },

    async documentText(documentId, pw) {
      const { blob } = await page(documentId, 0)
      const doc = await texts.get(blob, blob.pages!.length, pdfPassword(blob.key, pw))
      return { ...doc, pageRows: blob.pages! }
    },

    async outline(documentId, pw) {
      const { blob } = await page(documentId, 0)
      const password = pdfPassword(blob.key, pw)
      const key = cacheKey(['outline', await engine, blob.key, MAX_OUTLINE_NODES, MAX_OUTLINE_DEPTH, ...(password ? [password.tag] : [])])
      return cachedJson<Outline>(key, () => run({ ...opener(blob, password), job: { op: 'outline', pageIndex: 0, maxNodes: MAX_OUTLINE_NODES, maxDepth: MAX_OUTLINE_DEPTH } }))
    },

    async embeddedFiles(documentId, pw) {
      const { blob } = await page(documentId, 0)
      return listEmbedded(blob, pdfPassword(blob.key, pw))
    },

    async embeddedFile(documentId, sha256, pw) {
      const { blob } = await page(documentId, 0)
      const password = pdfPassword(blob.key, pw)
      const info = (await listEmbedded(blob, password)).find((f) => f.sha256 === sha256)
      if (!info) return undefined
      const bytes = (await run({ ...opener(blob, password), job: { op: 'embeddedFile', pageIndex: 0, index: info.index, maxBytes: MAX_EMBEDDED_FILE_BYTES } })) as Uint8Array
      return { info, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) }
    },

    stats() {
      return { ...pool.stats(), cacheBytes: cache.sizeBytes }
    },

    close() {
      return pool.close()
    },
  }
}
