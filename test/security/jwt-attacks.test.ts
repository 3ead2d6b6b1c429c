/**
 * Attacks on client JWTs (issue #3 "How it is checked"): each one is refused, by the verifier and
 * over HTTP on a real Folio, with 401 invalid_token and the reason naming the failed check; no
 * response echoes the token and no log line contains a token or a signature.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createJwtVerifier } from '../../src/auth/jwt.js'
import { createStaticKeyRing } from '../helpers/static-key-ring.js'
import type { JwtAlgorithm } from '../../src/config.js'
import { FolioError } from '../../src/errors.js'
import { request } from '../helpers/http.js'
import { assertNoTokenInLogs, b64url, epoch, hmacWith, keyPair, rawToken, remember, signToken, signWith, type TestKeyPair } from '../helpers/jwt.js'
import { makePdf } from '../helpers/pdf-fixtures.js'
import { authHeader, startFolio, type TestFolio } from '../helpers/start-folio.js'

const DOC = 'attacked-doc'
const good = () => ({ document_id: DOC, permissions: ['read-document', 'download'], exp: epoch(3600), iat: epoch() })

interface Attack {
  name: string
  /** the algorithm Folio is configured with for this attack */
  config: 'ES256' | 'RS256' | 'RS512'
  token: () => Promise<string> | string
  reason: string
}

/** An ES256 P1363 signature turned into DER (SEQUENCE of two INTEGERs), as a confused signer would send. */
function derFromRaw(raw: Buffer): Buffer {
  const int = (b: Buffer) => {
    let v = b
    while (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) === 0) v = v.subarray(1)
    if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v])
    return Buffer.concat([Buffer.from([0x02, v.length]), v])
  }
  const body = Buffer.concat([int(raw.subarray(0, 32)), int(raw.subarray(32))])
  return Buffer.concat([Buffer.from([0x30, body.length]), body])
}

function attacks(): Attack[] {
  const es = keyPair('ES256')
  const rs = keyPair('RS256')
  const attacker = keyPair('ES256', true)
  const rsPemBytes = Buffer.from(rs.publicPem)
  const rsDer = rs.publicKey.export({ type: 'spki', format: 'der' })
  const none = (alg: string, sig: string) => () => remember(`${b64url({ alg, typ: 'JWT' })}.${b64url(good())}.${sig}`)
  const attackerJwk = attacker.publicKey.export({ format: 'jwk' })
  const signedByAttacker = (header: Record<string, unknown>) => () => rawToken({ alg: 'ES256', ...header }, good(), signWith(attacker))

  return [
    { name: 'alg none, no signature', config: 'ES256', token: none('none', ''), reason: 'algorithm_not_allowed' },
    { name: 'alg None, no signature', config: 'ES256', token: none('None', ''), reason: 'algorithm_not_allowed' },
    { name: 'alg NONE with a signature', config: 'ES256', token: none('NONE', 'c2lnbmF0dXJl'), reason: 'algorithm_not_allowed' },
    { name: 'alg none with a real ES256 signature', config: 'ES256', token: () => rawToken({ alg: 'none' }, good(), signWith(es)), reason: 'algorithm_not_allowed' },
    { name: 'HS256 signed with the RSA public key PEM (key confusion)', config: 'RS256', token: () => rawToken({ alg: 'HS256', typ: 'JWT' }, good(), hmacWith(rsPemBytes)), reason: 'algorithm_not_allowed' },
    { name: 'HS256 signed with the RSA public key DER (key confusion)', config: 'RS256', token: () => rawToken({ alg: 'HS256' }, good(), hmacWith(rsDer)), reason: 'algorithm_not_allowed' },
    { name: 'HS512 signed with the PEM', config: 'RS256', token: () => rawToken({ alg: 'HS512' }, good(), hmacWith(rsPemBytes)), reason: 'algorithm_not_allowed' },
    { name: 'a different key of the same algorithm', config: 'ES256', token: () => signToken(good(), attacker), reason: 'bad_signature' },
    { name: 'an embedded jwk with the attacker key', config: 'ES256', token: signedByAttacker({ jwk: attackerJwk }), reason: 'header_key_not_allowed' },
    { name: 'an embedded jwk equal to our own public key', config: 'ES256', token: () => rawToken({ alg: 'ES256', jwk: es.publicKey.export({ format: 'jwk' }) }, good(), signWith(es)), reason: 'header_key_not_allowed' },
    { name: 'a jku URL', config: 'ES256', token: signedByAttacker({ jku: 'https://evil.example/jwks.json' }), reason: 'header_key_not_allowed' },
    { name: 'an x5u URL', config: 'ES256', token: signedByAttacker({ x5u: 'https://evil.example/cert.pem' }), reason: 'header_key_not_allowed' },
    { name: 'an x5c chain', config: 'ES256', token: signedByAttacker({ x5c: ['MIIB'] }), reason: 'header_key_not_allowed' },
    { name: 'kid path traversal with HS256 and an empty key (/dev/null)', config: 'ES256', token: () => rawToken({ alg: 'HS256', kid: '../../../../../../dev/null' }, good(), hmacWith('')), reason: 'algorithm_not_allowed' },
    { name: 'kid path traversal with the attacker ES256 key', config: 'ES256', token: signedByAttacker({ kid: '../../../../etc/passwd' }), reason: 'bad_signature' },
    { name: "SQL-looking kid with HS256 signed by the selected 'key'", config: 'ES256', token: () => rawToken({ alg: 'HS256', kid: "x' UNION SELECT 'key' -- " }, good(), hmacWith('key')), reason: 'algorithm_not_allowed' },
    { name: 'SQL-looking kid with the attacker ES256 key', config: 'ES256', token: signedByAttacker({ kid: "1; DROP TABLE secrets; --" }), reason: 'bad_signature' },
    { name: 'kid of a non-string type', config: 'ES256', token: () => rawToken({ alg: 'ES256', kid: { $ne: null } }, good(), signWith(es)), reason: 'malformed' },
    { name: 'ES256 psychic signature r = s = 0 (raw, CVE-2022-21449)', config: 'ES256', token: () => rawToken({ alg: 'ES256' }, good(), () => Buffer.alloc(64)), reason: 'bad_signature' },
    { name: 'ES256 psychic signature r = s = 0 (DER)', config: 'ES256', token: () => rawToken({ alg: 'ES256' }, good(), () => Buffer.from('3006020100020100', 'hex')), reason: 'bad_signature' },
    { name: 'ES256 signature r = s = n (raw)', config: 'ES256', token: () => rawToken({ alg: 'ES256' }, good(), () => Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'.repeat(2), 'hex')), reason: 'bad_signature' },
    { name: 'a real ES256 signature in DER instead of P1363', config: 'ES256', token: () => rawToken({ alg: 'ES256' }, good(), (input) => derFromRaw(signWith(es)(input))), reason: 'bad_signature' },
    {
      name: 'a tampered payload (document_id changed after signing)',
      config: 'ES256',
      token: async () => {
        const [h, , s] = (await signToken({ ...good(), document_id: 'my-own-doc' }, es)).split('.')
        return remember(`${h}.${b64url(good())}.${s}`)
      },
      reason: 'bad_signature',
    },
    {
      name: 'a non-canonical base64url signature (unused bits changed)',
      config: 'ES256',
      token: async () => {
        const t = await signToken(good(), es)
        const last = t.at(-1)!
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
        // 64-byte signature → 86 chars; the last char carries 4 unused bits: flip the lowest.
        return remember(t.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1])
      },
      reason: 'malformed',
    },
    { name: 'expired', config: 'ES256', token: () => signToken({ ...good(), exp: epoch(-3600), iat: epoch(-7200) }, es), reason: 'expired' },
    { name: 'nbf in the future', config: 'ES256', token: () => signToken({ ...good(), nbf: epoch(3000) }, es), reason: 'not_yet_valid' },
    { name: 'no exp', config: 'ES256', token: () => signToken({ document_id: DOC, permissions: ['read-document'] }, es), reason: 'missing_claim' },
    { name: 'no document_id', config: 'ES256', token: () => signToken({ permissions: ['read-document'], exp: epoch(60) }, es), reason: 'missing_claim' },
    { name: 'exp as a string', config: 'ES256', token: () => signToken({ ...good(), exp: String(epoch(60)) }, es), reason: 'invalid_claim' },
    { name: 'permissions as a string', config: 'ES256', token: () => signToken({ ...good(), permissions: 'read-document' }, es), reason: 'invalid_claim' },
    { name: 'an unknown permission', config: 'ES256', token: () => signToken({ ...good(), permissions: ['read-document', 'admin'] }, es), reason: 'unknown_permission' },
    { name: 'a lifetime beyond JWT_MAX_LIFETIME (a year)', config: 'ES256', token: () => signToken({ ...good(), exp: epoch(365 * 86400) }, es), reason: 'lifetime_too_long' },
    { name: 'an unknown crit extension', config: 'ES256', token: () => rawToken({ alg: 'ES256', crit: ['http://evil.example/ext'], 'http://evil.example/ext': true }, good(), signWith(es)), reason: 'unsupported_crit' },
    { name: 'crit b64=false (unencoded payload)', config: 'ES256', token: () => rawToken({ alg: 'ES256', crit: ['b64'], b64: false }, good(), signWith(es)), reason: 'unsupported_crit' },
    { name: 'an RS256 signature relabelled RS512 (key configured RS256)', config: 'RS256', token: () => rawToken({ alg: 'RS512' }, good(), signWith(rs, 'RS256')), reason: 'algorithm_not_allowed' },
    { name: 'an RS256 signature relabelled RS512 (key configured RS512)', config: 'RS512', token: () => rawToken({ alg: 'RS512' }, good(), signWith(rs, 'RS256')), reason: 'bad_signature' },
    { name: 'a PS256 signature labelled RS256', config: 'RS256', token: () => rawToken({ alg: 'RS256' }, good(), signWith(rs, 'PS256')), reason: 'bad_signature' },
    { name: 'a two-part token', config: 'ES256', token: async () => remember((await signToken(good(), es)).split('.').slice(0, 2).join('.')), reason: 'malformed' },
    { name: 'a four-part token', config: 'ES256', token: async () => remember(`${await signToken(good(), es)}.x`), reason: 'malformed' },
    {
      name: 'a JSON-serialized JWS of a valid token',
      config: 'ES256',
      token: async () => {
        const [h, p, s] = (await signToken(good(), es)).split('.')
        return remember(JSON.stringify({ protected: h, payload: p, signature: s }))
      },
      reason: 'malformed',
    },
    { name: 'a token over 8 KiB (validly signed)', config: 'ES256', token: () => signToken({ ...good(), pad: 'x'.repeat(9000) }, es), reason: 'too_large' },
    { name: 'a payload that is a JSON array', config: 'ES256', token: () => rawToken({ alg: 'ES256' }, [good()], signWith(es)), reason: 'malformed' },
  ]
}

const keyFor = (config: Attack['config']): TestKeyPair => keyPair(config === 'ES256' ? 'ES256' : 'RS256')

describe('JWT attacks', () => {
  const list = attacks()
  const servers = new Map<string, TestFolio>()

  before(async () => {
    for (const config of new Set(list.map((a) => a.config))) {
      const f = await startFolio({ env: { JWT_PUBLIC_KEY: keyFor(config).publicPem, JWT_ALGORITHM: config, LOG_LEVEL: 'debug' } })
      const up = await request(`${f.url}/api/documents?document_id=${DOC}`, {
        method: 'POST',
        headers: { ...authHeader(), 'content-type': 'application/pdf' },
        body: makePdf({ pages: [{ width: 200, height: 200 }] }),
      })
      assert.equal(up.status, 200, up.text)
      servers.set(config, f)
    }
  })
  after(async () => {
    for (const f of servers.values()) await f.destroy()
  })

  test('a well-formed token is accepted by each configuration (control)', async () => {
    for (const [config, f] of servers) {
      const pair = { ...keyFor(config as Attack['config']), algorithm: config as JwtAlgorithm }
      const res = await request(`${f.url}/documents/${DOC}/document_info`, { headers: { authorization: `Bearer ${await signToken(good(), pair)}` } })
      assert.equal(res.status, 200, `${config}: ${res.text}`)
    }
  })

  for (const attack of list) {
    test(`refused: ${attack.name} → ${attack.reason}`, async () => {
      const token = await attack.token()
      const config = attack.config
      const v = createJwtVerifier({
        keyRing: createStaticKeyRing({ publicKey: keyFor(config).publicPem, algorithm: config, maxLifetimeSeconds: 86400, clockToleranceSeconds: 30 }),
        policy: { maxLifetimeSeconds: 86400, clockToleranceSeconds: 30 },
      })
      await assert.rejects(v.verify(token), (e: unknown) => {
        assert.ok(e instanceof FolioError && e.code === 'invalid_token')
        assert.equal(e.details.reason, attack.reason)
        return true
      })
      const f = servers.get(config)!
      for (const path of [`/documents/${DOC}/document_info`, `/i/d/${DOC}/pdf`]) {
        const res = await request(`${f.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
        assert.equal(res.status, 401, `${path}: ${res.text}`)
        assert.equal(res.body?.error?.code, 'invalid_token')
        assert.equal(res.body.error.reason, attack.reason)
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /)
        const sig = token.split('.')[2]
        assert.ok(!res.text.includes(token) && (sig === undefined || sig.length < 16 || !res.text.includes(sig)), 'the token is not echoed')
      }
      // The same token as the API token or on /api changes nothing: the wrong surface.
      const api = await request(`${f.url}/api/documents/${DOC}/document_info`, { headers: { authorization: `Bearer ${token}` } })
      assert.equal(api.status, 401)
    })
  }

  test('no log line of these servers contains a token or a signature', () => {
    const logs = [...servers.values()].flatMap((f) => f.logs)
    assert.ok(logs.length > list.length, 'the servers logged each request')
    assertNoTokenInLogs(logs)
  })

  test('oversized tokens are refused before parsing (a megabyte of dots costs nothing)', async () => {
    const v = createJwtVerifier({ keyRing: createStaticKeyRing({ publicKey: keyFor('ES256').publicPem, algorithm: 'ES256', maxLifetimeSeconds: 86400, clockToleranceSeconds: 30 }), policy: { maxLifetimeSeconds: 86400, clockToleranceSeconds: 30 } })
    const huge = '.'.repeat(1024 * 1024)
    await assert.rejects(v.verify(huge), (e: unknown) => e instanceof FolioError && e.details.reason === 'too_large')
  })
})
