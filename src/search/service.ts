/**
 * Search in a document (Document Engine's `search-document`): text, regular expression or
 * preset, over a range of pages, optionally in the layer's annotations too. The page text comes
 * from the render service (extracted in render workers, cached per blob); matching of client
 * patterns and presets runs in match workers with a time limit (match-pool.ts), text queries
 * on the main thread (an escaped literal is linear).
 */
import { randomUUID } from 'node:crypto'
import type { AnnotationRecord } from '../annotations/records.js'
import { FolioError } from '../errors.js'
import { union, type SearchPage } from '../render/document-text.js'
import type { Box } from '../render/protocol.js'
import type { RenderService } from '../render/service.js'
import { displayToAnnotation } from './coordinates.js'
import { compileFlags, findMatches, type Match, type MatchPage, type MatchResult } from './match.js'
import type { MatchPool } from './match-pool.js'
import { isPreset, SEARCH_PRESETS } from './presets.js'

export const SEARCH_TYPES = ['text', 'regex', 'preset'] as const
export type SearchType = (typeof SEARCH_TYPES)[number]
/** The reference: "the search query needs to be at least three characters long" (text search). */
export const MIN_TEXT_QUERY = 3
export const MAX_QUERY_LENGTH = 1000
/** Characters of context on each side of a match in `previewText`. */
const PREVIEW_CONTEXT = 40

export interface SearchQuery {
  q: string
  type: SearchType
  start?: number
  /** The reference: the index of the last page included. */
  limit?: number
  caseSensitive?: boolean
  includeAnnotations: boolean
  layer: string
  password?: string
}

export interface SearchResult {
  pageIndex: number
  previewText: string
  rangeInPreview: [number, number]
  /** [left, top, width, height] in the page's annotation coordinates, one per line the match covers. */
  rectsOnPage: Box[]
  isAnnotation: boolean
  /** For a match in an annotation's text. */
  annotationId?: string
}

export interface SearchDeps {
  render: Pick<RenderService, 'documentText'>
  annotations: { all(documentId: string, layer: string): AsyncIterable<AnnotationRecord> }
  matcher: MatchPool
  maxResults: number
}

/** Annotations searched at most (their text only). */
const MAX_ANNOTATIONS = 10_000

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
}

/** The pattern and flags for a query; throws 400 invalid_search_query with a reason. */
export function patternOf(q: SearchQuery): { source: string; flags: string; trusted: boolean } {
  if (q.type === 'text') {
    if ([...q.q.trim()].length < MIN_TEXT_QUERY) throw new FolioError('invalid_search_query', { reason: 'too_short', minLength: MIN_TEXT_QUERY }, { message: `A text query has at least ${MIN_TEXT_QUERY} characters` })
    // Whitespace in the query matches any run of whitespace, line breaks included.
    const source = q.q.trim().split(/\s+/).map(escapeRegExp).join('\\s+')
    return { source, flags: q.caseSensitive === true ? 'u' : 'iu', trusted: true }
  }
  if (q.type === 'preset') {
    if (!isPreset(q.q)) throw new FolioError('invalid_search_query', { reason: 'unknown_preset', presets: Object.keys(SEARCH_PRESETS) })
    return { source: SEARCH_PRESETS[q.q], flags: q.caseSensitive === false ? 'iu' : 'u', trusted: false }
  }
  const flags = compileFlags(q.q, q.caseSensitive !== false)
  if (flags === undefined) throw new FolioError('invalid_search_query', { reason: 'invalid_regex' }, { message: 'The regular expression does not compile' })
  return { source: q.q, flags, trusted: false }
}

/** Context around [start, end), cut at whitespace, line breaks shown as spaces. */
function preview(text: string, start: number, end: number): { previewText: string; rangeInPreview: [number, number] } {
  let from = Math.max(0, start - PREVIEW_CONTEXT)
  let to = Math.min(text.length, end + PREVIEW_CONTEXT)
  if (from > 0) {
    const ws = text.slice(from, start).search(/\s/)
    if (ws >= 0) from += ws + 1
  }
  if (to < text.length) {
    const tail = text.slice(end, to)
    const ws = Math.max(tail.lastIndexOf(' '), tail.lastIndexOf('\n'))
    if (ws >= 0) to = end + ws
  }
  return { previewText: text.slice(from, to).replace(/[\r\n]/g, ' '), rangeInPreview: [start - from, end - start] }
}

/** One rectangle per line the match covers (lines are separated by "\n" in the page text). */
function rectsOf(page: SearchPage, start: number, end: number): Box[] {
  const rects: Box[] = []
  let from = start
  for (let i = start; i <= end; i++) {
    if (i === end || page.text[i] === '\n') {
      const b = union(page.boxes, from, i)
      if (b[2] > 0 || b[3] > 0) rects.push(b)
      from = i + 1
    }
  }
  return rects
}

function annotationText(a: AnnotationRecord): string | undefined {
  const c = a.content as { text?: unknown; note?: unknown }
  const t = typeof c.text === 'string' ? c.text : typeof (c.text as { value?: unknown })?.value === 'string' ? (c.text as { value: string }).value : undefined
  const note = typeof c.note === 'string' ? c.note : undefined
  const joined = [t, note].filter((s) => s !== undefined && s !== '').join('\n')
  return joined === '' ? undefined : joined
}

export function createSearchService(deps: SearchDeps) {
  async function match(docKey: string, pages: MatchPage[], p: { source: string; flags: string; trusted: boolean }, max: number): Promise<MatchResult> {
    if (p.trusted) return findMatches(pages, p.source, p.flags, max)
    return deps.matcher.run({ docKey, pages: () => pages, source: p.source, flags: p.flags, maxResults: max })
  }

  return {
    async search(documentId: string, q: SearchQuery): Promise<{ results: SearchResult[]; truncated: boolean }> {
      const pattern = patternOf(q)
      const doc = await deps.render.documentText(documentId, q.password)
      const last = Math.min(q.limit ?? doc.pages.length - 1, doc.pages.length - 1)
      const first = q.start ?? 0
      const pages = doc.pages.filter((p) => p.pageIndex >= first && p.pageIndex <= last)
      // A match worker keeps the texts it was sent under this key (match-pool.ts).
      const key = pages.length === doc.pages.length ? doc.key : `${doc.key}:${first}-${last}`
      const found = pages.length === 0 ? { matches: [], truncated: false } : await match(key, pages, pattern, deps.maxResults)
      const results: SearchResult[] = []
      for (const m of found.matches) {
        const page = doc.pages[m.pageIndex]!
        const row = doc.pageRows[m.pageIndex]!
        results.push({
          pageIndex: m.pageIndex,
          ...preview(page.text, m.start, m.end),
          rectsOnPage: rectsOf(page, m.start, m.end).map((b) => displayToAnnotation(b, row)),
          isAnnotation: false,
        })
      }
      let truncated = found.truncated
      if (q.includeAnnotations && results.length < deps.maxResults) {
        const texts: MatchPage[] = []
        const records: AnnotationRecord[] = []
        for await (const a of deps.annotations.all(documentId, q.layer)) {
          const pageIndex = (a.content as { pageIndex?: unknown }).pageIndex
          const text = annotationText(a)
          if (typeof pageIndex !== 'number' || pageIndex < first || pageIndex > last || text === undefined) continue
          if (records.length >= MAX_ANNOTATIONS) break
          texts.push({ pageIndex: records.length, text })
          records.push(a)
        }
        const room = deps.maxResults - results.length
        const hits: MatchResult = texts.length === 0 ? { matches: [], truncated: false } : await match(`annotations:${randomUUID()}`, texts, pattern, room)
        truncated ||= hits.truncated
        for (const m of hits.matches as Match[]) {
          const a = records[m.pageIndex]!
          const bbox = (a.content as { bbox?: unknown }).bbox
          results.push({
            pageIndex: (a.content as { pageIndex: number }).pageIndex,
            ...preview(texts[m.pageIndex]!.text, m.start, m.end),
            rectsOnPage: Array.isArray(bbox) && bbox.length === 4 ? [bbox as Box] : [],
            isAnnotation: true,
            annotationId: a.id,
          })
        }
        results.sort((x, y) => x.pageIndex - y.pageIndex) // stable: page text first on each page
      }
      return { results, truncated }
    },
  }
}

export type SearchService = ReturnType<typeof createSearchService>
