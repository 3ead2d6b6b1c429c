/**
 * An undici dispatcher that connects only where an AddressPolicy allows (SSRF defence).
 *
 * Why a dispatcher: `fetch` and undici ignore an `http.Agent`, so agent-based filters
 * (request-filtering-agent, ssrf-req-filter) protect nothing there (STACK-NOTES §7). The check
 * has to sit in the connector, where the address is chosen.
 *
 * Resolve once, check every answer, connect to a checked address: the host name is resolved
 * here, every address in the answer must pass the policy (one refused address refuses the
 * host: a mixed answer is how rebinding attacks hide), and the socket is opened to that literal
 * address, so no second resolution can hand out a different one (no DNS rebinding window).
 * IP-literal hosts are checked the same way without a lookup. TLS still verifies the
 * certificate against the host name (SNI comes from the request's host, not the address).
 */
import { lookup as dnsLookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { Agent, buildConnector, type Dispatcher } from 'undici'
import type { IPv6 } from 'ipaddr.js'
import { type AddressPolicy, type Embedding, type IpAddress, parseIp } from './address-policy.js'

export interface ResolvedAddress {
  address: string
  family: number
}

/** Resolves a host name to all its addresses (production: dns.lookup with `all: true`). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true })

/** The low-level connect (production: undici's buildConnector, i.e. net/tls.connect). */
export type Connector = buildConnector.connector

/** The policy refused an address. Carries facts for the log; the message names no address. */
export class AddressRefusedError extends Error {
  readonly code = 'ERR_ADDRESS_REFUSED'
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly addressClass: string,
    readonly reason: string,
    readonly via?: Embedding,
  ) {
    super('connection refused by the address policy')
    this.name = 'AddressRefusedError'
  }
}

/** The host name did not resolve to any address. */
export class ResolveError extends Error {
  readonly code = 'ERR_RESOLVE'
  constructor(readonly hostname: string, options?: { cause?: unknown }) {
    super('the host name did not resolve', options)
    this.name = 'ResolveError'
  }
}

export interface GuardOptions {
  policy: AddressPolicy
  resolve?: Resolver
  /** Underlying connector; tests wrap it to count or forbid connections. */
  connect?: Connector
  /** ms for one TCP/TLS connect (undici's default is 10 s). */
  connectTimeoutMs?: number
}

/**
 * Resolves `hostname` (or parses it as an address) and checks every address; returns the
 * allowed addresses in resolver order, or throws AddressRefusedError / ResolveError.
 */
export async function resolveChecked(hostname: string, policy: AddressPolicy, resolve: Resolver): Promise<IpAddress[]> {
  const literal = parseIp(hostname)
  let addresses: IpAddress[]
  if (literal) {
    addresses = [literal]
  } else {
    let answers: ResolvedAddress[]
    try {
      answers = await resolve(hostname)
    } catch (e) {
      throw new ResolveError(hostname, { cause: e })
    }
    addresses = []
    for (const a of answers) {
      const parsed = parseIp(a.address)
      // An answer that is no address at all is not connected to.
      if (!parsed) throw new AddressRefusedError(hostname, String(a.address), 'invalid', 'not_an_address')
      addresses.push(parsed)
    }
    if (addresses.length === 0) throw new ResolveError(hostname)
  }
  for (const a of addresses) {
    const v = policy.check(hostname, a)
    if (!v.allowed) throw new AddressRefusedError(hostname, a.toString(), v.class, v.reason, v.via)
  }
  return addresses
}

/** A connector that resolves, checks, and connects to a checked literal address. */
export function guardedConnector(opts: GuardOptions): Connector {
  const resolve = opts.resolve ?? systemResolver
  const base = opts.connect ?? buildConnector({ timeout: opts.connectTimeoutMs ?? 10_000 })
  return (options, callback) => {
    resolveChecked(options.hostname, opts.policy, resolve).then(
      (addresses) => {
        // Try the checked addresses in order until one connects (what happy-eyeballs would do
        // over the same list, sequentially). Each is a literal: no further lookup happens.
        let i = 0
        const attempt = (): void => {
          const a = addresses[i++]!
          // A literal IPv4-mapped address is connected to as the IPv4 address it is.
          const literal = a.kind() === 'ipv6' && (a as IPv6).isIPv4MappedAddress() ? (a as IPv6).toIPv4Address().toString() : a.toString()
          if (isIP(literal) === 0) return callback(new AddressRefusedError(options.hostname, literal, 'invalid', 'not_an_address'), null)
          base({ ...options, hostname: literal }, (err, socket) => {
            if (err && i < addresses.length) return attempt()
            if (err) return callback(err, null)
            callback(null, socket!)
          })
        }
        attempt()
      },
      (err: unknown) => callback(err as Error, null),
    )
  }
}

/** A dispatcher (for `undici.request` or `fetch`) whose every connection passes the guard. */
export function createGuardedDispatcher(opts: GuardOptions): Dispatcher {
  return new Agent({ connect: guardedConnector(opts) })
}
