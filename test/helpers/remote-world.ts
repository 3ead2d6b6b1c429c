/**
 * The outside world of remote fetches, made safe for tests:
 *  - an HTTP server on 127.0.0.1 that plays the remote hosts (counts every request it gets);
 *  - a resolver we control: test names map to chosen addresses (private, metadata …), so a
 *    name that "resolves to a private address" needs no real DNS; `localhost` goes to the
 *    system resolver (it is loopback); any other name fails like NXDOMAIN;
 *  - a safety-net connector: it connects only to loopback addresses and records any other
 *    address it was asked for, so a guard bug can never send traffic off this machine. Tests
 *    assert the net caught nothing: a refused address must be refused BEFORE connecting.
 */
import { lookup } from 'node:dns/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { buildConnector } from 'undici'
import { parseIp } from '../../src/net/address-policy.js'
import type { Connector, ResolvedAddress, Resolver } from '../../src/net/ssrf-guard.js'

export type Handler = (req: IncomingMessage, res: ServerResponse) => void

export interface RemoteWorld {
  /** Port of the local server (127.0.0.1). */
  port: number
  /** Requests the local server received, by path. */
  hits: string[]
  /** Every resolver call (host names). */
  resolved: string[]
  /** Every connect the guard asked for (the literal address it chose). */
  connects: string[]
  /** Non-loopback addresses the safety net refused to connect to (must stay empty). */
  caughtByNet: string[]
  names: Map<string, string[]>
  resolve: Resolver
  connect: Connector
  /** The same safety net over a connector with other options (e.g. a test CA for TLS). */
  connectWith(options: buildConnector.BuildOptions): Connector
  route(path: string, handler: Handler): void
  reset(): void
  close(): Promise<void>
}

function isLoopback(literal: string): boolean {
  const a = parseIp(literal)
  if (!a) return false
  if (a.kind() === 'ipv4') return a.toString().startsWith('127.')
  return a.toString() === '::1'
}

export async function startRemoteWorld(): Promise<RemoteWorld> {
  const routes = new Map<string, Handler>()
  const hits: string[] = []
  const resolved: string[] = []
  const connects: string[] = []
  const caughtByNet: string[] = []
  const names = new Map<string, string[]>()
  const sockets = new Set<import('node:net').Socket>()

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    hits.push(path)
    const h = routes.get(path)
    if (h) return h(req, res)
    res.writeHead(404, { 'content-type': 'text/plain' }).end('no such thing')
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port

  const resolve: Resolver = async (hostname) => {
    resolved.push(hostname)
    const mapped = names.get(hostname.toLowerCase())
    if (mapped) return mapped.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }))
    if (hostname === 'localhost') return lookup('localhost', { all: true })
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
  }

  const connectWith = (buildOptions: buildConnector.BuildOptions): Connector => {
    const real = buildConnector({ timeout: 5000, ...buildOptions })
    return (options, callback) => {
      connects.push(options.hostname)
      if (!isLoopback(options.hostname)) {
        caughtByNet.push(options.hostname)
        return callback(Object.assign(new Error('safety net: not a loopback address'), { code: 'ECONNREFUSED' }), null)
      }
      return real(options, callback)
    }
  }
  const connect = connectWith({})

  return {
    port,
    hits,
    resolved,
    connects,
    caughtByNet,
    names,
    resolve,
    connect,
    connectWith,
    route: (path, handler) => void routes.set(path, handler),
    reset() {
      hits.length = 0
      resolved.length = 0
      connects.length = 0
    },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}
