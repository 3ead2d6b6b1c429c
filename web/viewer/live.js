// Live changes (spec §7 `GET …/events`, server-sent events). EventSource cannot send an
// Authorization header, so the stream is read with fetch and parsed here (the token stays out
// of URLs). Any event means "annotations changed": the layer fetches the list again, which is
// simple and always right. On a dropped stream: reconnect with backoff and refresh once, since
// events may have been missed. Where the server has no events route (404), poll instead.
// When the stream cannot be opened at all several times in a row without any HTTP status (a
// network error: typically CORS, which a browser reports as nothing more than that, or a proxy
// that refuses streams), retrying forever helps nobody: poll, and say why.
// 429 (too many streams for this token or address) is retried with the longest backoff.

const POLL_MS = 4000
const MAX_BLIND_FAILURES = 3

export function listen(transport, { onChange, onState, onRefused }) {
  let delay = 1000
  let stopped = false

  async function poll(reason) {
    onState('polling', reason)
    while (!stopped) {
      await new Promise((r) => setTimeout(r, POLL_MS))
      if (document.visibilityState !== 'hidden') onChange()
    }
  }

  async function connect() {
    let blind = 0
    while (!stopped) {
      let res
      try {
        res = await transport.request('/events', { accept: 'text/event-stream' })
      } catch (e) {
        if (e.status === 404 || e.status === 405) return poll('this server has no live events')
        if (e.status === 401 || e.status === 403) { onState('off'); onRefused(e); return }
        if (!e.status && ++blind >= MAX_BLIND_FAILURES) {
          return poll('the live stream cannot be read from this page (network or CORS)')
        }
        if (e.status === 429) delay = 30000
        onState('reconnecting')
        await new Promise((r) => setTimeout(r, delay))
        delay = Math.min(delay * 2, 30000)
        continue
      }
      onState('live')
      delay = 1000
      blind = 0
      try {
        await read(res.body, onChange)
      } catch { /* dropped */ }
      if (stopped) return
      onState('reconnecting')
      onChange()
      await new Promise((r) => setTimeout(r, delay))
    }
  }

  connect()
  return () => { stopped = true }
}

/** Reads an event stream (WHATWG HTML §9.2 format) and calls onEvent for each real event. */
async function read(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  let buf = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    buf += value
    const blocks = buf.split(/\r?\n\r?\n/)
    buf = blocks.pop()
    for (const block of blocks) {
      // Lines starting with ':' are comments (keep-alives); an event has a data or event field.
      const fields = block.split(/\r?\n/).filter((l) => l !== '' && !l.startsWith(':'))
      if (fields.some((l) => l.startsWith('data') || l.startsWith('event'))) onEvent(fields)
    }
  }
}
