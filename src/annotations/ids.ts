/**
 * Generated annotation ids: ULIDs (26 characters, Crockford base32: 48-bit millisecond time +
 * 80 random bits), the form Document Engine gives its annotation ids. They sort by creation time
 * and match ANNOTATION_ID_RE.
 */
import { randomBytes } from 'node:crypto'
import { isStorableText } from '../db/text.js'
import { FolioError } from '../errors.js'
import { ANNOTATION_ID_RE } from './instant-json.js'

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

export function newAnnotationId(now = Date.now()): string {
  let time = ''
  let t = now
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time
    t = Math.floor(t / 32)
  }
  const bytes = randomBytes(10)
  let bits = 0
  let acc = 0
  let random = ''
  for (const b of bytes) {
    acc = (acc << 8) | b
    bits += 8
    while (bits >= 5) {
      bits -= 5
      random += ALPHABET[(acc >> bits) & 31]
    }
    acc &= (1 << bits) - 1
  }
  return time + random
}

/** An annotation id from a URL path: one that cannot exist is answered like a missing one (404). */
export function pathAnnotationId(raw: string): string {
  if (!ANNOTATION_ID_RE.test(raw)) throw new FolioError('annotation_not_found')
  return raw
}

/** Layer names (spec §3): at most 256 characters, no `*`, text PostgreSQL can store; '' is the default layer. */
export function parseLayerName(raw: string): string {
  if (raw.length > 256 || raw.includes('*') || !isStorableText(raw)) {
    throw new FolioError('invalid_layer_name', {}, { message: 'A layer name has at most 256 characters and no "*"' })
  }
  return raw
}
