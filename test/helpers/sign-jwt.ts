/**
 * Signs client JWTs for browser tests, the way a customer's backend does (RS256 with a private
 * key; Folio holds only the public key). node:crypto only: tests must not trust the library
 * under test to make their inputs.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto'

export interface TestKeys {
  privateKey: KeyObject
  publicPem: string
}

export function rsaKeys(): TestKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() }
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')

export function signJwt(keys: TestKeys, claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000)
  const body = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iat: now, exp: now + 600, ...claims })}`
  return `${body}.${sign('sha256', Buffer.from(body), keys.privateKey).toString('base64url')}`
}
