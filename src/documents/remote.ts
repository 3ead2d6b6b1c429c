/**
 * Fetching a remote document (spec §6). Every connection goes through the SSRF guard
 * (`net/ssrf-guard.ts`); this module adds what is about documents and about the whole fetch:
 *  - the URL: http/https only (case-insensitive, the URL parser lowercases the scheme), no
 *    embedded credentials;
 *  - redirects followed by hand, at most 5, each target parsed and checked like the first URL
 *    (and its address checked again by the guard when it is connected to); loops refused;
 *  - one time limit for everything (connects, redirects, headers, body): REMOTE_URL_FETCH_TIMEOUT;
 *  - size bounded by MAX_UPLOAD_SIZE_BYTES while streaming (a larger Content-Length is refused
 *    before the body is read);
 *  - the bytes must begin like a PDF (`%PDF-` within the first 1024 bytes, as the inspector
 *    wants); Content-Type is not trusted either way.
 * The body streams into the caller's sink (the staging area): nothing is stored unless the whole
 * document arrived; inspection and the commit are the upload path's (documents/service.ts).
 * Upstream failures map to 422/502 codes, never to Folio's own 404. No URL is logged or echoed
 * (it may carry a signature or token); the log gets the host and the reason.
 */
import { FolioError } from '../errors.js'
import type { Logger } from '../log.js'
import type { AddressPolicy } from '../net/address-policy.js'
import { AddressRefusedError, type Connector, createGuardedDispatcher, ResolveError, type Resolver } from '../net/ssrf-guard.js'

export const MAX_REDIRECTS = 5
export const MAX_URL_LENGTH = 8192
const PDF_HEADER_WINDOW = 1024
const PDF_MAGIC = Buffer.from('%PDF-', 'latin1')
const REDIRECTS = new Set([301, 302, 303, 307, 308])

export interface RemoteSource {
  /** The body, limited and checked while it streams. */
  body: AsyncIterable<Uint8Array>
  /** The last path segment of the requested URL, decoded; '' when there is none. */
  name: string
}

export interface RemoteFetcher {
  /** Fetches `url` and hands its body to `sink`; the time limit covers the sink's reading. */
  fetch<T>(url: string, sink: (source: RemoteSource) => Promise<T>): Promise<T>
}

export interface RemoteFetcherOptions {
  policy: AddressPolicy
  timeoutMs: number
  maxBytes: number
  log: Logger
  userAgent: string
  /** The outside world, replaceable in tests: DNS and the socket connect. */
  resolve?: Resolver
  connect?: Connector
}

/** Parses and checks a URL given by the client or by a redirect. */
export function parseRemoteUrl(text: string, base?: URL): URL {
  if (text.length > MAX_URL_LENGTH) {
    throw new FolioError('bad_request', { field: 'url' }, { message: `url is longer than ${MAX_URL_LENGTH} characters` })
  }
  let url: URL
  try {
    url = new URL(text, base)
  } catch {
    if (base) throw new FolioError('remote_fetch_failed', { reason: 'bad_redirect' })
    throw new FolioError('bad_request', { field: 'url' }, { message: 'url is not an absolute URL' })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FolioError('remote_fetch_refused', { reason: 'scheme' }, { message: 'Only http and https URLs can be fetched' })
  }
  if (url.username !== '' || url.password !== '') {
    throw new FolioError('remote_fetch_refused', { reason: 'credentials' }, { message: 'URLs with embedded credentials are refused' })
  }
  url.hash = '' // never sent; two URLs that differ only in it are one request (loop detection)
  return url
}

function nameOf(url: URL): string {
  const last = url.pathname.split('/').pop() ?? ''
  try {
    return decodeURIComponent(last).slice(0, 1024)
  } catch {
    return last.slice(0, 1024)
  }
}

/** Counts bytes against the limit and checks the PDF header while the body streams. */
async function* checkedBody(body: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
  let total = 0
  let head: Buffer | undefined = Buffer.alloc(0)
  for await (const chunk of body) {
    total += chunk.byteLength
    if (total > maxBytes) throw tooLarge(maxBytes)
    if (head) {
      head = Buffer.concat([head, chunk]).subarray(0, PDF_HEADER_WINDOW)
      if (head.includes(PDF_MAGIC)) head = undefined
      else if (head.length >= PDF_HEADER_WINDOW) throw new FolioError('remote_not_pdf')
    }
    yield chunk
  }
  if (head) throw new FolioError('remote_not_pdf')
}

/** Drops a body we will not read (undici's BodyReadable emits an AbortError on a bare destroy). */
function discard(body: { destroy(): void }): void {
  body.destroy()
}

function tooLarge(limit: number): FolioError {
  return new FolioError('remote_too_large', { limit }, {
    message: `The remote document exceeds MAX_UPLOAD_SIZE_BYTES (${limit} bytes)`,
  })
}

// Error codes of the network path (Node, undici, OpenSSL), mapped to a public reason.
const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connect',
  EHOSTUNREACH: 'connect',
  ENETUNREACH: 'connect',
  EADDRNOTAVAIL: 'connect',
  ECONNRESET: 'connection_lost',
  ECONNABORTED: 'connection_lost',
  EPIPE: 'connection_lost',
  UND_ERR_SOCKET: 'connection_lost',
  UND_ERR_CLOSED: 'connection_lost',
  UND_ERR_DESTROYED: 'connection_lost',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'connection_lost',
  UND_ERR_INFO: 'protocol',
  UND_ERR_NOT_SUPPORTED: 'protocol',
}
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'])

function causes(e: unknown): unknown[] {
  const out: unknown[] = []
  for (let c = e, depth = 0; c !== undefined && c !== null && depth < 8; c = (c as { cause?: unknown }).cause, depth++) out.push(c)
  return out
}

function reasonOf(code: string): string | undefined {
  if (NETWORK_CODES[code]) return NETWORK_CODES[code]
  if (code.startsWith('HPE_')) return 'protocol' // llhttp: not HTTP
  if (/^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_OSSL_)/.test(code)) return 'tls'
  return undefined
}

export function createRemoteFetcher(opts: RemoteFetcherOptions): RemoteFetcher {
  const { policy, timeoutMs, maxBytes, log } = opts
  const headers = {
    'user-agent': opts.userAgent,
    accept: 'application/pdf, */*;q=0.5',
    'accept-encoding': 'identity',
  }

  /** Turns whatever went wrong into a Folio error; unknown (local) errors pass unchanged. */
  function translate(e: unknown, host: string, timedOut: boolean): unknown {
    if (e instanceof FolioError) return e
    if (timedOut) return new FolioError('remote_fetch_timeout', { limit_ms: timeoutMs }, { cause: e })
    for (const c of causes(e)) {
      if (c instanceof AddressRefusedError) {
        log.warn({ host: c.hostname, address: c.address, class: c.addressClass, via: c.via, reason: c.reason, policy: policy.name }, 'remote fetch refused')
        return new FolioError('remote_fetch_refused', { reason: 'address' }, {
          message: 'The URL resolves to an address that remote fetches may not reach (REMOTE_URL_FETCH_POLICY)',
          cause: e,
        })
      }
      if (c instanceof ResolveError) return new FolioError('remote_fetch_failed', { reason: 'dns' }, { cause: e })
      const code = (c as { code?: unknown }).code
      if (typeof code === 'string') {
        if (TIMEOUT_CODES.has(code)) return new FolioError('remote_fetch_timeout', { limit_ms: timeoutMs }, { cause: e })
        const reason = reasonOf(code)
        if (reason) {
          log.info({ host, reason, code }, 'remote fetch failed')
          return new FolioError('remote_fetch_failed', { reason }, { cause: e })
        }
      }
    }
    return e
  }

  return {
    async fetch(text, sink) {
      const first = parseRemoteUrl(text)
      const controller = new AbortController()
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        controller.abort()
      }, timeoutMs)
      const dispatcher = createGuardedDispatcher({
        policy,
        resolve: opts.resolve,
        connect: opts.connect,
        connectTimeoutMs: Math.min(timeoutMs, 10_000),
      })
      let url = first
      try {
        const seen = new Set([url.href])
        for (let redirects = 0; ; redirects++) {
          const res = await dispatcher.request({
            origin: url.origin,
            path: `${url.pathname}${url.search}`,
            method: 'GET',
            headers,
            signal: controller.signal,
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
          })
          // Errors of the body reach us through its iterator; a late 'error' event (the socket
          // closing after the iterator has given up) must not become an uncaught exception.
          res.body.on('error', () => {})
          const status = res.statusCode
          if (REDIRECTS.has(status)) {
            discard(res.body)
            const location = res.headers.location
            if (typeof location !== 'string' || location === '') throw new FolioError('remote_fetch_failed', { reason: 'bad_redirect' })
            if (redirects >= MAX_REDIRECTS) {
              throw new FolioError('remote_fetch_failed', { reason: 'too_many_redirects', limit: MAX_REDIRECTS }, {
                message: `The URL redirects more than ${MAX_REDIRECTS} times`,
              })
            }
            url = parseRemoteUrl(location, url)
            if (seen.has(url.href)) throw new FolioError('remote_fetch_failed', { reason: 'redirect_loop' }, { message: 'The URL redirects in a loop' })
            seen.add(url.href)
            continue
          }
          if (status < 200 || status > 299) {
            discard(res.body)
            // The remote said no (4xx): the URL given is the problem, 422. Anything else (5xx,
            // an unexpected 1xx/3xx) is a bad gateway, 502. Never Folio's own 404.
            if (status >= 400 && status < 500) throw new FolioError('remote_http_error', { upstream_status: status })
            throw new FolioError('remote_fetch_failed', { reason: 'upstream_status', upstream_status: status })
          }
          const length = Number(res.headers['content-length'])
          if (Number.isFinite(length) && length > maxBytes) {
            discard(res.body)
            throw tooLarge(maxBytes)
          }
          return await sink({ body: checkedBody(res.body, maxBytes), name: nameOf(first) })
        }
      } catch (e) {
        throw translate(e, url.hostname, timedOut)
      } finally {
        clearTimeout(timer)
        await dispatcher.destroy().catch(() => {})
      }
    },
  }
}
