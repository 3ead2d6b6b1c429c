/**
 * A minimal server-sent events client for tests (Node 20 has no EventSource): reads the stream
 * with fetch, parses events (WHATWG HTML §9.2.6), and lets a test wait for the next events.
 */
export interface SseEvent { id?: string; event: string; data: any } // eslint-disable-line @typescript-eslint/no-explicit-any

export interface SseClient {
  status: number
  headers: Headers
  events: SseEvent[]
  /** Resolves when at least `count` events (in total) have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<SseEvent[]>
  /** Resolves when the server ends the stream. */
  ended: Promise<void>
  close(): void
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const controller = new AbortController()
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal })
  const events: SseEvent[] = []
  const waiters: Array<{ count: number; resolve: () => void }> = []
  const notify = () => {
    for (const w of [...waiters]) if (events.length >= w.count) {
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve()
    }
  }
  let ended: Promise<void> = Promise.resolve()
  if (res.ok && res.body) {
    ended = (async () => {
      const decoder = new TextDecoder()
      let buffer = ''
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true })
          let at: number
          while ((at = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, at)
            buffer = buffer.slice(at + 2)
            const ev: SseEvent = { event: 'message', data: '' }
            const data: string[] = []
            let any = false
            for (const line of block.split('\n')) {
              if (line.startsWith(':') || line === '') continue
              const [field, ...rest] = line.split(':')
              const value = rest.join(':').replace(/^ /, '')
              if (field === 'id') ev.id = value
              else if (field === 'event') ev.event = value
              else if (field === 'data') data.push(value)
              else continue
              any = true
            }
            if (!any || data.length === 0) continue
            ev.data = JSON.parse(data.join('\n'))
            events.push(ev)
            notify()
          }
        }
      } catch {
        // aborted by close()
      }
    })()
  }
  return {
    status: res.status,
    headers: res.headers,
    events,
    ended,
    waitFor(count, timeoutMs = 15_000) {
      if (events.length >= count) return Promise.resolve(events)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} events; got ${JSON.stringify(events)}`)), timeoutMs)
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve(events)) })
      })
    },
    close: () => controller.abort(),
  }
}
