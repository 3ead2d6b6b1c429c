/**
 * The guarded dispatcher against a real HTTP server on 127.0.0.1, with a resolver we control
 * and a connector that can only reach loopback (test/helpers/remote-world.ts). A refused
 * address must be refused before any connect: the safety net must never be asked for one.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, beforeEach, describe, test } from 'node:test'
import { fetch as undiciFetch, request } from 'undici'
import { createAddressPolicy, type AddressPolicyRules } from '../../src/net/address-policy.js'
import { AddressRefusedError, createGuardedDispatcher, ResolveError } from '../../src/net/ssrf-guard.js'
import { startRemoteWorld, type RemoteWorld } from '../helpers/remote-world.js'

describe('the SSRF guard (undici dispatcher)', () => {
  let w: RemoteWorld
  before(async () => {
    w = await startRemoteWorld()
    w.route('/ok', (_req, res) => res.end('hello'))
    w.route('/host', (req, res) => res.end(req.headers.host))
    w.names.set('private.test', ['10.0.0.5'])
    w.names.set('meta.test', ['169.254.169.254'])
    w.names.set('loop.test', ['127.0.0.1'])
    w.names.set('mapped.test', ['::ffff:127.0.0.1'])
    w.names.set('mixed.test', ['93.184.215.14', '10.0.0.5'])
    w.names.set('files.test', ['127.0.0.1'])
    w.names.set('bogus.test', ['not-an-address'])
  })
  after(async () => {
    assert.deepEqual(w.caughtByNet, [], 'the guard never asked to connect to a refused address')
    await w.close()
  })
  beforeEach(() => w.reset())

  function dispatcher(rules: Partial<AddressPolicyRules> = {}) {
    return createGuardedDispatcher({
      policy: createAddressPolicy({ policy: 'public_only', allowedHosts: [], allowedCidrs: [], ...rules }),
      resolve: w.resolve,
      connect: w.connect,
    })
  }

  async function get(url: string, rules: Partial<AddressPolicyRules> = {}) {
    const d = dispatcher(rules)
    try {
      const res = await request(url, { dispatcher: d })
      return await res.body.text()
    } finally {
      await d.destroy()
    }
  }

  async function refused(url: string, rules: Partial<AddressPolicyRules> = {}): Promise<AddressRefusedError> {
    const err = await get(url, rules).then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof AddressRefusedError, `refused: ${url} (${String(err)})`)
    assert.deepEqual(w.connects, [], 'no connect was attempted')
    assert.deepEqual(w.hits, [], 'the server saw no request')
    return err
  }

  test('IP-literal loopback hosts are refused before connecting, in every spelling the URL parser takes', async () => {
    const p = w.port
    for (const host of ['127.0.0.1', '127.1', '2130706433', '0x7f.1', '0177.0.0.1', '0x7f000001', '[::1]', '[::ffff:127.0.0.1]', '[::127.0.0.1]', '[2002:7f00:1::]', '[64:ff9b::7f00:1]', '0.0.0.0']) {
      w.reset()
      const e = await refused(`http://${host}:${p}/ok`)
      assert.notEqual(e.addressClass, 'public')
    }
  })

  test('non-loopback literal addresses are refused before connecting', async () => {
    for (const host of ['10.0.0.5', '169.254.169.254', '[fd00:ec2::254]', '100.64.0.1', '198.18.0.1', '192.0.2.1', '224.0.0.1', '255.255.255.255', '[fe80::1]', '[fc00::1]', '[::ffff:a9fe:a9fe]']) {
      w.reset()
      await refused(`http://${host}/ok`)
    }
  })

  test('a host name that resolves to a private, metadata, loopback or IPv4-mapped address is refused', async () => {
    for (const name of ['private.test', 'meta.test', 'loop.test', 'mapped.test']) {
      w.reset()
      const e = await refused(`http://${name}:${w.port}/ok`)
      assert.deepEqual(w.resolved, [name])
      assert.equal(e.hostname, name)
    }
    w.reset()
    await refused(`http://localhost:${w.port}/ok`)
  })

  test('one refused address in a DNS answer refuses the host, even next to a public one', async () => {
    const e = await refused('http://mixed.test/ok')
    assert.equal(e.address, '10.0.0.5')
  })

  test('a resolver answer that is not an address is refused', async () => {
    const e = await refused('http://bogus.test/ok')
    assert.equal(e.reason, 'not_an_address')
  })

  test('an unknown host fails as a resolve error, not as a refusal', async () => {
    const err = await get('http://nowhere.test/ok').then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof ResolveError, String(err))
  })

  test('an allow-listed host is resolved once and connected to by the checked address, keeping its Host header', async () => {
    const body = await get(`http://files.test:${w.port}/host`, { allowedHosts: ['files.test'] })
    assert.equal(body, `files.test:${w.port}`)
    assert.deepEqual(w.resolved, ['files.test'])
    assert.deepEqual(w.connects, ['127.0.0.1'], 'the socket went to the literal address that was checked')
  })

  test('an allow-listed CIDR lets a literal address and names resolving into it through', async () => {
    assert.equal(await get(`http://127.0.0.1:${w.port}/ok`, { allowedCidrs: ['127.0.0.0/8'] }), 'hello')
    assert.equal(await get(`http://loop.test:${w.port}/ok`, { allowedCidrs: ['127.0.0.1/32'] }), 'hello')
    // The IPv4-mapped literal is connected to as the IPv4 address it is.
    w.reset()
    assert.equal(await get(`http://[::ffff:127.0.0.1]:${w.port}/ok`, { allowedCidrs: ['127.0.0.0/8'] }), 'hello')
    assert.deepEqual(w.connects, ['127.0.0.1'])
  })

  test('a wildcard allow-list entry covers subdomains', async () => {
    w.names.set('a.files.test', ['127.0.0.1'])
    assert.equal(await get(`http://a.files.test:${w.port}/ok`, { allowedHosts: ['*.files.test'] }), 'hello')
  })

  test('allow_private reaches loopback; allowlist_only refuses what is not listed', async () => {
    assert.equal(await get(`http://127.0.0.1:${w.port}/ok`, { policy: 'allow_private' }), 'hello')
    w.reset()
    await refused(`http://127.0.0.1:${w.port}/ok`, { policy: 'allowlist_only', allowedHosts: ['files.test'] })
    w.reset()
    await refused('http://169.254.169.254/latest/meta-data/', { policy: 'allow_private' })
  })

  test("undici's fetch with the dispatcher is guarded too, through redirects it follows itself", async () => {
    w.route('/to-loop', (_req, res) => res.writeHead(302, { location: `http://loop.test:${w.port}/ok` }).end())
    const d = dispatcher({ allowedHosts: ['files.test'] })
    try {
      const err = await undiciFetch(`http://files.test:${w.port}/to-loop`, { dispatcher: d }).then(() => undefined, (e: unknown) => e)
      assert.ok(err instanceof TypeError)
      assert.ok((err as { cause?: unknown }).cause instanceof AddressRefusedError)
      assert.deepEqual(w.hits, ['/to-loop'])
    } finally {
      await d.destroy()
    }
  })

  test('over https the certificate is verified against the host name, not the address connected to', async () => {
    // A self-signed certificate for files.test only (openssl, throwaway, in a temp folder).
    const dir = mkdtempSync(join(tmpdir(), 'folio-tls-'))
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=files.test',
        '-addext', 'subjectAltName=DNS:files.test',
      ], { stdio: 'ignore' })
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8')
      const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => res.end(`tls ${req.headers.host}`))
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
      const port = (server.address() as AddressInfo).port
      w.names.set('other.test', ['127.0.0.1'])
      const make = () => createGuardedDispatcher({
        policy: createAddressPolicy({ policy: 'public_only', allowedHosts: ['files.test', 'other.test'], allowedCidrs: [] }),
        resolve: w.resolve,
        connect: w.connectWith({ ca: cert }),
      })
      try {
        const ok = make()
        const res = await request(`https://files.test:${port}/`, { dispatcher: ok })
        assert.equal(await res.body.text(), `tls files.test:${port}`)
        await ok.destroy()
        assert.deepEqual(w.connects, ['127.0.0.1'], 'the socket went to the checked address')
        // The same address under another name: the certificate does not match, refused by TLS.
        const wrong = make()
        const err = await request(`https://other.test:${port}/`, { dispatcher: wrong }).then(() => undefined, (e: unknown) => e)
        await wrong.destroy()
        assert.equal((err as { code?: string })?.code, 'ERR_TLS_CERT_ALTNAME_INVALID', String(err))
      } finally {
        server.closeAllConnections()
        await new Promise<void>((r) => server.close(() => r()))
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
