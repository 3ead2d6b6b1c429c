/**
 * bench/remote-fetch (issue #8): what the SSRF guard and the remote-document fetcher cost on
 * top of a plain undici request, measured in the same run against a local server (127.0.0.1
 * only; no other address is ever contacted).
 *
 *   npm run bench:remote-fetch
 *   BENCH_SMALL=300 BENCH_LARGE=20 npm run bench:remote-fetch
 *
 * Every variant opens a fresh connection per fetch (as the fetcher does: one Agent per fetch),
 * so the ratio isolates resolve + check + the body checks, not connection reuse.
 *   plain      undici.request on a new Agent (baseline)
 *   guarded    the same through createGuardedDispatcher (address checked, literal connect)
 *   fetcher    createRemoteFetcher: guard + redirect loop + time limit + size/%PDF- checks
 * Hosts: the IP literal 127.0.0.1 (no DNS), and `localhost` (system resolver) for both sides.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { Agent, request } from 'undici'
import { createRemoteFetcher } from '../src/documents/remote.js'
import { createAddressPolicy } from '../src/net/address-policy.js'
import { createGuardedDispatcher } from '../src/net/ssrf-guard.js'

const SMALL_N = Number(process.env.BENCH_SMALL ?? 300)
const LARGE_N = Number(process.env.BENCH_LARGE ?? 40)
const small = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(4 * 1024 - 9, 0x20)])
const large = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(8 * 1024 * 1024 - 9, 0x20)])

const server = createServer((req, res) => {
  const body = req.url === '/large' ? large : small
  res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(body.length) }).end(body)
})
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
const port = (server.address() as AddressInfo).port

const policy = createAddressPolicy({ policy: 'public_only', allowedHosts: ['localhost'], allowedCidrs: ['127.0.0.0/8'] })
const fetcher = createRemoteFetcher({ policy, timeoutMs: 30_000, maxBytes: 64 * 1024 * 1024, log: pino({ level: 'silent' }), userAgent: 'bench' })

async function drain(body: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0
  for await (const c of body) n += c.byteLength
  return n
}

type Variant = (url: string) => Promise<number>
const variants: Record<string, Variant> = {
  async plain(url) {
    const agent = new Agent()
    try {
      return await drain((await request(url, { dispatcher: agent })).body)
    } finally {
      await agent.destroy()
    }
  },
  async guarded(url) {
    const agent = createGuardedDispatcher({ policy })
    try {
      return await drain((await request(url, { dispatcher: agent })).body)
    } finally {
      await agent.destroy()
    }
  },
  fetcher: (url) => fetcher.fetch(url, (src) => drain(src.body)),
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Interleaves the variants fetch by fetch, so load from elsewhere on the machine hits all alike. */
async function measureAll(url: string, n: number, expect: number): Promise<Record<string, number>> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]))
  for (let i = -3; i < n; i++) {
    for (const [name, v] of Object.entries(variants)) {
      const t0 = performance.now()
      const got = await v(url)
      if (i >= 0) times[name]!.push(performance.now() - t0) // the first 3 rounds warm up
      if (got !== expect) throw new Error(`short body: ${got}`)
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, median(xs)]))
}

console.log(`remote fetch, median ms per fetch (small ${small.length} B × ${SMALL_N}, large ${large.length} B × ${LARGE_N})`)
console.log('| host | size | plain | guarded | fetcher | guarded/plain | fetcher/plain |')
console.log('|---|---|---|---|---|---|---|')
for (const host of ['127.0.0.1', 'localhost']) {
  for (const [label, path, n, size] of [['4 KB', '/small', SMALL_N, small.length], ['8 MB', '/large', LARGE_N, large.length]] as const) {
    const url = `http://${host}:${port}${path}`
    const r = await measureAll(url, n, size)
    console.log(`| ${host} | ${label} | ${r.plain!.toFixed(2)} | ${r.guarded!.toFixed(2)} | ${r.fetcher!.toFixed(2)} | ${(r.guarded! / r.plain!).toFixed(2)} | ${(r.fetcher! / r.plain!).toFixed(2)} |`)
  }
}
server.close()
