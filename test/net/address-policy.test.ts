/**
 * The address policy (spec §6): every address form the issue names, parsed by a correct parser
 * and classified; the four policies; the allow-lists. Pure: no sockets.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ConfigError, loadConfig } from '../../src/config.js'
import { classifyAddress, createAddressPolicy, isValidCidr, parseIp } from '../../src/net/address-policy.js'

/** [written form, canonical address, class, embedding?] — each row is one address form. */
export const REFUSED_FORMS: Array<[string, string, string, string?]> = [
  // IPv4 loopback, every spelling inet_aton accepts
  ['127.0.0.1', '127.0.0.1', 'loopback'],
  ['127.1', '127.0.0.1', 'loopback'],
  ['127.0.1', '127.0.0.1', 'loopback'],
  ['2130706433', '127.0.0.1', 'loopback'],
  ['0x7f000001', '127.0.0.1', 'loopback'],
  ['0x7f.1', '127.0.0.1', 'loopback'],
  ['0x7f.0x0.0x0.0x1', '127.0.0.1', 'loopback'],
  ['0177.0.0.1', '127.0.0.1', 'loopback'],
  ['017700000001', '127.0.0.1', 'loopback'],
  ['127.0.0.01', '127.0.0.1', 'loopback'],
  ['127.255.255.254', '127.255.255.254', 'loopback'],
  // the rest of IPv4's special blocks
  ['0.0.0.0', '0.0.0.0', 'unspecified'],
  ['0', '0.0.0.0', 'unspecified'],
  ['0.1.2.3', '0.1.2.3', 'unspecified'],
  ['10.0.0.5', '10.0.0.5', 'private'],
  ['012.0.0.5', '10.0.0.5', 'private'],
  ['167772165', '10.0.0.5', 'private'],
  ['172.16.0.1', '172.16.0.1', 'private'],
  ['172.31.255.255', '172.31.255.255', 'private'],
  ['192.168.1.1', '192.168.1.1', 'private'],
  ['0xc0a80101', '192.168.1.1', 'private'],
  ['100.64.0.1', '100.64.0.1', 'carrierGradeNat'],
  ['100.127.255.254', '100.127.255.254', 'carrierGradeNat'],
  ['169.254.1.1', '169.254.1.1', 'linkLocal'],
  ['169.254.169.254', '169.254.169.254', 'metadata'],
  ['2852039166', '169.254.169.254', 'metadata'],
  ['0xa9.0xfe.0xa9.0xfe', '169.254.169.254', 'metadata'],
  ['169.254.170.2', '169.254.170.2', 'metadata'],
  ['100.100.100.200', '100.100.100.200', 'metadata'],
  ['192.0.0.8', '192.0.0.8', 'reserved'],
  ['192.0.2.1', '192.0.2.1', 'documentation'],
  ['198.51.100.7', '198.51.100.7', 'documentation'],
  ['203.0.113.9', '203.0.113.9', 'documentation'],
  ['192.88.99.1', '192.88.99.1', 'reserved'],
  ['198.18.0.1', '198.18.0.1', 'benchmarking'],
  ['198.19.255.254', '198.19.255.254', 'benchmarking'],
  ['224.0.0.1', '224.0.0.1', 'multicast'],
  ['239.255.255.250', '239.255.255.250', 'multicast'],
  ['240.0.0.1', '240.0.0.1', 'reserved'],
  ['255.255.255.255', '255.255.255.255', 'broadcast'],
  // IPv6 native special blocks
  ['::', '::', 'unspecified'],
  ['::1', '::1', 'loopback'],
  ['[::1]', '::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', '::1', 'loopback'],
  ['fe80::1', 'fe80::1', 'linkLocal'],
  ['fe80::1%eth0', 'fe80::1', 'linkLocal'],
  ['febf::1', 'febf::1', 'linkLocal'],
  ['fec0::1', 'fec0::1', 'siteLocal'],
  ['fc00::1', 'fc00::1', 'uniqueLocal'],
  ['fd12:3456::1', 'fd12:3456::1', 'uniqueLocal'],
  ['fd00:ec2::254', 'fd00:ec2::254', 'metadata'],
  ['ff02::1', 'ff02::1', 'multicast'],
  ['ff05::1:3', 'ff05::1:3', 'multicast'],
  ['2001:db8::1', '2001:db8::1', 'documentation'],
  ['3fff::1', '3fff::1', 'documentation'],
  ['2001:2::1', '2001:2::1', 'benchmarking'],
  ['100::1', '100::1', 'reserved'],
  ['5f00::1', '5f00::1', 'reserved'],
  // IPv4 hidden in IPv6
  ['::ffff:127.0.0.1', '::ffff:7f00:1', 'loopback', 'ipv4-mapped'],
  ['::ffff:7f00:1', '::ffff:7f00:1', 'loopback', 'ipv4-mapped'],
  ['0:0:0:0:0:ffff:127.0.0.1', '::ffff:7f00:1', 'loopback', 'ipv4-mapped'],
  ['::ffff:10.0.0.5', '::ffff:a00:5', 'private', 'ipv4-mapped'],
  ['::ffff:169.254.169.254', '::ffff:a9fe:a9fe', 'metadata', 'ipv4-mapped'],
  ['::ffff:0.0.0.0', '::ffff:0:0', 'unspecified', 'ipv4-mapped'],
  ['::127.0.0.1', '::7f00:1', 'loopback', 'ipv4-compatible'],
  ['::7f00:1', '::7f00:1', 'loopback', 'ipv4-compatible'],
  ['::10.0.0.5', '::a00:5', 'private', 'ipv4-compatible'],
  ['::8.8.8.8', '::808:808', 'reserved', 'ipv4-compatible'],
  ['::ffff:0:127.0.0.1', '::ffff:0:7f00:1', 'loopback', 'ipv4-translated'],
  ['2002:7f00:1::', '2002:7f00:1::', 'loopback', '6to4'],
  ['2002:a00:5::1', '2002:a00:5::1', 'private', '6to4'],
  ['2002:c0a8:101::', '2002:c0a8:101::', 'private', '6to4'],
  ['2002:a9fe:a9fe::', '2002:a9fe:a9fe::', 'metadata', '6to4'],
  ['64:ff9b::127.0.0.1', '64:ff9b::7f00:1', 'loopback', 'nat64'],
  ['64:ff9b::a00:5', '64:ff9b::a00:5', 'private', 'nat64'],
  ['64:ff9b::169.254.169.254', '64:ff9b::a9fe:a9fe', 'metadata', 'nat64'],
  ['64:ff9b:1:a00:5::', '64:ff9b:1:a00:5::', 'private', 'nat64-local'],
  ['64:ff9b:1:808:8:800::', '64:ff9b:1:808:8:800::', 'reserved', 'nat64-local'],
  ['2001:0:4136:e378:8000:63bf:80ff:fffe', '2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback', 'teredo'],
  ['2001::1', '2001::1', 'reserved', 'teredo'],
]

const PUBLIC_FORMS: Array<[string, string]> = [
  ['8.8.8.8', '8.8.8.8'],
  ['134744072', '8.8.8.8'],
  ['93.184.215.14', '93.184.215.14'],
  ['100.63.255.255', '100.63.255.255'], // just below CGNAT
  ['172.32.0.1', '172.32.0.1'], // just above 172.16/12
  ['2606:4700::1111', '2606:4700::1111'],
  ['2002:808:808::1', '2002:808:808::1'], // 6to4 of a public address
  ['64:ff9b::8.8.8.8', '64:ff9b::808:808'], // NAT64 of a public address
]

describe('address parsing and classification', () => {
  for (const [written, canonical, cls, via] of REFUSED_FORMS) {
    test(`${written} is ${cls}${via ? ` (via ${via})` : ''} and refused under public_only`, () => {
      const a = parseIp(written)
      assert.ok(a, `${written} parses`)
      assert.equal(a.toString(), canonical)
      const c = classifyAddress(a)
      assert.equal(c.class, cls)
      assert.equal(c.via, via)
      const v = createAddressPolicy({ policy: 'public_only', allowedHosts: [], allowedCidrs: [] }).check('h.example', a)
      assert.equal(v.allowed, false)
    })
  }

  for (const [written, canonical] of PUBLIC_FORMS) {
    test(`${written} is public and allowed under public_only`, () => {
      const a = parseIp(written)!
      assert.equal(a.toString(), canonical)
      assert.equal(classifyAddress(a).class, 'public')
      assert.equal(createAddressPolicy({ policy: 'public_only', allowedHosts: [], allowedCidrs: [] }).check('h.example', a).allowed, true)
    })
  }

  test('host names and malformed addresses are not addresses', () => {
    for (const s of ['example.com', 'localhost', '1.2.3.4.5', '08.1.1.1', '256.1.1.1', '1e1.1.1.1', '::g', '[::1', '']) {
      assert.equal(parseIp(s), undefined, s)
    }
  })

  test('the odd IPv4 spellings are normalised exactly as the WHATWG URL parser does', () => {
    for (const s of ['127.1', '2130706433', '0x7f.1', '0177.0.0.1', '0x7f000001', '012.0.0.5', '0xa9.0xfe.0xa9.0xfe']) {
      assert.equal(new URL(`http://${s}/`).hostname, parseIp(s)!.toString(), s)
    }
  })

  test('IPv6 URLs are canonicalised by the URL parser and the classifier agrees', () => {
    for (const s of ['::ffff:127.0.0.1', '::127.0.0.1', '64:ff9b::10.0.0.5', '2002:7f00:1::']) {
      const host = new URL(`http://[${s}]/`).hostname.slice(1, -1)
      assert.equal(classifyAddress(parseIp(host)!).class, classifyAddress(parseIp(s)!).class, s)
    }
  })
})

describe('policies and allow-lists', () => {
  const ip = (s: string) => parseIp(s)!

  test('an allowed host name lets any of its addresses through; *.example.com covers subdomains only', () => {
    const p = createAddressPolicy({ policy: 'public_only', allowedHosts: ['files.internal', '*.example.com'], allowedCidrs: [] })
    assert.equal(p.check('files.internal', ip('10.0.0.5')).allowed, true)
    assert.equal(p.check('FILES.INTERNAL.', ip('10.0.0.5')).allowed, true)
    assert.equal(p.check('a.example.com', ip('127.0.0.1')).allowed, true)
    assert.equal(p.check('a.b.example.com', ip('127.0.0.1')).allowed, true)
    assert.equal(p.check('example.com', ip('127.0.0.1')).allowed, false)
    assert.equal(p.check('evilexample.com', ip('127.0.0.1')).allowed, false)
    assert.equal(p.check('example.com.evil.net', ip('127.0.0.1')).allowed, false)
    assert.equal(p.check('other.internal', ip('10.0.0.5')).allowed, false)
  })

  test('an allowed CIDR lets its addresses through, also in IPv4-mapped form, and nothing else', () => {
    const p = createAddressPolicy({ policy: 'public_only', allowedHosts: [], allowedCidrs: ['10.1.0.0/16', 'fd00:1::/32'] })
    assert.equal(p.check('x', ip('10.1.2.3')).allowed, true)
    assert.equal(p.check('x', ip('::ffff:10.1.2.3')).allowed, true)
    assert.equal(p.check('x', ip('10.2.0.1')).allowed, false)
    assert.equal(p.check('x', ip('fd00:1::5')).allowed, true)
    assert.equal(p.check('x', ip('fd00:2::5')).allowed, false)
    // An IPv4 CIDR does not cover the 6to4 or NAT64 forms: those are other hosts.
    assert.equal(p.check('x', ip('2002:a01:203::')).allowed, false)
  })

  test('allowlist_only refuses public addresses that are not allow-listed', () => {
    const p = createAddressPolicy({ policy: 'allowlist_only', allowedHosts: ['docs.example.com'], allowedCidrs: ['192.168.5.0/24'] })
    assert.deepEqual(p.check('example.org', ip('8.8.8.8')), { allowed: false, class: 'public', via: undefined, reason: 'not_allowlisted' })
    assert.equal(p.check('docs.example.com', ip('8.8.8.8')).allowed, true)
    assert.equal(p.check('nas', ip('192.168.5.9')).allowed, true)
  })

  test('allow_private allows private, loopback and link-local but never metadata, multicast, broadcast or unspecified', () => {
    const p = createAddressPolicy({ policy: 'allow_private', allowedHosts: [], allowedCidrs: [] })
    for (const s of ['10.0.0.5', '127.0.0.1', '192.168.1.1', '169.254.1.1', 'fd12::1', '::1', '8.8.8.8', '100.64.0.1']) {
      assert.equal(p.check('x', ip(s)).allowed, true, s)
    }
    for (const s of ['169.254.169.254', 'fd00:ec2::254', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe', '0.0.0.0', '::', '224.0.0.1', 'ff02::1', '255.255.255.255']) {
      assert.equal(p.check('x', ip(s)).allowed, false, s)
    }
  })

  test('allow_all allows every address', () => {
    const p = createAddressPolicy({ policy: 'allow_all', allowedHosts: [], allowedCidrs: [] })
    for (const s of ['169.254.169.254', '127.0.0.1', '::1', '10.0.0.5']) assert.equal(p.check('x', ip(s)).allowed, true, s)
  })

  test('CIDRs are validated as the guard uses them, and a bad one stops the start naming its variable', () => {
    for (const c of ['10.0.0.0/8', '127.0.0.1/32', 'fd00::/8', '::ffff:0:0/96']) assert.equal(isValidCidr(c), true, c)
    for (const c of ['10.0.0.0/33', '999.0.0.0/8', '10.1/16', '10.0.0.0', 'fd00::/129', 'x/8']) assert.equal(isValidCidr(c), false, c)
    assert.deepEqual(loadConfig({ REMOTE_URL_FETCH_ALLOWED_CIDRS: '10.0.0.0/8, fd00::/8' }).remote.allowedCidrs, ['10.0.0.0/8', 'fd00::/8'])
    assert.throws(() => loadConfig({ REMOTE_URL_FETCH_ALLOWED_CIDRS: '10.0.0.0/8,999.0.0.0/8' }), (e: unknown) =>
      e instanceof ConfigError && e.problems.some((p) => p.startsWith('REMOTE_URL_FETCH_ALLOWED_CIDRS: "999.0.0.0/8"')))
  })
})
