// Live changes (spec §7 `GET …/events`, server-sent events). EventSource cannot send an
// Authorization header, so the stream is read with fetch and parsed here (the token stays out
// of URLs). Any event means "annotations changed": the layer fetches the list again, which is
// simple and always right. On a dropped stream: reconnect with backoff and refresh once, since
// events may have been missed. Where the server has no events route (404), poll instead.

const POLL_MS = 4000

export function listen(transport, { onChange, onState, onRefused }) {
  let delay = 1000
  let stopped = false

  async function poll() {
    onState('polling')
    while (!stopped) {
      await new Promise((r) => setTimeout(r, POLL_MS))
      if (document.visibilityState !== 'hidden') onChange()
    }
  }

  async function connect() {
    while (!stopped) {
      let res
      try {
        res = await transport.request('/events', { accept: 'text/event-stream' })
      } catch (e) {
        if (e.status === 404 || e.status === 405) return poll()
        if (e.status === 401 || e.status === 403) { onState('off'); onRefused(e); return }
        onState('reconnecting')
        await new Promise((r) => setTimeout(r, delay))
        delay = Math.min(delay * 2, 30000)
        continue
      }
      onState('live')
      delay = 1000
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
