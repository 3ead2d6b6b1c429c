/**
 * Passwords of encrypted PDFs (Document Engine's `pspdfkit-pdf-password` header, the JWT
 * `password` claim). A password is only ever passed to the engine with the document's bytes; it
 * is never stored, logged or put in a cache key. What separates results opened with a password
 * from those without (cache keys, the worker's open documents) is `tag`, a digest bound to the
 * blob, so a cached page of an encrypted document is only served to a request that carries the
 * same password (a request without one misses the cache and is refused by the engine).
 */
import { createHash } from 'node:crypto'
import { FolioError } from '../errors.js'

export interface PdfPassword {
  value: string
  tag: string
}

/** Longest password accepted (bytes of UTF-8); PDF passwords are at most 127 bytes (ISO 32000-2 §7.6.4.3.3). */
export const MAX_PASSWORD_BYTES = 1024

export function pdfPassword(blobKey: string, password: string | undefined): PdfPassword | undefined {
  if (password === undefined || password === '') return undefined
  const tag = createHash('sha256').update('folio-pdf-password\0').update(blobKey).update('\0').update(password, 'utf8').digest('hex').slice(0, 32)
  return { value: password, tag }
}

/**
 * The header's value: plain text, or `base64:<encoded>` for passwords with characters a header
 * cannot carry (the reference's Password parameter). Bad input is a 400, never a 500.
 */
export function parsePasswordHeader(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined
  if (Array.isArray(raw)) throw new FolioError('bad_request', { field: 'pspdfkit-pdf-password' }, { message: 'Send pspdfkit-pdf-password once' })
  let value = raw
  if (raw.startsWith('base64:')) {
    const b64 = raw.slice(7)
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new FolioError('bad_request', { field: 'pspdfkit-pdf-password' }, { message: 'pspdfkit-pdf-password: invalid base64' })
    value = Buffer.from(b64, 'base64').toString('utf8')
  }
  if (Buffer.byteLength(value, 'utf8') > MAX_PASSWORD_BYTES || value.includes('\0')) {
    throw new FolioError('bad_request', { field: 'pspdfkit-pdf-password' }, { message: `pspdfkit-pdf-password: at most ${MAX_PASSWORD_BYTES} bytes, no NUL` })
  }
  return value === '' ? undefined : value
}
