/**
 * Keys and tokens for JWT tests: key pairs generated per run (never committed), tokens signed
 * with jose as a customer's backend would, and hand-built tokens for attacks. Every token made
 * here is remembered, so `assertNoTokenInLogs` can scan a server's logs for any of them.
 */
import assert from 'node:assert/strict'
import { createHmac, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto'
import { SignJWT } from 'jose'
import type { JwtAlgorithm } from '../../src/config.js'

export interface TestKeyPair {
  algorithm: JwtAlgorithm
  privateKey: KeyObject
  publicKey: KeyObject
  publicPem: string
}

const families = new Map<string, { privateKey: KeyObject; publicKey: KeyObject }>()

function family(algorithm: JwtAlgorithm): string {
  return algorithm.startsWith('RS') || algorithm.startsWith('PS') ? 'rsa' : algorithm
}

function generate(algorithm: JwtAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  if (family(algorithm) === 'rsa') return generateKeyPairSync('rsa', { modulusLength: 2048 })
  if (algorithm === 'EdDSA') return generateKeyPairSync('ed25519')
  return generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[algorithm as 'ES256']! })
}

/** A key pair for the algorithm (RS* and PS* share one RSA pair per run), or a `fresh` one. */
export function keyPair(algorithm: JwtAlgorithm = 'RS256', fresh = false): TestKeyPair {
  let kp = fresh ? undefined : families.get(family(algorithm))
  if (kp === undefined) {
    kp = generate(algorithm)
    if (!fresh) families.set(family(algorithm), kp)
  }
  return { algorithm, ...kp, publicPem: kp.publicKey.export({ type: 'spki', format: 'pem' }) as string }
}

const minted = new Set<string>()

/** Remembers a token so that log scans look for it. */
export function remember(token: string): string {
  minted.add(token)
  return token
}

export interface Claims {
  document_id?: unknown
  permissions?: unknown
  exp?: unknown
  [k: string]: unknown
}

/** Seconds since the epoch, `offset` seconds from now. */
export const epoch = (offset = 0, from = Date.now()) => Math.floor(from / 1000) + offset

/** A token as a backend signs it: jose, the pair's algorithm, header {alg, typ}. */
export async function signToken(claims: Claims, pair: TestKeyPair = keyPair(), header: Record<string, unknown> = {}): Promise<string> {
  const jwt = new SignJWT(claims as Record<string, unknown>).setProtectedHeader({ alg: pair.algorithm, typ: 'JWT', ...header })
  return remember(await jwt.sign(pair.privateKey))
}

/** Default claims for a document: read-document + download, one hour. */
export function claimsFor(documentId: string, permissions: string[] = ['read-document', 'download'], extra: Claims = {}): Claims {
  return { document_id: documentId, permissions, exp: epoch(3600), iat: epoch(), ...extra }
}

export const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')

/** Builds header.payload and signs it with the given function (for hand-made attack tokens). */
export function rawToken(header: unknown, payload: unknown, signer: (input: Buffer) => Buffer | string): string {
  const input = `${b64url(header)}.${b64url(payload)}`
  const sig = signer(Buffer.from(input))
  return remember(`${input}.${typeof sig === 'string' ? sig : sig.toString('base64url')}`)
}

/** A signature the way jose would make it, by hand: for tokens jose refuses to sign (odd headers). */
export function signWith(pair: TestKeyPair, alg: JwtAlgorithm = pair.algorithm) {
  return (input: Buffer): Buffer => {
    const hash = alg === 'EdDSA' ? null : `sha${alg.slice(2)}`
    if (alg.startsWith('PS')) return cryptoSign(hash, input, { key: pair.privateKey, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: Number(alg.slice(2)) / 8 })
    if (alg.startsWith('ES')) return cryptoSign(hash, input, { key: pair.privateKey, dsaEncoding: 'ieee-p1363' })
    return cryptoSign(hash, input, pair.privateKey)
  }
}

export function hmacWith(secret: Buffer | string) {
  return (input: Buffer) => createHmac('sha256', secret).update(input).digest()
}

/** Fails if any line contains a token made here, or a signature part of one. */
export function assertNoTokenInLogs(logs: readonly string[]): void {
  const needles = new Set<string>()
  for (const t of minted) {
    if (t.length >= 16) needles.add(t)
    const sig = t.split('.')[2]
    if (sig !== undefined && sig.length >= 16) needles.add(sig)
  }
  for (const line of logs) {
    for (const n of needles) assert.ok(!line.includes(n), `a log line contains a token or signature: ${line.slice(0, 200)}`)
  }
}

export function mintedCount(): number {
  return minted.size
}
