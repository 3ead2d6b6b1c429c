import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { createLogger } from '../../src/log.js'
import { cacheKey, RenderCache } from '../../src/render/cache.js'

const log = createLogger('silent')
const dirs: string[] = []
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'folio-cache-'))
  dirs.push(d)
  return d
}
async function files(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const shard of await readdir(dir)) out.push(...(await readdir(join(dir, shard))))
  return out.sort()
}
const key = (n: number) => cacheKey(['test', n])
const bytes = (n: number, size = 100) => Buffer.alloc(size, n)

test('an entry is read back byte for byte; an unknown key misses', async () => {
  const cache = new RenderCache(await tempDir(), 1000, log)
  await cache.init()
  await cache.put(key(1), 'png', bytes(1))
  assert.deepEqual((await cache.get(key(1)))?.body, bytes(1))
  assert.equal(await cache.get(key(2)), undefined)
})

test('over the size bound, the least recently used entries are removed from disk', async () => {
  const dir = await tempDir()
  const cache = new RenderCache(dir, 300, log)
  await cache.init()
  await cache.put(key(1), 'png', bytes(1))
  await cache.put(key(2), 'png', bytes(2))
  await cache.put(key(3), 'png', bytes(3))
  await cache.get(key(1)) // 2 is now the least recently used
  await cache.put(key(4), 'png', bytes(4))
  assert.equal(await cache.get(key(2)), undefined)
  for (const n of [1, 3, 4]) assert.ok(await cache.get(key(n)), `entry ${n} kept`)
  assert.equal(cache.sizeBytes, 300)
  assert.deepEqual(await files(dir), [1, 3, 4].map((n) => `${key(n)}.png`).sort())
})

test('a restart finds the entries again, drops temp files, and trims to a smaller bound', async () => {
  const dir = await tempDir()
  const first = new RenderCache(dir, 1000, log)
  await first.init()
  for (const n of [1, 2, 3]) await first.put(key(n), 'png', bytes(n))
  await mkdir(join(dir, 'ab'), { recursive: true })
  await writeFile(join(dir, 'ab', 'half-written.tmp'), 'x')
  const second = new RenderCache(dir, 200, log)
  await second.init()
  assert.equal(second.sizeBytes, 200)
  assert.ok(!(await files(dir)).some((f) => f.endsWith('.tmp')))
})

test('RENDER_CACHE_MAX_BYTES=0 keeps nothing', async () => {
  const dir = await tempDir()
  const cache = new RenderCache(dir, 0, log)
  await cache.init()
  await cache.put(key(1), 'png', bytes(1))
  assert.equal(await cache.get(key(1)), undefined)
  assert.deepEqual(await readdir(dir), [])
})
