/**
 * The cluster bus (db/notify.ts) on both databases, with a toy topic: ordered incremental
 * applies, reloads on gaps and oversized changes, healing of a lost notification by the
 * reconcile, and renewal of a subscription the driver lost (simulated by a wrapper that stops
 * delivering, as a failed re-LISTEN would).
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import type { Db, Queryable } from '../../src/db/db.js'
import { createClusterBus, encodeChange, type ClusterBus } from '../../src/db/notify.js'
import { openPglite } from '../../src/db/pglite.js'
import { connectPostgres } from '../../src/db/postgres.js'
import { waitFor } from '../helpers/secret-fixtures.js'
import { createStorage, dbKinds, type DbKind } from '../helpers/start-folio.js'

const quietLog = () => {
  const lines: string[] = []
  return { lines, warn: (_o: object, m: string) => void lines.push(m), info: (_o: object, m: string) => void lines.push(m) }
}

/** A node's view of the toy topic: the set of values in table bus_items. */
function node(db: Db, opts: { reconcileMs?: number; incremental?: boolean } = {}) {
  const log = quietLog()
  const bus = createClusterBus(db, { log, reconcileMs: opts.reconcileMs ?? 100 })
  const view = new Set<string>()
  let loads = 0
  bus.register<string>('items', {
    async load(q: Queryable) {
      loads++
      const rows = await q.query<{ v: string }>('select v from bus_items')
      view.clear()
      for (const r of rows) view.add(r.v)
    },
    ...(opts.incremental === false ? {} : { apply: (ops: string[]) => ops.forEach((v) => view.add(v)) }),
  })
  const add = (...vs: string[]) => bus.change<void, string>('items', async (tx) => {
    for (const v of vs) await tx.query('insert into bus_items (v) values ($1)', [v])
    return { result: undefined, ops: vs }
  })
  return { bus, view, log, add, loads: () => loads }
}

/** Wraps a Db so that the test can make its subscriptions go silent, as a lost LISTEN would. */
function withDroppableListen(db: Db): Db & { silence(): void } {
  let silent = false
  return {
    ...db,
    listen: (channel, onPayload, onListen) => {
      silent = false
      return db.listen(channel, (p) => { if (!silent) onPayload(p) }, onListen)
    },
    silence: () => void (silent = true),
  }
}

async function openDb(kind: DbKind): Promise<{ dbs: Db[]; close(): Promise<void> }> {
  const storage = await createStorage(kind)
  const dbs: Db[] = []
  if (kind === 'pglite') {
    // One embedded database; two buses on it stand for two nodes.
    const db = await openPglite(join(storage.dataDir, 'pglite'))
    dbs.push(db, db)
  } else {
    dbs.push(connectPostgres({ url: storage.databaseUrl }, { max: 2 }), connectPostgres({ url: storage.databaseUrl }, { max: 2 }))
  }
  await dbs[0]!.query('create table bus_items (v text primary key)')
  return {
    dbs,
    async close() {
      for (const d of new Set(dbs)) await d.close()
      await storage.drop()
    },
  }
}

for (const kind of dbKinds()) {
  describe(`cluster bus (${kind})`, () => {
    test('a change is applied on the node that made it before change() resolves, and on the other node by its notification', async () => {
      const { dbs, close } = await openDb(kind)
      // No reconcile during the test: every change must arrive by its notification.
      const a = node(dbs[0]!, { reconcileMs: 60_000 })
      const b = node(dbs[1]!, { reconcileMs: 60_000 })
      const buses: ClusterBus[] = [a.bus, b.bus]
      try {
        await a.bus.start()
        await b.bus.start()
        await a.add('x')
        assert.ok(a.view.has('x'), 'read your own write')
        await waitFor(() => b.view.has('x'))
        await b.add('y', 'z')
        await waitFor(() => a.view.has('z'))
        assert.equal(a.bus.loadedVersion('items'), 2)
        assert.equal(b.bus.loadedVersion('items'), 2)
        assert.equal(a.loads(), 1, 'incremental: no reload after the first load')
      } finally {
        for (const bus of buses) await bus.close()
        await close()
      }
    })

    test('a change too large for one NOTIFY reaches the other node in parts, as ops, without a reload', async () => {
      const { dbs, close } = await openDb(kind)
      // No reconcile during the test: the change must arrive by its notifications.
      const a = node(dbs[0]!, { reconcileMs: 60_000 })
      const b = node(dbs[1]!, { reconcileMs: 60_000 })
      try {
        await a.bus.start()
        await b.bus.start()
        const many = Array.from({ length: 1000 }, (_, i) => `item-${i}-${'p'.repeat(20)}`)
        assert.ok(encodeChange('items', 1, many).length > 1, 'the change needs several notifications')
        await a.add(...many)
        await waitFor(() => b.view.size === 1000)
        await a.add('after')
        await waitFor(() => b.view.has('after'))
        assert.equal(b.loads(), 1, 'no reload of the whole topic on the other node')
        assert.equal(b.bus.loadedVersion('items'), 2)
      } finally {
        await a.bus.close()
        await b.bus.close()
        await close()
      }
    })

    test('a change too large even for its parts is announced without its ops and reloaded', async () => {
      const { dbs, close } = await openDb(kind)
      const a = node(dbs[0]!)
      const b = node(dbs[1]!)
      try {
        await a.bus.start()
        await b.bus.start()
        const huge = `item-${'p'.repeat(7500)}` // one op over a NOTIFY's size
        await a.add(huge)
        await waitFor(() => b.view.has(huge))
        assert.ok(b.loads() >= 2, 'the other node reloaded')
      } finally {
        await a.bus.close()
        await b.bus.close()
        await close()
      }
    })

    test('a change committed without a notification is found by the reconcile', async () => {
      const { dbs, close } = await openDb(kind)
      const a = node(dbs[0]!, { reconcileMs: 50 })
      try {
        await a.bus.start()
        await dbs[1]!.transaction(async (tx) => {
          await tx.query("insert into bus_items (v) values ('silent')")
          await tx.query("insert into cluster_changes (topic, version) values ('items', 1) on conflict (topic) do update set version = cluster_changes.version + 1")
        })
        await waitFor(() => a.view.has('silent'))
        assert.equal(a.bus.loadedVersion('items'), 1)
      } finally {
        await a.bus.close()
        await close()
      }
    })

    test('a subscription that stopped delivering is detected by the ping and renewed', async () => {
      const { dbs, close } = await openDb(kind)
      const droppable = withDroppableListen(dbs[0]!)
      // A slow reconcile (every 200 ms; a ping every 10 ticks) so that delivery by notification is visible.
      const a = node(droppable, { reconcileMs: 200 })
      const b = node(dbs[1]!)
      try {
        await a.bus.start()
        await b.bus.start()
        droppable.silence()
        await b.add('while-silent')
        await waitFor(() => a.view.has('while-silent'), 5000) // the reconcile covers meanwhile
        await waitFor(() => a.log.lines.some((l) => l.includes('subscribing again')), 10_000, 20)
        const t0 = performance.now()
        await b.add('after-renewal')
        await waitFor(() => a.view.has('after-renewal'))
        assert.ok(performance.now() - t0 < 1000)
      } finally {
        await a.bus.close()
        await b.bus.close()
        await close()
      }
    })
  })
}
