/**
 * auth/jwt.ts: every rule of spec §2 with a frozen clock, each refusal with its reason, and the
 * fast path (cache) with its limits: exp, key validity, revocation, size.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { JWT_ALGORITHMS, type JwtAlgorithm } from '../../src/config.js'
import { RevocationIndex } from '../../src/revocations/cache.js'
import { createJwtVerifier, type JwtPolicy } from '../../src/auth/jwt.js'
import type { KeyRing, RevocationCheck, TokenFacts, VerificationKey } from '../../src/auth/keys.js'
import { createStaticKeyRing, verificationKeyFromPem } from '../helpers/static-key-ring.js'
import { jwkThumbprint } from '../../src/auth/jwt-key.js'
import { FolioError } from '../../src/errors.js'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import { keyPair, signToken, type TestKeyPair } from '../helpers/jwt.js'

const T0 = new Date('2026-06-01T12:00:00.000Z')
const t0 = T0.getTime() / 1000
const policy: JwtPolicy = { maxLifetimeSeconds: 86_400, clockToleranceSeconds: 30 }

/** A key ring whose keys a test can change, as the secrets service (#4) will at runtime. */
function mutableRing(initial: VerificationKey[]): KeyRing & { set(keys: VerificationKey[]): void } {
  let keys = initial
  const listeners = new Set<() => void>()
  return {
    validKeys: () => keys,
    onChange(l) {
      listeners.add(l)
      return () => listeners.delete(l)
    },
    set(next) {
      keys = next
      for (const l of listeners) l()
    },
  }
}

function vkey(pair: TestKeyPair, id?: string): VerificationKey {
  return verificationKeyFromPem(pair.publicPem, pair.algorithm, id)
}

function clock(start = T0) {
  let now = start
  return { now: () => now, advance: (s: number) => (now = new Date(now.getTime() + s * 1000)) }
}

async function refusal(p: Promise<unknown>): Promise<{ reason: string; claim?: string }> {
  try {
    await p
  } catch (e) {
    assert.ok(e instanceof FolioError, String(e))
    assert.equal(e.code, 'invalid_token')
    return e.details as { reason: string; claim?: string }
  }
  assert.fail('the token was accepted')
}

const claims = (extra: Record<string, unknown> = {}) => ({ document_id: 'doc-1', permissions: ['read-document'], exp: t0 + 3600, iat: t0, ...extra })

describe('JWT verification', () => {
  test('a token signed with the configured key is accepted for every allowed algorithm', async () => {
    for (const alg of JWT_ALGORITHMS) {
      const pair = keyPair(alg as JwtAlgorithm)
      const v = createJwtVerifier({ keyRing: createStaticKeyRing({ ...policy, publicKey: pair.publicPem, algorithm: alg }), policy, now: () => T0 })
      const grant = await v.verify(await signToken(claims({ user_id: 'u-7', layer: 'review' }), pair))
      assert.deepEqual({ ...grant, permissions: [...grant.permissions] }, { documentId: 'doc-1', permissions: ['read-document'], layer: 'review', userId: 'u-7' }, alg)
    }
  })

  test('without layer the grant is the default layer "", without user_id no user', async () => {
    const pair = keyPair('ES256')
    const v = createJwtVerifier({ keyRing: mutableRing([vkey(pair)]), policy, now: () => T0 })
    const g = await v.verify(await signToken(claims({ permissions: ['write', 'read-document', 'write'] }), pair))
    assert.equal(g.layer, '')
    assert.equal(g.userId, undefined)
    assert.deepEqual([...g.permissions].sort(), ['read-document', 'write'])
  })

  test('each claim rule refuses with its reason and the claim at fault, in spec order', async () => {
    const pair = keyPair('ES256')
    const v = createJwtVerifier({ keyRing: mutableRing([vkey(pair)]), policy: { ...policy, audience: 'folio', issuer: 'backend' }, now: () => T0 })
    const ok = { aud: 'folio', iss: 'backend' }
    const cases: Array<[string, Record<string, unknown>, string, string?]> = [
      ['accepted baseline', claims(ok), ''],
      ['no document_id', claims({ ...ok, document_id: undefined }), 'missing_claim', 'document_id'],
      ['document_id a number', claims({ ...ok, document_id: 42 }), 'invalid_claim', 'document_id'],
      ['document_id a path', claims({ ...ok, document_id: '../etc/passwd' }), 'invalid_claim', 'document_id'],
      ['no permissions', claims({ ...ok, permissions: undefined }), 'missing_claim', 'permissions'],
      ['permissions a string', claims({ ...ok, permissions: 'read-document' }), 'invalid_claim', 'permissions'],
      ['permissions with a number', claims({ ...ok, permissions: ['read-document', 1] }), 'invalid_claim', 'permissions'],
      ['an unknown permission', claims({ ...ok, permissions: ['read-document', 'admin'] }), 'unknown_permission', 'permissions'],
      ['no exp', claims({ ...ok, exp: undefined }), 'missing_claim', 'exp'],
      ['exp a string', claims({ ...ok, exp: String(t0 + 60) }), 'invalid_claim', 'exp'],
      ['nbf a string', claims({ ...ok, nbf: 'now' }), 'invalid_claim', 'nbf'],
      ['iat an object', claims({ ...ok, iat: {} }), 'invalid_claim', 'iat'],
      ['jti a number', claims({ ...ok, jti: 5 }), 'invalid_claim', 'jti'],
      ['user_id an array', claims({ ...ok, user_id: ['a'] }), 'invalid_claim', 'user_id'],
      ['layer with *', claims({ ...ok, layer: 'a*' }), 'invalid_claim', 'layer'],
      ['no iss although configured', claims({ aud: 'folio' }), 'missing_claim', 'iss'],
      ['another iss', claims({ ...ok, iss: 'someone' }), 'issuer_mismatch', 'iss'],
      ['no aud although configured', claims({ iss: 'backend' }), 'missing_claim', 'aud'],
      ['another aud', claims({ ...ok, aud: ['x', 'y'] }), 'audience_mismatch', 'aud'],
      ['expired beyond the tolerance', claims({ ...ok, exp: t0 - 31 }), 'expired', 'exp'],
      ['nbf beyond the tolerance', claims({ ...ok, nbf: t0 + 31 }), 'not_yet_valid', 'nbf'],
      ['iat in the future', claims({ ...ok, iat: t0 + 120 }), 'issued_in_future', 'iat'],
      ['lifetime beyond JWT_MAX_LIFETIME', claims({ ...ok, exp: t0 + 86_400 + 31 }), 'lifetime_too_long', 'exp'],
    ]
    for (const [name, c, reason, claim] of cases) {
      const token = await signToken(c, pair)
      if (reason === '') {
        await v.verify(token)
        continue
      }
      assert.deepEqual(await refusal(v.verify(token)), { reason, claim }, name)
    }
  })

  test('the clock tolerance is honoured at both ends, and aud may be one of several', async () => {
    const pair = keyPair('ES256')
    const v = createJwtVerifier({ keyRing: mutableRing([vkey(pair)]), policy: { ...policy, audience: 'folio' }, now: () => T0 })
    for (const c of [
      claims({ aud: ['other', 'folio'], exp: t0 - 29 }),
      claims({ aud: 'folio', nbf: t0 + 29 }),
      claims({ aud: 'folio', exp: t0 + 86_400 + 29 }),
    ]) await v.verify(await signToken(c, pair))
  })

  test('a key of another family, a second key, and no key at all are told apart', async () => {
    const es = keyPair('ES256')
    const ed = keyPair('EdDSA')
    const other = keyPair('ES256', true)
    const v = createJwtVerifier({ keyRing: mutableRing([vkey(es)]), policy, now: () => T0 })
    assert.equal((await refusal(v.verify(await signToken(claims(), ed)))).reason, 'algorithm_not_allowed')
    assert.equal((await refusal(v.verify(await signToken(claims(), other)))).reason, 'bad_signature')
    const none = createJwtVerifier({ keyRing: createStaticKeyRing({ ...policy, algorithm: 'RS256' }), policy, now: () => T0 })
    assert.equal((await refusal(none.verify(await signToken(claims(), es)))).reason, 'no_keys')
  })

  test('every valid key is accepted (rotation); kid picks one by id or RFC 7638 thumbprint; an unknown kid is refused untried', async () => {
    const a = keyPair('ES256')
    const b = keyPair('ES256', true)
    const ring = mutableRing([vkey(a, '1'), vkey(b, '2')])
    const v = createJwtVerifier({ keyRing: ring, policy, now: () => T0 })
    const thumb = await calculateJwkThumbprint(await exportJWK(b.publicKey))
    assert.equal(jwkThumbprint(b.publicKey), thumb, 'our thumbprint is RFC 7638 as jose computes it')
    for (const kid of [undefined, '2', thumb]) {
      const token = await signToken(claims(), b, kid === undefined ? {} : { kid })
      const e = await v.explain(token)
      assert.equal(e.valid, true, String(kid))
      const tried = e.keys_tried.map((k) => k.id)
      assert.deepEqual(tried, kid === undefined ? ['1', '2'] : ['2'], String(kid))
    }
    // A kid that names none of our keys costs no signature check at all.
    for (const kid of ['backend-key-2025', '../../../etc/passwd', "' or 1=1 --"]) {
      const e = await v.explain(await signToken(claims(), b, { kid }))
      assert.equal(e.valid, false, kid)
      assert.equal(e.reason, 'bad_signature')
      assert.deepEqual(e.keys_tried, [], kid)
    }
    // kid naming key 1 while signed by key 2: only key 1 is tried, and it says no.
    assert.equal((await refusal(v.verify(await signToken(claims(), b, { kid: '1' })))).reason, 'bad_signature')
  })

  test('a successful verification is cached: the second request checks no signature', async () => {
    const pair = keyPair('RS256')
    const v = createJwtVerifier({ keyRing: mutableRing([vkey(pair)]), policy, now: () => T0 })
    const token = await signToken(claims(), pair)
    await v.verify(token)
    await v.verify(token)
    await v.verify(token)
    assert.deepEqual(v.cacheStats(), { size: 1, hits: 2, misses: 1 })
    // explain never reads or fills the cache
    await v.explain(await signToken(claims({ jti: 'x' }), pair))
    assert.equal(v.cacheStats().size, 1)
  })

  test('a cached token stops working at exp (+ tolerance) without any new signature check', async () => {
    const pair = keyPair('ES256')
    const c = clock()
    const v = createJwtVerifier({ keyRing: mutableRing([vkey(pair)]), policy, now: c.now })
    const token = await signToken(claims({ exp: t0 + 60 }), pair)
    await v.verify(token)
    c.advance(60 + 29)
    await v.verify(token)
    c.advance(2)
    assert.equal((await refusal(v.verify(token))).reason, 'expired')
  })

  test('when a key stops being valid, tokens it verified are refused even though cached', async () => {
    const a = keyPair('ES256')
    const b = keyPair('ES256', true)
    const ring = mutableRing([vkey(a, '1'), vkey(b, '2')])
    const v = createJwtVerifier({ keyRing: ring, policy, now: () => T0 })
    const ta = await signToken(claims(), a)
    const tb = await signToken(claims({ jti: 'b' }), b)
    await v.verify(ta)
    await v.verify(tb)
    assert.equal(v.cacheStats().size, 2)
    ring.set([vkey(b, '2')]) // key 1 expired or was cut (rotation with previousExpiresAt=now)
    assert.equal(v.cacheStats().size, 1, 'the entry of key 1 is dropped on change')
    assert.equal((await refusal(v.verify(ta))).reason, 'bad_signature')
    await v.verify(tb)
  })

  test('a key ring that changes without telling is still honoured: cached entries check their key', async () => {
    const a = keyPair('ES256')
    let keys = [vkey(a, '1')]
    const silent: KeyRing = { validKeys: () => keys, onChange: () => () => {} }
    const v = createJwtVerifier({ keyRing: silent, policy, now: () => T0 })
    const token = await signToken(claims(), a)
    await v.verify(token)
    keys = []
    assert.equal((await refusal(v.verify(token))).reason, 'no_keys')
  })

  test('revocation is consulted on every request, before the cache is trusted', async () => {
    const pair = keyPair('ES256')
    const revoked = new Set<string>()
    const seen: TokenFacts[] = []
    const revocations: RevocationCheck = {
      isRevoked(f) {
        seen.push(f)
        return revoked.has(f.jti ?? '')
      },
    }
    const v = createJwtVerifier({ keyRing: mutableRing([vkey(pair)]), revocations, policy, now: () => T0 })
    const token = await signToken(claims({ jti: 'j-1', user_id: 'u' }), pair)
    await v.verify(token)
    revoked.add('j-1')
    assert.equal((await refusal(v.verify(token))).reason, 'revoked')
    revoked.delete('j-1') // a lifted revocation
    await v.verify(token)
    assert.deepEqual(seen[0], { tokenHash: seen[0]!.tokenHash, jti: 'j-1', documentId: 'doc-1', userId: 'u', iat: t0, exp: t0 + 3600 })
    assert.match(seen[0]!.tokenHash, /^[0-9a-f]{64}$/)
  })

  test('with a versioned revocation set, a cached token is looked up again only after a revocation was added, and then refused', async () => {
    const pair = keyPair('ES256')
    const index = new RevocationIndex(() => T0.getTime())
    let lookups = 0
    const revocations: RevocationCheck = {
      isRevoked(f) {
        lookups++
        return index.isRevoked(f)
      },
      get version() {
        return index.version
      },
    }
    const v = createJwtVerifier({ keyRing: mutableRing([vkey(pair)]), revocations, policy, now: () => T0 })
    const token = await signToken(claims({ jti: 'j-2' }), pair)
    await v.verify(token) // cold: checked
    await v.verify(token) // first hit: checked, remembered at this version
    const afterFirstHit = lookups
    for (let i = 0; i < 5; i++) assert.equal((await v.verify(token)).documentId, 'doc-1')
    assert.equal(v.verifyCached(token)?.documentId, 'doc-1')
    assert.equal(lookups, afterFirstHit, 'no lookups while the set is unchanged')
    index.add({ id: 1, kind: 'jti', value: 'j-2', issuedBeforeMs: null, expiresAtMs: T0.getTime() + 3_600_000 })
    assert.equal((await refusal(v.verify(token))).reason, 'revoked', 'refused at once after the revocation')
    assert.throws(() => v.verifyCached(token), /refused/)
  })

  test('the cache is bounded, least recently used out first', async () => {
    const pair = keyPair('ES256')
    const v = createJwtVerifier({ keyRing: mutableRing([vkey(pair)]), policy, now: () => T0, cacheSize: 3 })
    const tokens = await Promise.all([1, 2, 3, 4].map((i) => signToken(claims({ jti: `t${i}` }), pair)))
    for (const t of tokens.slice(0, 3)) await v.verify(t)
    await v.verify(tokens[0]!) // t1 becomes the most recent
    await v.verify(tokens[3]!) // t2, the least recent, goes
    assert.equal(v.cacheStats().size, 3)
    const before = v.cacheStats().hits
    await v.verify(tokens[0]!)
    await v.verify(tokens[2]!)
    assert.equal(v.cacheStats().hits, before + 2)
    await v.verify(tokens[1]!)
    assert.equal(v.cacheStats().hits, before + 2, 't2 had been evicted')
  })

  test('explain says which check failed, shows header and claims, and never key material', async () => {
    const pair = keyPair('ES256')
    const v = createJwtVerifier({ keyRing: mutableRing([vkey(pair, '7')]), policy, now: () => T0 })
    const e = await v.explain(await signToken(claims({ exp: t0 - 100 }), pair, { kid: '7' }))
    assert.equal(e.valid, false)
    assert.equal(e.reason, 'expired')
    assert.equal(e.claim, 'exp')
    assert.deepEqual(e.header, { alg: 'ES256', kid: '7', typ: 'JWT' })
    assert.equal(e.claims?.document_id, 'doc-1')
    assert.deepEqual(e.keys_tried.map((k) => [k.id, k.result]), [['7', 'verified']])
    const text = JSON.stringify(e)
    assert.ok(!text.includes(pair.publicPem.split('\n')[1]!), 'no PEM')
    assert.ok(!/"(n|x|y|d)":/.test(text), 'no JWK members')
  })
})
