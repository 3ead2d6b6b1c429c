/**
 * The live event streams open on this node. Each holds a socket, a subscription and a send
 * buffer for as long as the client wants, so they are capped per credential, per client address
 * and in total (EVENT_STREAMS_MAX_*; 429 `too_many_streams` beyond), and each stream's credential
 * is checked again every second: a stream ends when its token expires, when a revocation covers
 * it, when the key that verified it stops being valid, or when the API token or dashboard
 * session it was opened with stops being valid. Revocations and secrets reach every node's
 * memory through the cluster bus, so the check is local and cheap (a cache hit in auth/jwt.ts).
 */
import type { FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { FolioError } from '../errors.js'

/** How often every open stream's credential is checked again. */
export const RECHECK_MS = 1000

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a surface's credential hook: who opened this request and how to ask again. */
    streamCredential?: StreamCredential
  }
  interface FastifyInstance {
    eventStreams: EventStreams
  }
}

export interface StreamCredential {
  /** Stable key of the credential (a digest, never the credential itself); computed on use. */
  key(): string
  /** Whether the credential would still be accepted now. */
  stillValid(): Promise<boolean>
  /**
   * The server API token: its holder may do anything, and a backend legitimately watches many
   * documents from one address, so only the total cap applies to it.
   */
  server?: boolean
}

interface OpenStream {
  credential?: StreamCredential
  ip: string
  /** Ends the stream, telling the client why. */
  end(reason: string): void
}

export class EventStreams {
  private readonly streams = new Set<OpenStream>()
  private readonly perKey = new Map<string, number>()
  private readonly perIp = new Map<string, number>()
  private timer: NodeJS.Timeout | undefined
  private checking = false

  constructor(private readonly limits: Config['eventStreams']) {}

  get size(): number {
    return this.streams.size
  }

  /** Registers a stream or refuses it (429); the returned function releases its place. */
  open(req: FastifyRequest, end: (reason: string) => void): () => void {
    const credential = req.streamCredential
    const key = credential?.key()
    const ip = req.ip
    if (this.streams.size >= this.limits.max) throw tooMany('total', this.limits.max)
    if (!credential?.server) {
      if (key !== undefined && (this.perKey.get(key) ?? 0) >= this.limits.maxPerToken) throw tooMany('token', this.limits.maxPerToken)
      if ((this.perIp.get(ip) ?? 0) >= this.limits.maxPerClient) throw tooMany('client', this.limits.maxPerClient)
    }
    const s: OpenStream = { credential, ip, end }
    this.streams.add(s)
    const counted = !credential?.server
    if (counted && key !== undefined) bump(this.perKey, key, 1)
    if (counted) bump(this.perIp, ip, 1)
    this.startTimer()
    let released = false
    return () => {
      if (released) return
      released = true
      this.streams.delete(s)
      if (counted && key !== undefined) bump(this.perKey, key, -1)
      if (counted) bump(this.perIp, ip, -1)
      if (this.streams.size === 0) this.stopTimer()
    }
  }

  /** Checks every stream's credential now; ends those no longer valid. */
  async recheck(): Promise<void> {
    if (this.checking) return
    this.checking = true
    try {
      await Promise.all([...this.streams].map(async (s) => {
        if (!s.credential) return
        let ok = false
        try {
          ok = await s.credential.stillValid()
        } catch {
          ok = false
        }
        if (!ok && this.streams.has(s)) s.end('credential_invalid')
      }))
    } finally {
      this.checking = false
    }
  }

  close(): void {
    this.stopTimer()
    for (const s of [...this.streams]) s.end('shutdown')
  }

  private startTimer(): void {
    if (this.timer) return
    this.timer = setInterval(() => void this.recheck(), RECHECK_MS)
    this.timer.unref()
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}

function bump(m: Map<string, number>, key: string, by: number): void {
  const n = (m.get(key) ?? 0) + by
  if (n <= 0) m.delete(key)
  else m.set(key, n)
}

function tooMany(limit: 'total' | 'token' | 'client', n: number): FolioError {
  const what = limit === 'total' ? 'on this server' : limit === 'token' ? 'for this token' : 'from this address'
  return new FolioError('too_many_streams', { limit }, { message: `At most ${n} event streams may be open ${what}; close one first` })
}
