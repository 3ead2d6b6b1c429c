import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LoadingCache, TtlMap } from '../../src/tools/ttl-map.js'

test('a value is reused until its time to live runs out', async () => {
  let clock = 0
  let loads = 0
  const cache = new LoadingCache<number>(1000, 10, () => clock)
  const load = async () => ++loads
  assert.equal(await cache.get('a', load), 1)
  clock = 999
  assert.equal(await cache.get('a', load), 1)
  clock = 1000
  assert.equal(await cache.get('a', load), 2)
})

test("this node's write invalidates at once, and a read that raced with it is not kept", async () => {
  let value = 'old'
  const cache = new LoadingCache<string>(60_000, 10)
  assert.equal(await cache.get('d', async () => value), 'old')
  value = 'new'
  cache.invalidate('d')
  assert.equal(await cache.get('d', async () => value), 'new')

  // A load that started before an invalidation returns its result but does not store it.
  let release!: () => void
  const slow = cache.get('e', () => new Promise<string>((r) => (release = () => r('stale'))))
  cache.invalidate('e')
  release()
  assert.equal(await slow, 'stale')
  assert.equal(await cache.get('e', async () => 'fresh'), 'fresh')
})

test('the number of entries is bounded', async () => {
  let loads = 0
  const cache = new LoadingCache<number>(60_000, 2)
  for (const id of ['a', 'b', 'c']) await cache.get(id, async () => ++loads)
  assert.equal(await cache.get('a', async () => ++loads), 4, 'the oldest entry was dropped')
})

test('TtlMap: the least recently used entry goes first, and an entry expires at its own time', () => {
  let clock = 0
  const map = new TtlMap<string, number>({ maxEntries: 2, ttlMs: 100, now: () => clock })
  map.set('a', 1)
  map.set('b', 2)
  assert.equal(map.get('a'), 1) // a is now the most recently used
  map.set('c', 3)
  assert.equal(map.get('b'), undefined, 'b was the least recently used')
  assert.equal(map.get('a'), 1)
  map.set('d', 4, 10)
  clock = 10
  assert.equal(map.get('d'), undefined, 'expired at its own time')
  clock = 100
  assert.equal(map.get('a'), undefined, 'expired after the default time to live')
  assert.equal(new TtlMap<string, number>({ maxEntries: 0 }).size, 0)
})
