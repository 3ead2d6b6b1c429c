/**
 * The node registry and GET /api/nodes (issue #9): a node lists itself while it runs, reports a
 * silent node as stale, forgets one silent for too long, and leaves the registry when it stops.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, test } from 'node:test'
import { assertError, request } from '../helpers/http.js'
import { authHeader, createStorage, dbKinds, startFolio } from '../helpers/start-folio.js'

const version = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')).version

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

for (const db of dbKinds()) {
  describe(`node registry (${db})`, () => {
    test('GET /api/nodes needs the API token and lists the running node as up and current', async () => {
      const f = await startFolio({ db })
      try {
        assertError(await request(`${f.url}/api/nodes`), 401, 'unauthorized')
        const res = await request(`${f.url}/api/nodes`, { headers: authHeader() })
        assert.equal(res.status, 200, res.text)
        assert.equal(res.body.data.length, 1)
        const n = res.body.data[0]
        assert.equal(n.id, f.app.nodes.id)
        assert.equal(n.version, version)
        assert.equal(n.address, f.url)
        assert.equal(n.status, 'up')
        assert.equal(n.current, true)
        assert.ok(Date.parse(n.startedAt) <= Date.parse(n.lastSeenAt))
      } finally {
        await f.destroy()
      }
    })

    test('a node silent for three beats is stale, one silent past the limit is forgotten, and a stopped node leaves', async () => {
      const storage = await createStorage(db)
      const app = { nodes: { heartbeatMs: 100, forgetAfterMs: 60_000 } }
      let f = await startFolio({ storage, app })
      try {
        // Two nodes that died without leaving: one 5 s ago, one 2 minutes ago.
        await f.app.db.query(`insert into nodes (id, version, address, started_at, last_seen_at) values
          ('dead-recent', '0.0.1', 'http://gone-1:5000', now() - interval '1 hour', now() - interval '5 seconds'),
          ('dead-long', '0.0.1', 'http://gone-2:5000', now() - interval '1 hour', now() - interval '2 minutes')`)
        const list = async () => (await request(`${f.url}/api/nodes`, { headers: authHeader() })).body.data as any[]
        const after = await until('the long-dead node to be forgotten', async () => {
          const l = await list()
          return l.some((n) => n.id === 'dead-long') ? undefined : l
        })
        assert.deepEqual(after.map((n) => [n.id, n.status]).sort(), [[f.app.nodes.id, 'up'], ['dead-recent', 'stale']].sort())
        const beforeBeat = after.find((n) => n.id === f.app.nodes.id).lastSeenAt
        await until('a heartbeat', async () => ((await list()).find((n) => n.id === f.app.nodes.id).lastSeenAt > beforeBeat ? true : undefined))

        const oldId = f.app.nodes.id
        f = await f.restart()
        const ids = (await list()).map((n) => n.id)
        assert.ok(!ids.includes(oldId), 'the cleanly stopped node removed its row')
        assert.ok(ids.includes(f.app.nodes.id))
      } finally {
        await f.destroy()
      }
    })
  })
}
