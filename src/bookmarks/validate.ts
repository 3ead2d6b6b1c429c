/**
 * Instant JSON bookmark records (the reference's `Bookmark`: type pspdfkit/bookmark, v 1, an
 * action, an optional name and pdfBookmarkId). Validated strictly but keeping unknown
 * properties (as annotations do), within a size bound.
 */
import { FolioError } from '../errors.js'
import { ANNOTATION_ID_RE } from '../annotations/instant-json.js'

export const BOOKMARK_TYPE = 'pspdfkit/bookmark'
/** Serialized bytes of one bookmark's content. */
export const MAX_BOOKMARK_BYTES = 16 * 1024
/** Bookmarks in one layer of one document. */
export const MAX_BOOKMARKS = 10_000
const ACTION_TYPES = new Set(['goTo', 'goToRemote', 'goToEmbedded', 'launch', 'uri', 'hide', 'javaScript', 'submitForm', 'resetForm', 'named'])

export type BookmarkContent = Record<string, unknown> & { type: typeof BOOKMARK_TYPE; v: 1; action: { type: string } }

function invalid(path: string, message: string): never {
  throw new FolioError('invalid_bookmark', { path }, { message: `${path}: ${message}` })
}

export function bookmarkId(raw: unknown, path = '$.id'): string {
  if (typeof raw !== 'string' || !ANNOTATION_ID_RE.test(raw)) invalid(path, 'an id has 1–128 characters of A–Z a–z 0–9 _ - . :')
  return raw
}

export function validateBookmark(raw: unknown, pageCount: number, path = '$.content'): BookmarkContent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalid(path, 'must be an object')
  const c = raw as Record<string, unknown>
  if (c.type !== BOOKMARK_TYPE) invalid(`${path}.type`, `must be "${BOOKMARK_TYPE}"`)
  if (c.v !== 1) invalid(`${path}.v`, 'must be 1')
  if (c.name !== undefined && (typeof c.name !== 'string' || c.name.length > 1024)) invalid(`${path}.name`, 'a string of at most 1024 characters')
  if (c.pdfBookmarkId !== undefined && (typeof c.pdfBookmarkId !== 'string' || c.pdfBookmarkId.length > 128)) invalid(`${path}.pdfBookmarkId`, 'a string of at most 128 characters')
  const a = c.action as Record<string, unknown> | undefined
  if (typeof a !== 'object' || a === null || Array.isArray(a)) invalid(`${path}.action`, 'must be an object')
  if (typeof a.type !== 'string' || !ACTION_TYPES.has(a.type)) invalid(`${path}.action.type`, `one of ${[...ACTION_TYPES].join(', ')}`)
  if (a.type === 'goTo' && !(Number.isInteger(a.pageIndex) && (a.pageIndex as number) >= 0 && (a.pageIndex as number) < pageCount)) {
    invalid(`${path}.action.pageIndex`, `a page of the document (0–${pageCount - 1})`)
  }
  if (a.type === 'uri' && (typeof a.uri !== 'string' || a.uri.length > 4096)) invalid(`${path}.action.uri`, 'a string of at most 4096 characters')
  if (Buffer.byteLength(JSON.stringify(c)) > MAX_BOOKMARK_BYTES) invalid(path, `at most ${MAX_BOOKMARK_BYTES} bytes`)
  return c as BookmarkContent
}
