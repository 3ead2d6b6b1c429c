/**
 * Which IP addresses an outgoing request may connect to (server-side request forgery defence).
 * No Folio words here: parse an address with a correct parser, classify it, decide by a policy.
 *
 * Classification is positive, not a deny list: an IPv4 address is public only outside every
 * special-purpose block of the IANA registry (RFC 6890 and successors); an IPv6 address is public
 * only inside 2000::/3 (global unicast) and outside its special blocks. Forms that embed an IPv4
 * address (IPv4-mapped, IPv4-compatible, IPv4-translated, 6to4, NAT64) are judged by the address
 * they carry as well, so `::ffff:127.0.0.1`, `2002:a00:5::` and `64:ff9b::a9fe:a9fe` are what
 * they hide. Odd IPv4 spellings (`127.1`, `2130706433`, `0x7f.1`, `0177.0.0.1`) are normalised by
 * ipaddr.js, never by string matching; the `ip` and `private-ip` packages are not used (both had
 * bypasses: CVE-2024-29415, CVE-2025-8020).
 *
 * Note: ipaddr.js's own `range()` is not enough on its own: it calls `::7f00:1` (IPv4-compatible
 * loopback) and `fec0::1` (site-local) "unicast", and reads `::1.2.3.4` as IPv4-mapped. This
 * module uses ipaddr.js for parsing and CIDR matching and its own tables for meaning.
 */
import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'

type IPv4 = ipaddr.IPv4
type IPv6 = ipaddr.IPv6
export type IpAddress = IPv4 | IPv6

/** Why an address is not public; `public` when it is. */
export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'linkLocal'
  | 'siteLocal'
  | 'uniqueLocal'
  | 'multicast'
  | 'broadcast'
  | 'carrierGradeNat'
  | 'benchmarking'
  | 'documentation'
  | 'metadata'
  | 'reserved'

/** How an IPv6 address carries an IPv4 one. */
export type Embedding = 'ipv4-mapped' | 'ipv4-compatible' | 'ipv4-translated' | '6to4' | 'nat64' | 'nat64-local' | 'teredo'

export interface Classification {
  /** The class of the address itself, or of the IPv4 address it carries when that one is worse. */
  class: AddressClass
  /** Set when the verdict comes from an embedded IPv4 address. */
  via?: Embedding
  embedded?: string
}

const v4 = (s: string): [IPv4, number] => ipaddr.IPv4.parseCIDR(s)
const v6 = (s: string): [IPv6, number] => ipaddr.IPv6.parseCIDR(s)

/** Cloud metadata services: AWS/GCP/Azure/OpenStack/DigitalOcean, ECS, EKS Pod Identity, Alibaba, AWS IPv6 IMDS. */
const METADATA_V4 = ['169.254.169.254/32', '169.254.170.2/32', '169.254.170.23/32', '100.100.100.200/32'].map(v4)
const METADATA_V6 = ['fd00:ec2::254/128', 'fd00:ec2::23/128'].map(v6)

// IANA IPv4 Special-Purpose Address Registry, plus multicast and class E. First match wins.
const V4_TABLE: Array<[AddressClass, [IPv4, number]]> = [
  ...METADATA_V4.map((r) => ['metadata', r] as [AddressClass, [IPv4, number]]),
  ['unspecified', v4('0.0.0.0/8')], // "this network" (RFC 791); 0.0.0.0 reaches the local host on Linux
  ['private', v4('10.0.0.0/8')], // RFC 1918
  ['carrierGradeNat', v4('100.64.0.0/10')], // RFC 6598
  ['loopback', v4('127.0.0.0/8')], // RFC 1122
  ['linkLocal', v4('169.254.0.0/16')], // RFC 3927
  ['private', v4('172.16.0.0/12')], // RFC 1918
  ['reserved', v4('192.0.0.0/24')], // IETF protocol assignments (RFC 6890)
  ['documentation', v4('192.0.2.0/24')], // TEST-NET-1 (RFC 5737)
  ['reserved', v4('192.88.99.0/24')], // 6to4 relay anycast, deprecated (RFC 7526)
  ['private', v4('192.168.0.0/16')], // RFC 1918
  ['benchmarking', v4('198.18.0.0/15')], // RFC 2544
  ['documentation', v4('198.51.100.0/24')], // TEST-NET-2
  ['documentation', v4('203.0.113.0/24')], // TEST-NET-3
  ['multicast', v4('224.0.0.0/4')], // RFC 5771
  ['broadcast', v4('255.255.255.255/32')], // RFC 919
  ['reserved', v4('240.0.0.0/4')], // future use (RFC 1112)
]

const GLOBAL_UNICAST = v6('2000::/3')
const IPV4_MAPPED = v6('::ffff:0:0/96')
const IPV4_TRANSLATED = v6('::ffff:0:0:0/96') // SIIT (RFC 6145/7915)
const IPV4_COMPATIBLE = v6('::/96') // deprecated (RFC 4291 §2.5.5.1)
const NAT64_WELL_KNOWN = v6('64:ff9b::/96') // RFC 6052
const NAT64_LOCAL = v6('64:ff9b:1::/48') // local-use NAT64 (RFC 8215)
const SIX_TO_FOUR = v6('2002::/16') // RFC 3056
const TEREDO = v6('2001::/32') // RFC 4380

// Special blocks outside the embedding forms, most specific first.
const V6_TABLE: Array<[AddressClass, [IPv6, number]]> = [
  ...METADATA_V6.map((r) => ['metadata', r] as [AddressClass, [IPv6, number]]),
  ['unspecified', v6('::/128')],
  ['loopback', v6('::1/128')],
  ['benchmarking', v6('2001:2::/48')], // RFC 5180
  ['documentation', v6('2001:db8::/32')], // RFC 3849
  ['documentation', v6('3fff::/20')], // RFC 9637
  ['reserved', v6('2001::/23')], // IETF protocol assignments (ORCHID, AMT, AS112 …): no documents there
  ['linkLocal', v6('fe80::/10')],
  ['siteLocal', v6('fec0::/10')], // deprecated (RFC 3879), still routed by some stacks
  ['uniqueLocal', v6('fc00::/7')], // RFC 4193
  ['multicast', v6('ff00::/8')],
]

/**
 * Parses an IP address written any way an IP stack would accept it: dotted quad, `127.1`,
 * decimal, hex and octal IPv4; IPv6 with or without brackets, zone ids and embedded dotted
 * quads. Returns undefined for anything that is not an address (e.g. a host name).
 */
export function parseIp(text: string): IpAddress | undefined {
  let s = text.trim()
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1)
  if (s.includes(':')) {
    // IPv6: the WHATWG URL parser canonicalises it exactly (ipaddr.js would read `::1.2.3.4`
    // as IPv4-mapped; it is IPv4-compatible). A zone id (`%eth0`) does not change the address.
    const zone = s.indexOf('%')
    const bare = zone === -1 ? s : s.slice(0, zone)
    let canonical: string
    try {
      canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1)
    } catch {
      return undefined
    }
    return ipaddr.IPv6.isValid(canonical) ? ipaddr.IPv6.parse(canonical) : undefined
  }
  if (isIP(s) === 4) return ipaddr.IPv4.parse(s)
  // `127.1`, `2130706433`, `0x7f.1`, `0177.0.0.1`: what inet_aton (and so getaddrinfo) accepts.
  return ipaddr.IPv4.isValid(s) ? ipaddr.IPv4.parse(s) : undefined
}

function classifyV4(a: IPv4): AddressClass {
  for (const [cls, range] of V4_TABLE) if (a.match(range)) return cls
  return 'public'
}

function v4FromParts(hi: number, lo: number): IPv4 {
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff])
}

/** The IPv4 address an IPv6 address carries, and how. */
export function embeddedIpv4(a: IPv6): { via: Embedding; address: IPv4 } | undefined {
  const p = a.parts
  if (a.match(IPV4_MAPPED)) return { via: 'ipv4-mapped', address: v4FromParts(p[6]!, p[7]!) }
  if (a.match(IPV4_TRANSLATED)) return { via: 'ipv4-translated', address: v4FromParts(p[6]!, p[7]!) }
  // `::` and `::1` are not IPv4-compatible addresses; they have their own classes.
  if (a.match(IPV4_COMPATIBLE) && (p[6] !== 0 || p[7]! > 1)) return { via: 'ipv4-compatible', address: v4FromParts(p[6]!, p[7]!) }
  if (a.match(NAT64_WELL_KNOWN)) return { via: 'nat64', address: v4FromParts(p[6]!, p[7]!) }
  if (a.match(NAT64_LOCAL)) {
    // RFC 6052 §2.2, /48 prefix: IPv4 bits in 48–63 and 72–87 (bits 64–71 are zero).
    return { via: 'nat64-local', address: new ipaddr.IPv4([p[3]! >> 8, p[3]! & 0xff, p[4]! & 0xff, p[5]! >> 8]) }
  }
  if (a.match(SIX_TO_FOUR)) return { via: '6to4', address: v4FromParts(p[1]!, p[2]!) }
  // Teredo: the client's IPv4 address, obfuscated by inverting its bits (RFC 4380 §4).
  if (a.match(TEREDO)) return { via: 'teredo', address: v4FromParts(~p[6]! & 0xffff, ~p[7]! & 0xffff) }
  return undefined
}

export function classifyAddress(a: IpAddress): Classification {
  if (a.kind() === 'ipv4') return { class: classifyV4(a as IPv4) }
  const v6a = a as IPv6
  const emb = embeddedIpv4(v6a)
  if (emb) {
    const inner = classifyV4(emb.address)
    if (inner !== 'public') return { class: inner, via: emb.via, embedded: emb.address.toString() }
    // A public IPv4 address behind a translator that is itself public (NAT64's well-known
    // prefix, 6to4) is public; the deprecated and local-use forms are not.
    if (emb.via === 'nat64' || emb.via === '6to4') return { class: 'public' }
    return { class: 'reserved', via: emb.via, embedded: emb.address.toString() }
  }
  for (const [cls, range] of V6_TABLE) if (v6a.match(range)) return { class: cls }
  return { class: v6a.match(GLOBAL_UNICAST) ? 'public' : 'reserved' }
}

export type FetchPolicyName = 'public_only' | 'allowlist_only' | 'allow_private' | 'allow_all'

export interface AddressPolicyRules {
  policy: FetchPolicyName
  /** Host names, exact or `*.example.com` (any subdomain, not the name itself). */
  allowedHosts: readonly string[]
  /** CIDRs (`10.0.0.0/8`, `fd00::/8`); an IPv4 CIDR also covers the IPv4-mapped form. */
  allowedCidrs: readonly string[]
}

export type Verdict =
  | { allowed: true; class: AddressClass }
  | { allowed: false; class: AddressClass; via?: Embedding; reason: 'not_public' | 'not_allowlisted' | 'never_allowed' }

export interface AddressPolicy {
  readonly name: FetchPolicyName
  /** Whether a host name is on the allow-list (then any address it resolves to is allowed). */
  hostAllowed(hostname: string): boolean
  /** The decision for connecting to `address` for `hostname`. */
  check(hostname: string, address: IpAddress): Verdict
}

// Under allow_private these stay refused: nothing to fetch there, or (metadata) credentials.
const NEVER_UNDER_ALLOW_PRIVATE: ReadonlySet<AddressClass> = new Set(['unspecified', 'multicast', 'broadcast', 'metadata'])

export function normaliseHostname(h: string): string {
  let s = h.trim().toLowerCase()
  if (s.endsWith('.')) s = s.slice(0, -1)
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1)
  return s
}

export function createAddressPolicy(rules: AddressPolicyRules): AddressPolicy {
  const exact = new Set<string>()
  const suffixes: string[] = []
  for (const h of rules.allowedHosts) {
    const n = normaliseHostname(h)
    if (n.startsWith('*.')) suffixes.push(n.slice(1)) // ".example.com"
    else exact.add(n)
  }
  const cidrs = rules.allowedCidrs.map((c) => ipaddr.parseCIDR(c))

  function hostAllowed(hostname: string): boolean {
    const n = normaliseHostname(hostname)
    if (exact.has(n)) return true
    return suffixes.some((s) => n.endsWith(s) && n.length > s.length)
  }

  function inAllowedCidr(a: IpAddress): boolean {
    const candidates: IpAddress[] = [a]
    if (a.kind() === 'ipv6' && (a as IPv6).isIPv4MappedAddress()) candidates.push((a as IPv6).toIPv4Address())
    return candidates.some((c) => cidrs.some(([net, bits]) => net.kind() === c.kind() && c.match(net, bits)))
  }

  return {
    name: rules.policy,
    hostAllowed,
    check(hostname, address) {
      const c = classifyAddress(address)
      if (hostAllowed(hostname) || inAllowedCidr(address)) return { allowed: true, class: c.class }
      switch (rules.policy) {
        case 'allow_all':
          return { allowed: true, class: c.class }
        case 'allowlist_only':
          return { allowed: false, class: c.class, via: c.via, reason: 'not_allowlisted' }
        case 'allow_private':
          if (NEVER_UNDER_ALLOW_PRIVATE.has(c.class)) return { allowed: false, class: c.class, via: c.via, reason: 'never_allowed' }
          return { allowed: true, class: c.class }
        case 'public_only':
          if (c.class === 'public') return { allowed: true, class: c.class }
          return { allowed: false, class: c.class, via: c.via, reason: 'not_public' }
      }
    },
  }
}

/** Whether a text is a CIDR this module can use (strict four-part IPv4, or IPv6). */
export function isValidCidr(text: string): boolean {
  return ipaddr.IPv4.isValidCIDRFourPartDecimal(text) || ipaddr.IPv6.isValidCIDR(text)
}
