/**
 * Parsing of write requests into validated rows, before any database work: a batch with one
 * bad item is refused whole with the item's path ("nothing written, for the whole
 * batch").
 */
import { isStorableText } from '../db/text.js'
import { FolioError } from '../errors.js'
import { newAnnotationId } from './ids.js'
import { ANNOTATION_ID_RE, InvalidAnnotation, validateContent, type Content } from './instant-json.js'

/** Who writes (spec §2): the JWT's user_id on the client surfaces; the API, which may name a user_id per item. */
export interface Actor {
  userId: string | null
  via: 'api' | 'client'
}

export const API_ACTOR: Actor = { userId: null, via: 'api' }

/** One item of a write, as the routes pass it on (Document Engine's field names). */
export interface WriteItem {
  id?: unknown
  content?: unknown
  group?: unknown
  user_id?: unknown
  /** The version this replace/delete is based on (If-Match, or this field). */
  version?: unknown
}

export interface ParsedItem {
  id: string
  content: Content
  /** undefined: not given (a replace keeps the stored group) */
  group: string | null | undefined
  userId: string | null
  version: number | undefined
}

export const MAX_BATCH = 1000
export const MAX_IDS = 10_000

export function invalid(path: string, reason: string, message: string): FolioError {
  return new FolioError('invalid_annotation', { path, reason }, { message })
}

export function checkBatchSize(n: number, max = MAX_BATCH): void {
  if (n > max) {
    throw new FolioError('too_many_annotations', { limit: max }, { message: `At most ${max} annotations per request; this one has ${n}` })
  }
}

function optionalString(v: unknown, path: string, max: number): string | null | undefined {
  if (v === undefined) return undefined
  if (v === null) return null
  if (typeof v !== 'string') throw invalid(path, 'wrong_type', `${path} must be a string or null`)
  if (v.length > max) throw invalid(path, 'too_long', `${path} is longer than ${max} characters`)
  if (!isStorableText(v)) throw invalid(path, 'invalid_string', `${path} holds U+0000 or an unpaired surrogate`)
  return v
}

/**
 * Validates items against a document of `pageCount` pages. `base(i)` names item i in error
 * paths (`$` for a single item, `$.annotations[i]` in a batch). `requireId`: replaces.
 */
export function parseItems(
  items: WriteItem[],
  pageCount: number,
  actor: Actor,
  opts: { base: (i: number) => string; requireId: boolean; contentIsItem?: boolean },
): ParsedItem[] {
  const seen = new Set<string>()
  return items.map((item, i) => {
    const base = opts.base(i)
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalid(base, 'wrong_type', `${base} must be an object`)
    let content: Content
    try {
      content = validateContent(opts.contentIsItem ? item : item.content, pageCount, opts.contentIsItem ? base : `${base}.content`)
    } catch (e) {
      if (e instanceof InvalidAnnotation) throw invalid(e.path, e.reason, e.message)
      throw e
    }
    const given = item.id ?? (opts.contentIsItem ? undefined : content.id)
    if (item.id !== undefined && content.id !== undefined && item.id !== content.id && !opts.contentIsItem) {
      throw invalid(`${base}.id`, 'not_allowed', `${base}.id differs from ${base}.content.id`)
    }
    if (given === undefined && opts.requireId) throw invalid(`${base}.id`, 'missing', `${base}.id is required`)
    if (given !== undefined && (typeof given !== 'string' || !ANNOTATION_ID_RE.test(given))) {
      throw invalid(`${base}.id`, 'wrong_type', `${base}.id must match ${ANNOTATION_ID_RE.source}`)
    }
    const id = (given as string | undefined) ?? newAnnotationId()
    if (seen.has(id)) throw invalid(`${base}.id`, 'duplicate_id', `${base}.id "${id}" appears twice in this request`)
    seen.add(id)
    const userId = optionalString(item.user_id, `${base}.user_id`, 256)
    let version: number | undefined
    if (item.version !== undefined && item.version !== null) {
      if (typeof item.version !== 'number' || !Number.isSafeInteger(item.version) || item.version < 1) {
        throw invalid(`${base}.version`, 'wrong_type', `${base}.version must be a positive integer`)
      }
      version = item.version
    }
    return {
      id,
      content,
      group: optionalString(item.group, `${base}.group`, 256),
      // Client writes are attributed to the JWT's user_id, whatever the body says (spec §2).
      userId: actor.via === 'client' ? actor.userId : (userId ?? actor.userId),
      version,
    }
  })
}

/** `If-Match: "3"` (or W/"3", or 3) → 3; absent → undefined. `*` means "any version". */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(header)
  if (!m) throw new FolioError('bad_request', { field: 'If-Match' }, { message: 'If-Match must name one annotation version, e.g. "3"' })
  return Number(m[1])
}
