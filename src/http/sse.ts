/**
 * Server-sent events (WHATWG HTML §9.2) for live annotation changes (issue #5 §5), shared by
 * the server API and the client surfaces. Each event's `id` is the document's change sequence
 * number, so a reconnecting EventSource sends it back as Last-Event-ID and resumes exactly
 * there. `?last_event_id=` does the same for clients that cannot set headers on the first
 * connection. A client that reads too slowly is disconnected (the socket destroyed, which frees
 * its buffer at once; `end()` would keep both until the client read them) rather than buffered
 * without bound; it reconnects and resumes from its last id, losing nothing.
 *
 * Each stream takes a place in the node's EventStreams (caps, and the credential checked again
 * every second: a stream whose token expires or is revoked ends with an `event: closed`).
 * The headers fastify would have sent (CORS from the client surface's origin hook) are copied
 * onto the hijacked response, so a viewer on an allowed origin can read the stream.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ChangeEvent, ChangeSink, Subscription } from '../annotations/service.js'
import { FolioError } from '../errors.js'

const HEARTBEAT_MS = 15_000
/** Bytes queued for one slow reader before it is dropped (a few thousand typical events). */
export const MAX_BUFFERED = 1024 * 1024
const RETRY_MS = 2000

export function lastEventId(req: FastifyRequest): number | undefined {
  const header = req.headers['last-event-id']
  const query = (req.query as { last_event_id?: unknown } | undefined)?.last_event_id
  const raw = typeof header === 'string' && header !== '' ? header : query === undefined ? undefined : String(query)
  if (raw === undefined) return undefined
  if (!/^\d{1,15}$/.test(raw)) throw new FolioError('invalid_event_id')
  return Number(raw)
}

function frame(event: string, id: number, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

/**
 * Answers with an event stream fed by `subscribe`. Errors before the stream opens (unknown
 * document, bad Last-Event-ID) are ordinary error responses.
 */
export async function sendEventStream(
  req: FastifyRequest,
  reply: FastifyReply,
  subscribe: (after: number | undefined, sink: ChangeSink) => Promise<Subscription>,
): Promise<void> {
  const after = lastEventId(req)
  const res = reply.raw
  let open = false
  let ended = false
  const pending: string[] = []
  const write = (text: string) => {
    if (ended) return
    if (!open) return void pending.push(text)
    res.write(text)
    if (res.writableLength > MAX_BUFFERED) drop()
  }
  const finish = () => {
    ended = true
    clearInterval(heartbeat)
    subscription?.close()
    release()
  }
  /** The server ends the stream: says why (no id, so Last-Event-ID stays the last change). */
  const end = (reason?: string) => {
    if (ended) return
    if (open && reason !== undefined) res.write(`event: closed\ndata: ${JSON.stringify({ reason })}\n\n`)
    finish()
    res.end()
  }
  /** A reader too slow for its buffer: the socket goes at once, with what it holds. */
  const drop = () => {
    if (ended) return
    finish()
    res.destroy()
  }
  const sink: ChangeSink = {
    ready: (seq) => write(frame('ready', seq, { seq })),
    reset: (seq, reason) => write(frame('reset', seq, { seq, reason })),
    change: (e: ChangeEvent) => write(frame(e.type, e.seq, e)),
    end: () => end(),
  }
  let subscription: Subscription | undefined
  let heartbeat: NodeJS.Timeout | undefined
  // Before subscribing, so that a refusal (429) is an ordinary error response.
  const release = req.server.eventStreams.open(req, (reason) => end(reason))
  try {
    subscription = await subscribe(after, sink)
  } catch (e) {
    release()
    throw e
  }
  reply.hijack() // from here on the response is written by hand
  res.writeHead(200, {
    ...headersOf(reply),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no', // nginx: do not buffer the stream
  })
  open = true
  res.write(`retry: ${RETRY_MS}\n\n`)
  for (const text of pending.splice(0)) write(text)
  heartbeat = setInterval(() => write(': ping\n\n'), HEARTBEAT_MS)
  req.raw.on('close', () => end())
  res.on('close', () => end())
  if (req.raw.destroyed) end()
}

/** What hooks set on the reply before the hijack (CORS, Vary), which writeHead would lose. */
function headersOf(reply: FastifyReply): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value === undefined || name === 'content-length' || name === 'content-type') continue
    out[name] = Array.isArray(value) ? value.map(String) : String(value)
  }
  return out
}
