/**
 * Image and json-content outputs of the Build API: the built PDF rendered or read by the
 * render workers (PDFium, the same pool as page images), pages encoded with sharp, several
 * pages zipped (fflate, stored: the images are compressed already). The PDF is handed to the
 * pool by its sha256, so its pages share one open document in a worker.
 */
import { readFile } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { zipSync } from 'fflate'
import { FolioError } from '../errors.js'
import { encodeImage, MEDIA_TYPES } from '../render/encode.js'
import type { PdfWork } from '../workers/pool.js'
import type { PageText } from '../render/protocol.js'
import type { EngineResult } from './engine.js'
import { resolveRange, type ImageOutput, type JsonContentOutput } from './instructions.js'
import type { BuildResponse, BuiltFile } from './service.js'

export interface PageRenderer {
  pool: PdfWork
  maxPixels: number
}

const MAX_TEXT_CHARS = 200_000

function displayed(p: { width: number; height: number; rotation: number }): { width: number; height: number } {
  return p.rotation === 90 || p.rotation === 270 ? { width: p.height, height: p.width } : { width: p.width, height: p.height }
}

function pixelSize(page: { width: number; height: number }, out: ImageOutput, maxPixels: number): { width: number; height: number } {
  let scale: number
  if (out.dpi !== undefined) scale = out.dpi / 72
  else if (out.width !== undefined && out.height !== undefined) scale = Math.min(out.width / page.width, out.height / page.height)
  else if (out.width !== undefined) scale = out.width / page.width
  else scale = out.height! / page.height
  const width = Math.max(1, Math.round(page.width * scale))
  const height = Math.max(1, Math.round(page.height * scale))
  if (width > 10_000 || height > 10_000 || width * height > maxPixels) {
    throw new FolioError('build_limit_exceeded', { field: 'output', limit: maxPixels }, { message: `A ${width}×${height} page image exceeds RENDER_MAX_PIXELS (${maxPixels})` })
  }
  return { width, height }
}

export async function renderOutput(r: PageRenderer, result: EngineResult, out: ImageOutput | JsonContentOutput): Promise<BuildResponse> {
  const loadBytes = async () => new Uint8Array(await readFile(result.path))
  if (out.type === 'image') {
    const pages = resolveRange(out.pages, result.pageCount, 'output.pages')
    if (pages.length > 1000) throw new FolioError('build_limit_exceeded', { field: 'output.pages', limit: 1000 }, { message: 'output.pages: at most 1000 page images' })
    const images: Buffer[] = []
    for (const pageIndex of pages) {
      const shown = displayed(result.pages[pageIndex]!)
      const size = pixelSize(shown, out, r.maxPixels)
      const raw = await r.pool.run('render', { pageIndex, width: size.width, height: size.height, annotations: true }, { docKey: `build:${result.sha256}`, loadBytes })
      images.push(await encodeImage(raw, out.format))
    }
    const ext = out.format === 'jpeg' ? 'jpg' : out.format
    let file: Omit<BuiltFile, 'cleanup'>
    if (images.length === 1) {
      const body = images[0]!
      file = { contentType: MEDIA_TYPES[out.format], filename: `page-${pages[0]}.${ext}`, size: body.length, stream: () => bufferStream(body) }
    } else {
      const entries: Record<string, [Uint8Array, { level: 0 }]> = {}
      pages.forEach((p, i) => (entries[`page-${p}.${ext}`] = [images[i]!, { level: 0 }]))
      const body = Buffer.from(zipSync(entries))
      file = { contentType: 'application/zip', filename: 'pages.zip', size: body.length, stream: () => bufferStream(body) }
    }
    return { kind: 'file', file: { ...file, cleanup: async () => {} } }
  }
  const pagesOut: unknown[] = []
  for (let pageIndex = 0; pageIndex < result.pageCount; pageIndex++) {
    const t = await r.pool.run('text', { pageIndex, maxChars: MAX_TEXT_CHARS }, { docKey: `build:${result.sha256}`, loadBytes })
    pagesOut.push(pageContents(pageIndex, t, out))
  }
  return { kind: 'json', body: { pages: pagesOut } }
}

function bufferStream(b: Buffer): Readable {
  return Readable.from([b])
}

interface Word { value: string; bbox: { left: number; top: number; width: number; height: number } }

function words(line: PageText['textLines'][number]): Word[] {
  const out: Word[] = []
  let start = -1
  for (let i = 0; i <= line.contents.length; i++) {
    const space = i === line.contents.length || /\s/.test(line.contents[i]!)
    if (!space && start < 0) start = i
    if (space && start >= 0) {
      const boxes = line.charBoxes.slice(start, i)
      const left = Math.min(...boxes.map((b) => b[0]))
      const top = Math.min(...boxes.map((b) => b[1]))
      const right = Math.max(...boxes.map((b) => b[0] + b[2]))
      const bottom = Math.max(...boxes.map((b) => b[1] + b[3]))
      out.push({ value: line.contents.slice(start, i), bbox: { left, top, width: right - left, height: bottom - top } })
      start = -1
    }
  }
  return out
}

const PATTERNS: Array<{ type: string; re: RegExp }> = [
  { type: 'email', re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g },
  { type: 'url', re: /https?:\/\/[^\s]+/g },
  { type: 'date', re: /\b(?:\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4})\b/g },
  { type: 'phoneNumber', re: /\+?\d[\d ()-]{7,}\d/g },
  { type: 'currency', re: /(?:[$€£¥]\s?\d[\d,.]*|\d[\d,.]*\s?(?:USD|EUR|GBP|CHF|€|\$))/g },
]

function pageContents(pageIndex: number, t: PageText, out: JsonContentOutput) {
  const text = t.textLines.map((l) => l.contents).join('\n')
  const page: Record<string, unknown> = { pageIndex }
  if (out.plainText) page.plainText = text
  if (out.structuredText) {
    page.structuredText = {
      lines: t.textLines.map((l) => ({ value: l.contents, bbox: { left: l.left, top: l.top, width: l.width, height: l.height } })),
      words: t.textLines.flatMap(words),
      characters: t.textLines.flatMap((l) => [...l.contents].map((c, i) => ({ value: c, bbox: { left: l.charBoxes[i]?.[0] ?? l.left, top: l.charBoxes[i]?.[1] ?? l.top, width: l.charBoxes[i]?.[2] ?? 0, height: l.charBoxes[i]?.[3] ?? 0 } }))),
    }
  }
  if (out.keyValuePairs) {
    const found: unknown[] = []
    for (const { type, re } of PATTERNS) for (const m of text.matchAll(re)) found.push({ type, value: m[0].trim() })
    page.keyValuePairs = found
  }
  if (out.tables) page.tables = []
  return page
}
