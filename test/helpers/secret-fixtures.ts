/**
 * Key pairs and tokens for the secrets and revocation tests (issue #4). Keys are generated per
 * run (never committed). `signJwt` signs with node:crypto so tests do not depend on the JWT
 * verifier's library; `fakeJwt` makes a well-formed token with a meaningless signature, which is
 * all revocation needs (it reads claims without verifying, on purpose).
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto'

export interface TestKeyPair {
  publicPem: string
  privateKey: KeyObject
}

function pair(kind: 'rsa' | 'ec' | 'ed25519' | 'ed448', opts: Record<string, unknown> = {}): TestKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync(kind as 'rsa', opts as { modulusLength: number })
  return { publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey }
}

export const rsaPair = (bits = 2048) => pair('rsa', { modulusLength: bits })
export const ecPair = (namedCurve: 'P-256' | 'P-384' | 'P-521' | 'secp256k1' = 'P-256') => pair('ec', { namedCurve })
export const ed25519Pair = () => pair('ed25519')
export const ed448Pair = () => pair('ed448')

export function privatePem(k: TestKeyPair): string {
  return k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')

/** A JWS signed with node:crypto (RS256/RS384/RS512, PS256, ES256/384/512, EdDSA). */
export function signJwt(claims: Record<string, unknown>, key: KeyObject, alg: string, kid?: string): string {
  const input = `${b64({ alg, typ: 'JWT', ...(kid ? { kid } : {}) })}.${b64(claims)}`
  const hash = alg === 'EdDSA' ? null : `sha${alg.slice(2)}`
  const sig = sign(hash, Buffer.from(input), {
    key,
    ...(alg.startsWith('ES') ? { dsaEncoding: 'ieee-p1363' as const } : {}),
    ...(alg.startsWith('PS') ? { padding: 6, saltLength: Number(alg.slice(2)) / 8 } : {}),
  })
  return `${input}.${sig.toString('base64url')}`
}

/** A well-formed compact JWT whose signature is not real. */
export function fakeJwt(claims: Record<string, unknown>): string {
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}.${Buffer.from('not-a-signature').toString('base64url')}`
}

export const nowSeconds = () => Math.floor(Date.now() / 1000)

/** Polls `check` until true or the time is up; returns the milliseconds it took. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000, stepMs = 2): Promise<number> {
  const t0 = performance.now()
  for (;;) {
    if (await check()) return performance.now() - t0
    if (performance.now() - t0 > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, stepMs))
  }
}
