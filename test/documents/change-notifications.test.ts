/**
 * Cross-node cache invalidation: every write of a document row announces its id on
 * `folio_documents` (delivered at commit to every node), and a node that hears it forgets what
 * it memoised about the document at once, instead of serving it until the memo's time to live.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { DOCUMENTS_CHANNEL } from '../../src/documents/store.js'
import { request } from '../helpers/http.js'
import { makePdf } from '../helpers/pdf-fixtures.js'
import { authHeader, startFolio, type TestFolio } from '../helpers/start-folio.js'

let f: TestFolio
before(async () => {
  f = await startFolio()
})
after(async () => {
  await f.destroy()
})

/** Listens now; the promise inside resolves with the next payload that satisfies `want`. */
async function nextNotification(want: (payload: string) => boolean): Promise<{ heard: Promise<string> }> {
  let resolve!: (p: string) => void
  const heard = new Promise<string>((r) => (resolve = r))
  const unlisten = await f.app.db.listen(DOCUMENTS_CHANNEL, (payload) => {
    if (want(payload)) resolve(payload)
  })
  return { heard: heard.finally(() => unlisten()) }
}

test('uploads, renames and deletes of a document announce its id on folio_documents', async () => {
  const id = 'notified-1'
  let { heard } = await nextNotification((p) => p === id)
  const up = await request(`${f.url}/api/documents?document_id=${id}`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: makePdf() })
  assert.equal(up.status, 200)
  assert.equal(await heard, id)
  ;({ heard } = await nextNotification((p) => p === id))
  const renamed = await request(`${f.url}/api/documents/${id}/properties`, { method: 'PATCH', headers: authHeader(), json: { title: 'new' } })
  assert.equal(renamed.status, 200)
  assert.equal(await heard, id)
  ;({ heard } = await nextNotification((p) => p === id))
  assert.equal((await request(`${f.url}/api/documents/${id}`, { method: 'DELETE', headers: authHeader() })).status, 200)
  assert.equal(await heard, id)
})

test("another node's change notification makes this node forget its memo of the document at once", async () => {
  const id = 'notified-2'
  const up = await request(`${f.url}/api/documents?document_id=${id}&title=before`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: makePdf() })
  assert.equal(up.status, 200)
  const info = async () => (await request(`${f.url}/api/documents/${id}/document_info`, { headers: authHeader() })).body.data.title
  assert.equal(await info(), 'before') // memoised now
  // Another node's rename: the row changes behind this node's back, then its notification arrives.
  await f.app.db.query('update documents set title = $2 where id = $1', [id, 'after'])
  const { heard } = await nextNotification((p) => p === id)
  await f.app.db.query('select pg_notify($1, $2)', [DOCUMENTS_CHANNEL, id])
  await heard // the app's listener was registered first, so it has run
  assert.equal(await info(), 'after')
})
