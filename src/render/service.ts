/**
 * Page rendering and page text (spec §3 `/pages/:pageIndex/image` and `/text`, §7).
 *
 * The service decides sizes, limits and cache keys; the PDF work pool (workers/pool.ts) runs
 * the engine in worker threads, at most a share of them per document; the cache (cache.ts) keeps the encoded results on disk. The cache key, and so
 * the ETag, is known before anything is rendered, so a browser's revalidation costs one
 * memo lookup and no render. No HTTP here: the route matches If-None-Match and wraps the text.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { Readable } from 'node:stream'
import type { DocumentSource, PageRow } from '../documents/service.js'
import { FolioError } from '../errors.js'
import type { Logger } from '../log.js'
import { cacheKey, type RenderCache } from './cache.js'
import { encodeImage, ENCODER_VERSION, MEDIA_TYPES, type AnnotationOverlay, type ImageFormat } from './encode.js'
import type { PdfWorkPool, PoolStats } from '../workers/pool.js'
import type { JobKind } from '../workers/kinds.js'
import type { EmbeddedFileInfo, Job, Outline, PageText, RawImage, RenderTask } from './protocol.js'
import { createDocumentText, type DocumentText } from './document-text.js'
import { pdfPassword, type PdfPassword } from './password.js'

/** spec §3: `?width=` / `?height=` are at most this many pixels. */
export const MAX_DIMENSION = 5000
/** Characters of one page's text; a page with more answers `truncated: true`. */
export const MAX_TEXT_CHARS = 200_000

/**
 * Annotations drawn over rendered pages (the annotation service's overlaySource); without it
 * pages show only the annotations inside the PDF file itself. Overlays must be SVG that
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

/**
 * A page image or page text, named before it is produced: the ETag is derived from the cache
 * key, so a revalidation (the route compares If-None-Match) costs no render. `open` serves the
 * bytes from the cache or renders them (once for identical requests arriving together).
 */
export interface Rendition {
  etag: string
  contentType: string
  open(): Promise<{ size: number; body: Buffer | Readable }>
}

export interface RenderService {
  pageImage(documentId: string, pageIndex: number, req: ImageRequest): Promise<Rendition>
  /** The page's text as JSON `{pageIndex, width, height, textLines, truncated}` (the route adds the envelope). */
  pageText(documentId: string, pageIndex: number, password?: string): Promise<Rendition>
  /** Every page's text with one box per character (search, all-pages text); cached per blob. */
  documentText(documentId: string, password?: string): Promise<DocumentText & { pageRows: PageRow[] }>
  /** The PDF's outline, bounded (render/outline.ts). */
  outline(documentId: string, password?: string): Promise<Outline>
  /** The PDF's embedded files (render/embedded-files.ts), cached per blob. */
  embeddedFiles(documentId: string, password?: string): Promise<EmbeddedFileInfo[]>
  /** One embedded file's bytes by its sha256, or undefined when the PDF has none such. */
  embeddedFile(documentId: string, sha256: string, password?: string): Promise<{ info: EmbeddedFileInfo; bytes: Buffer } | undefined>
  stats(): PoolStats & { cacheBytes: number; cacheEntries: number; cacheMemoryBytes: number; cacheMemoryEntries: number }
  close(): Promise<void>
}

export interface RenderDeps {
  documents: { source(id: string): Promise<DocumentSource> }
  pool: Pick<PdfWorkPool, 'run' | 'stats' | 'close'>
  cache: RenderCache
  maxPixels: number
  annotations?: AnnotationSource
  log: Logger
  /** Bytes of decoded document text kept in memory for search (SEARCH_TEXT_MEMORY_BYTES). */
  textMemoryBytes?: number
}

/** The pool's job kind for each op of a RenderTask (workers/kinds.ts). */
const KIND_OF_OP: Record<Job['op'], JobKind> = {
  render: 'render',
  text: 'text',
  pageTexts: 'page-texts',
  outline: 'outline',
  embeddedFiles: 'embedded-files',
  embeddedFile: 'embedded-file',
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

/** Distinct exact sizes served per page (per node) before requested sizes are snapped (SizeGate). */
export const EXACT_SIZES_PER_PAGE = 16
/** The step sizes are snapped up to beyond that; the viewer already asks in these steps. */
export const SIZE_STEP = 50
const SIZE_GATE_PAGES = 10_000

/**
 * Bounds the distinct images one page can cost: every `width` from 1 to 5000 would otherwise be
 * a render and a cache entry of its own. The first EXACT_SIZES_PER_PAGE distinct sizes asked of
 * a page are served exactly; any further size is rounded up to a multiple of SIZE_STEP (never
 * below what was asked, so images stay sharp), so one page has at most 16 + 100 widths.
 */
export class SizeGate {
  private readonly seen = new Map<string, Set<number>>()

  admit(page: string, requested: number): number {
    let sizes = this.seen.get(page)
    if (sizes) {
      this.seen.delete(page)
      this.seen.set(page, sizes)
    } else {
      sizes = new Set()
      this.seen.set(page, sizes)
      if (this.seen.size > SIZE_GATE_PAGES) this.seen.delete(this.seen.keys().next().value!)
    }
    if (sizes.has(requested) || requested % SIZE_STEP === 0) return requested
    if (sizes.size < EXACT_SIZES_PER_PAGE) {
      sizes.add(requested)
      return requested
    }
    return Math.min(MAX_DIMENSION, Math.ceil(requested / SIZE_STEP) * SIZE_STEP)
  }
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

export function createRenderService(deps: RenderDeps): RenderService {
  const { documents, pool, cache } = deps
  const engine = engineId()
  engine.catch(() => {}) // awaited by every request, which reports the failure; not an unhandled rejection
  // Identical requests arriving together share one render (single flight).
  const inFlight = new Map<string, Promise<Buffer>>()
  const sizes = new SizeGate()

  /**
   * Runs a job on the pool; the engine's "needs a password" becomes 403 with a code that says
   * whether a password was missing or wrong (docs/errors.md), never a 422 render failure.
   */
  function run(task: RenderTask): Promise<unknown> {
    const { op, ...input } = task.job
    const opts = { docKey: task.docKey, loadBytes: task.loadBytes, password: task.password, fairnessKey: task.fairnessKey }
    return (pool.run as (kind: JobKind, input: unknown, o: typeof opts) => Promise<unknown>)(KIND_OF_OP[op], input, opts).catch((e: unknown) => {
      if (e instanceof FolioError && e.code === 'render_failed' && e.details.reason === 'password_required') {
        throw new FolioError(task.password ? 'pdf_password_incorrect' : 'pdf_password_required', {}, { cause: e })
      }
      throw e
    })
  }
  /** The pool task fields that open the document, with or without a password. */
  function opener(blob: DocumentSource, password: PdfPassword | undefined): Pick<RenderTask, 'docKey' | 'loadBytes' | 'password'> {
    return { docKey: password ? `${blob.key}:${password.tag}` : blob.key, loadBytes: () => blob.read(), password: password?.value }
  }
  /** A small JSON result of a worker op, kept in the render cache under `key`. */
  async function cachedJson<T>(key: string, produce: () => Promise<unknown>): Promise<T> {
    const r = await serve(key, 'json', 'application/json', async () => Buffer.from(JSON.stringify(await produce()))).open()
    if (Buffer.isBuffer(r.body)) return JSON.parse(r.body.toString('utf8')) as T
    const chunks: Buffer[] = []
    for await (const c of r.body) chunks.push(c as Buffer)
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T
  }
  async function listEmbedded(blob: DocumentSource, password: PdfPassword | undefined): Promise<EmbeddedFileInfo[]> {
    const key = cacheKey(['embedded-files', await engine, blob.key, MAX_EMBEDDED_FILES, MAX_EMBEDDED_FILE_BYTES, ...(password ? [password.tag] : [])])
    return cachedJson<EmbeddedFileInfo[]>(key, () => run({ ...opener(blob, password), job: { op: 'embeddedFiles', pageIndex: 0, maxFiles: MAX_EMBEDDED_FILES, maxBytes: MAX_EMBEDDED_FILE_BYTES } }))
  }
  const texts = createDocumentText({ run, cache, engine, maxChars: MAX_TEXT_CHARS, memoryBytes: deps.textMemoryBytes ?? 64 * 1024 * 1024 })

  async function page(documentId: string, pageIndex: number): Promise<{ blob: DocumentSource; page: PageRow }> {
    const blob = await documents.source(documentId)
    if (blob.pages === null) {
      throw new FolioError('invalid_pdf', { reason: 'encrypted_unreadable' }, {
        message: 'The document is encrypted and its pages cannot be read without its password',
      })
    }
    const p = blob.pages[pageIndex]
    if (!p) throw new FolioError('page_not_found', { pageCount: blob.pages.length })
    return { blob, page: p }
  }

  function serve(key: string, ext: string, contentType: string, produce: () => Promise<Buffer>): Rendition {
    return {
      etag: `"${key.slice(0, 40)}"`,
      contentType,
      async open() {
        const hit = await cache.get(key)
        if (hit) return { size: hit.size, body: hit.body }
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
        return { size: bytes.length, body: bytes }
      },
    }
  }

  return {
    async pageImage(documentId, pageIndex, req) {
      const { blob, page: p } = await page(documentId, pageIndex)
      const pageKey = `${blob.key}/${pageIndex}/${req.width !== undefined ? 'w' : 'h'}`
      const asked = req.width !== undefined ? { width: sizes.admit(pageKey, Math.round(req.width)) } : { height: sizes.admit(pageKey, Math.round(req.height!)) }
      const size = outputSize(p, asked, deps.maxPixels)
      const source = req.annotations ? deps.annotations : undefined
      const layer = req.layer ?? ''
      const annotationVersion = req.annotations ? (source ? await source.version(documentId, layer) : 'pdf') : 'none'
      const password = pdfPassword(blob.key, req.password)
      const key = cacheKey(['image', await engine, blob.key, pageIndex, size.width, size.height, req.format, annotationVersion, ...(password ? [password.tag] : [])])
      return serve(key, req.format, MEDIA_TYPES[req.format], async () => {
        const image = (await run({
          ...opener(blob, password),
          fairnessKey: documentId,
          // With Folio's annotations drawn as overlays, PDFium draws none of the file's own: those
          // were imported into Folio at upload, and drawing both would show them twice
          // (and keep showing one deleted in Folio). Form widgets are not drawn then either.
          job: { op: 'render', pageIndex, width: size.width, height: size.height, annotations: req.annotations && !source },
        })) as RawImage
        const overlays = source ? await source.overlays(documentId, layer, pageIndex, p) : []
        return encodeImage(image, req.format, overlays, displayedSize(p))
      })
    },

    async pageText(documentId, pageIndex, pw) {
      const { blob } = await page(documentId, pageIndex)
      const password = pdfPassword(blob.key, pw)
      // 'bare': the cached JSON has no {"data"} envelope (the route adds it); older cache files had one.
      const key = cacheKey(['text', await engine, blob.key, pageIndex, MAX_TEXT_CHARS, 'bare', ...(password ? [password.tag] : [])])
      return serve(key, 'json', 'application/json; charset=utf-8', async () => {
        const text = (await run({
          ...opener(blob, password),
          fairnessKey: documentId,
          job: { op: 'text', pageIndex, maxChars: MAX_TEXT_CHARS },
        })) as PageText
        return Buffer.from(JSON.stringify({ pageIndex, ...text }))
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
      const c = cache.stats
      return { ...pool.stats(), cacheBytes: cache.sizeBytes, cacheEntries: c.entries, cacheMemoryBytes: c.memoryBytes, cacheMemoryEntries: c.memoryEntries }
    },

    close() {
      return pool.close()
    },
  }
}
