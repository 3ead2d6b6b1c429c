/**
 * Server-sent events (WHATWG HTML §9.2) for live annotation changes (issue #5 §5), shared by
 * the server API and the client surfaces. Each event's `id` is the document's change sequence
 * number, so a reconnecting EventSource sends it back as Last-Event-ID and resumes exactly
 * there. `?last_event_id=` does the same for clients that cannot set headers on the first
 * connection. A client that reads too slowly is disconnected rather than buffered without
 * bound; it reconnects and resumes from its last id, losing nothing.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ChangeEvent, ChangeSink, Subscription } from '../annotations/service.js'
import { FolioError } from '../errors.js'

const HEARTBEAT_MS = 15_000
const MAX_BUFFERED = 4 * 1024 * 1024
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
    if (res.writableLength > MAX_BUFFERED) end()
  }
  const end = () => {
    if (ended) return
    ended = true
    clearInterval(heartbeat)
    subscription?.close()
    res.end()
  }
  const sink: ChangeSink = {
    ready: (seq) => write(frame('ready', seq, { seq })),
    reset: (seq, reason) => write(frame('reset', seq, { seq, reason })),
    change: (e: ChangeEvent) => write(frame(e.type, e.seq, e)),
    end,
  }
  let subscription: Subscription | undefined
  let heartbeat: NodeJS.Timeout | undefined
  subscription = await subscribe(after, sink)
  reply.hijack() // from here on the response is written by hand
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no', // nginx: do not buffer the stream
  })
  open = true
  res.write(`retry: ${RETRY_MS}\n\n`)
  for (const text of pending.splice(0)) write(text)
  heartbeat = setInterval(() => write(': ping\n\n'), HEARTBEAT_MS)
  req.raw.on('close', end)
  res.on('close', end)
  if (req.raw.destroyed) end()
}
