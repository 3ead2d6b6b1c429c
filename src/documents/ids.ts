import { randomBytes } from 'node:crypto'
import { FolioError } from '../errors.js'

/** spec §0: a document id matches this; anything else is refused before it reaches SQL or disk. */
export const DOCUMENT_ID_RE = /^[A-Za-z0-9_-]{1,128}$/

/** 144 random bits, URL-safe (spec §0 asks for at least 96). */
export function newDocumentId(): string {
  return randomBytes(18).toString('base64url')
}

export function parseDocumentId(raw: unknown): string {
  if (typeof raw !== 'string' || !DOCUMENT_ID_RE.test(raw)) throw new FolioError('invalid_document_id')
  return raw
}

/**
 * For ids in a path: a malformed id cannot name a document, so it is answered like an unknown
 * one (404) instead of revealing the id rules to a prober; `..%2F..` never reaches a store.
 */
export function pathDocumentId(raw: unknown): string {
  if (typeof raw !== 'string' || !DOCUMENT_ID_RE.test(raw)) throw new FolioError('document_not_found')
  return raw
}
