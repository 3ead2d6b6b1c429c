/**
 * Live annotation changes as server-sent events (issue #5 §5): every change reaches every
 * connected viewer of the document and layer, in order, on every node (PostgreSQL
 * LISTEN/NOTIFY), and a reconnecting client resumes from its Last-Event-ID without a gap.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { highlightAt } from '../../helpers/annotation-samples.js'
import { assertError, request } from '../../helpers/http.js'
import { makePdf } from '../../helpers/pdf-fixtures.js'
import { openSse, type SseClient, type SseEvent } from '../../helpers/sse.js'
import { authHeader, createStorage, dbKinds, startFolio, type TestFolio } from '../../helpers/start-folio.js'

async function upload(f: TestFolio, id: string): Promise<void> {
  const res = await request(`${f.url}/api/documents?document_id=${id}`, {
    method: 'POST',
    headers: { ...authHeader(), 'content-type': 'application/pdf' },
    body: makePdf({ pages: [{}, {}] }),
  })
  assert.equal(res.status, 200, res.text)
}

const call = (f: TestFolio, method: string, path: string, json?: unknown) =>
  request(`${f.url}/api${path}`, { method, headers: authHeader(), json })

const events = (f: TestFolio, path: string, headers: Record<string, string> = {}) => openSse(`${f.url}/api${path}`, { ...authHeader(), ...headers })

/** The change events (not ready/reset) as "type:id". */
const changes = (evs: SseEvent[]) => evs.filter((e) => !['ready', 'reset'].includes(e.event)).map((e) => `${e.event}:${e.data.annotationId}`)

for (const db of dbKinds()) {
  describe(`annotation events (${db})`, () => {
    let f: TestFolio
    const open: SseClient[] = []
    const sse = async (path: string, headers?: Record<string, string>) => {
      const c = await events(f, path, headers)
      open.push(c)
      return c
    }

    before(async () => {
      f = await startFolio({ db })
    })
    after(async () => {
      for (const c of open) c.close()
      await f.destroy()
    })

    test('two viewers see every create, update and delete of the layer, in the same order, with increasing ids', async () => {
      await upload(f, 'ev1')
      const a = await sse('/documents/ev1/events')
      const b = await sse('/documents/ev1/events')
      assert.equal(a.status, 200)
      assert.match(a.headers.get('content-type') ?? '', /^text\/event-stream/)
      await Promise.all([a.waitFor(1), b.waitFor(1)])
      assert.equal(a.events[0]!.event, 'ready')

      await call(f, 'POST', '/documents/ev1/annotations', { annotations: [{ id: 'x', content: highlightAt(0, 10) }, { id: 'y', content: highlightAt(0, 40) }] })
      await call(f, 'PUT', '/documents/ev1/annotations/x', { content: highlightAt(0, 11) })
      await call(f, 'DELETE', '/documents/ev1/annotations/y')
      await call(f, 'POST', '/documents/ev1/layers/other/annotations', { id: 'z', content: highlightAt(0, 70) })
      await call(f, 'POST', '/documents/ev1/annotations', { id: 'w', content: highlightAt(1, 10) })
      await Promise.all([a.waitFor(6), b.waitFor(6)])
      const expected = ['created:x', 'created:y', 'updated:x', 'deleted:y', 'created:w']
      assert.deepEqual(changes(a.events), expected)
      assert.deepEqual(changes(b.events), expected)
      const ids = a.events.map((e) => Number(e.id))
      assert.deepEqual(ids, [...ids].sort((p, q) => p - q), 'ids increase')
      assert.deepEqual(a.events.map((e) => e.id), b.events.map((e) => e.id))
      const updated = a.events.find((e) => e.event === 'updated')!
      assert.deepEqual(updated.data.annotation.content, highlightAt(0, 11))
      assert.equal(updated.data.annotation.version, 2)
      assert.equal(updated.data.layer, '')
    })

    test('a viewer of a named layer sees only that layer', async () => {
      await upload(f, 'ev2')
      const layer = await sse('/documents/ev2/layers/review/events')
      await layer.waitFor(1)
      await call(f, 'POST', '/documents/ev2/annotations', { id: 'default-one', content: highlightAt(0, 10) })
      await call(f, 'POST', '/documents/ev2/layers/review/annotations', { id: 'review-one', content: highlightAt(0, 10) })
      await layer.waitFor(2)
      assert.deepEqual(changes(layer.events), ['created:review-one'])
      assert.equal(layer.events[1]!.data.layer, 'review')
    })

    test('a client reconnecting with Last-Event-ID (or ?last_event_id=) gets exactly the changes it missed', async () => {
      await upload(f, 'ev3')
      const first = await sse('/documents/ev3/events')
      await first.waitFor(1)
      await call(f, 'POST', '/documents/ev3/annotations', { id: 'a', content: highlightAt(0, 10) })
      await first.waitFor(2)
      const resumeAt = first.events[1]!.id!
      first.close()
      await call(f, 'POST', '/documents/ev3/annotations', { id: 'b', content: highlightAt(0, 20) })
      await call(f, 'PUT', '/documents/ev3/annotations/a', { content: highlightAt(0, 30) })
      const again = await sse('/documents/ev3/events', { 'last-event-id': resumeAt })
      await again.waitFor(3)
      assert.equal(again.events[0]!.event, 'ready')
      assert.equal(again.events[0]!.id, resumeAt)
      assert.deepEqual(changes(again.events), ['created:b', 'updated:a'])
      const viaQuery = await sse(`/documents/ev3/events?last_event_id=${resumeAt}`)
      await viaQuery.waitFor(3)
      assert.deepEqual(changes(viaQuery.events), ['created:b', 'updated:a'])
    })

    test('an id the log no longer holds, or one from the future, gets a reset event; a malformed one a 400', async () => {
      await upload(f, 'ev4')
      for (let i = 0; i < 3; i++) await call(f, 'POST', '/documents/ev4/annotations', { content: highlightAt(0, i * 20) })
      // The retention window passed for the first two changes.
      await f.app.db.query('delete from annotation_changes where document_id = $1 and seq <= 2', ['ev4'])
      const expired = await sse('/documents/ev4/events', { 'last-event-id': '1' })
      await expired.waitFor(1)
      assert.deepEqual([expired.events[0]!.event, expired.events[0]!.data.reason, expired.events[0]!.id], ['reset', 'history_expired', '3'])
      const future = await sse('/documents/ev4/events', { 'last-event-id': '999' })
      await future.waitFor(1)
      assert.deepEqual([future.events[0]!.event, future.events[0]!.data.reason], ['reset', 'unknown_event_id'])
      assertError(await call(f, 'GET', '/documents/ev4/events?last_event_id=abc'), 400, 'invalid_event_id')
    })

    test('replacing the document\'s file sends reset to every layer\'s viewers', async () => {
      await upload(f, 'ev6')
      const viewers = [await sse('/documents/ev6/events'), await sse('/documents/ev6/layers/x/events')]
      await Promise.all(viewers.map((v) => v.waitFor(1)))
      const res = await request(`${f.url}/api/documents?document_id=ev6&overwrite_existing_document=true`, {
        method: 'POST',
        headers: { ...authHeader(), 'content-type': 'application/pdf' },
        body: makePdf({ pages: [{ text: 'replaced' }] }),
      })
      assert.equal(res.status, 200)
      for (const v of viewers) {
        await v.waitFor(2)
        assert.equal(v.events[1]!.event, 'reset')
      }
    })

    test('closing the server ends open event streams', async () => {
      const g = await startFolio({ db })
      try {
        await upload(g, 'ev5')
        const c = await events(g, '/documents/ev5/events')
        await c.waitFor(1)
        await g.close()
        await c.ended
        assert.equal(g.app.annotations.subscribers, 0)
      } finally {
        await g.storage.drop()
      }
    })
  })
}

describe('annotation events across two nodes sharing one PostgreSQL', { skip: !dbKinds().includes('postgres') }, () => {
  test("viewers on two nodes see each other's changes, all in the same order", async () => {
    const storage = await createStorage('postgres')
    const one = await startFolio({ storage })
    const two = await startFolio({ storage })
    const clients: SseClient[] = []
    try {
      await upload(one, 'shared')
      for (const node of [one, two, one, two]) clients.push(await events(node, '/documents/shared/events'))
      await Promise.all(clients.map((c) => c.waitFor(1)))
      // Writers on both nodes, interleaved and concurrent.
      const writes: Promise<unknown>[] = []
      for (let i = 0; i < 10; i++) {
        const node = i % 2 === 0 ? one : two
        writes.push(call(node, 'POST', '/documents/shared/annotations', { id: `n${i}`, content: highlightAt(0, i * 20) }))
      }
      await Promise.all(writes)
      await call(two, 'PUT', '/documents/shared/annotations/n0', { content: highlightAt(0, 5) })
      await call(one, 'DELETE', '/documents/shared/annotations/n1')
      await Promise.all(clients.map((c) => c.waitFor(13)))
      const reference = clients[0]!.events.map((e) => `${e.id}:${e.event}:${e.data.annotationId ?? ''}`)
      for (const c of clients) assert.deepEqual(c.events.map((e) => `${e.id}:${e.event}:${e.data.annotationId ?? ''}`), reference)
      assert.equal(new Set(changes(clients[0]!.events).filter((x) => x.startsWith('created'))).size, 10)
      assert.deepEqual(changes(clients[0]!.events).slice(-2), ['updated:n0', 'deleted:n1'])
    } finally {
      for (const c of clients) c.close()
      await one.close()
      await two.close()
      await storage.drop()
    }
  })
})
