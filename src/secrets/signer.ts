/**
 * What Folio signs itself (spec §4: "the current one is used for anything Folio signs"; e.g. the
 * dashboard's session cookies): HMAC-SHA256 with a key derived from a secret_key_base
 * by HKDF for one purpose, so a value signed for one purpose never verifies for another.
 * Signing uses the current secret_key_base; verification accepts any valid one, found by the id
 * carried in the signed value, so rotating secret_key_base logs nobody out until the previous one
 * expires. Expiry of the signed value itself is the caller's business (put it in the value).
 *
 * Format: `<base64url(value)>.<secret id>.<base64url(hmac)>`, the mac over `<purpose>.<id>.<value64>`.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import { TtlMap } from '../tools/ttl-map.js'

export interface SigningKey {
  id: number
  material: string
}

export interface Signer {
  sign(value: string): string
  /** The value when the signature is right and made with a valid secret_key_base; else undefined. */
  verify(signed: string): string | undefined
}

// Rotated-away secrets must not pile up: at most 1000 derived keys, least recently used out.
const derived = new TtlMap<string, Buffer>({ maxEntries: 1000 })

/** HKDF-SHA256 (RFC 5869) of the secret for one purpose; cached per secret and purpose. */
function keyFor(k: SigningKey, purpose: string): Buffer {
  const cacheKey = `${k.id}\u0000${purpose}`
  let key = derived.get(cacheKey)
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', k.material, 'folio secret_key_base', `folio:${purpose}`, 32))
    derived.set(cacheKey, key)
  }
  return key
}

function mac(k: SigningKey, purpose: string, value64: string): Buffer {
  return createHmac('sha256', keyFor(k, purpose)).update(`${purpose}.${k.id}.${value64}`).digest()
}

export function createSigner(purpose: string, keys: { current(): SigningKey | undefined; valid(): readonly SigningKey[] }): Signer {
  return {
    sign(value) {
      const k = keys.current()
      if (!k) throw new Error('no current secret_key_base') // seeded at every start (secrets/seed.ts)
      const value64 = Buffer.from(value, 'utf8').toString('base64url')
      return `${value64}.${k.id}.${mac(k, purpose, value64).toString('base64url')}`
    },
    verify(signed) {
      const m = /^([A-Za-z0-9_-]*)\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(signed)
      if (!m) return undefined
      const k = keys.valid().find((x) => x.id === Number(m[2]))
      if (!k) return undefined
      const given = Buffer.from(m[3]!, 'base64url')
      const expected = mac(k, purpose, m[1]!)
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
      return Buffer.from(m[1]!, 'base64url').toString('utf8')
    },
  }
}
