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
  pageText(documentId: string, pageIndex: number): Promise<Rendition>
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
}

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
      const key = cacheKey(['image', await engine, blob.key, pageIndex, size.width, size.height, req.format, annotationVersion])
      return serve(key, req.format, MEDIA_TYPES[req.format], async () => {
        // With Folio's annotations drawn as overlays, PDFium draws none of the file's own: those
        // were imported into Folio at upload, and drawing both would show them twice
        // (and keep showing one deleted in Folio). Form widgets are not drawn then either.
        const image = await pool.run('render', { pageIndex, width: size.width, height: size.height, annotations: req.annotations && !source }, {
          docKey: blob.key,
          loadBytes: () => blob.read(),
          fairnessKey: documentId,
        })
        const overlays = source ? await source.overlays(documentId, layer, pageIndex, p) : []
        return encodeImage(image, req.format, overlays, displayedSize(p))
      })
    },

    async pageText(documentId, pageIndex) {
      const { blob } = await page(documentId, pageIndex)
      // 'bare': the cached JSON has no {"data"} envelope (the route adds it); older cache files had one.
      const key = cacheKey(['text', await engine, blob.key, pageIndex, MAX_TEXT_CHARS, 'bare'])
      return serve(key, 'json', 'application/json; charset=utf-8', async () => {
        const text = await pool.run('text', { pageIndex, maxChars: MAX_TEXT_CHARS }, {
          docKey: blob.key,
          loadBytes: () => blob.read(),
          fairnessKey: documentId,
        })
        return Buffer.from(JSON.stringify({ pageIndex, ...text }))
      })
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
