/**
 * The behaviour every BlobStore must have (tus's shared store suite): run unchanged against each
 * backend. Staged bytes come from a real StagingArea on disk.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { buffer, text } from 'node:stream/consumers'
import { test } from 'node:test'
import { BlobNotFoundError, type BlobStore } from '../../src/storage/blob-store.js'
import { SizeLimitError, StagingArea, EmptyUploadError } from '../../src/storage/staging.js'

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** Stages `bytes` and puts them under their hash; returns the key. */
async function putBytes(store: BlobStore, staging: StagingArea, bytes: Buffer): Promise<string> {
  const staged = await staging.stage(Readable.from([bytes]), { maxBytes: bytes.length })
  try {
    await store.put(staged.sha256, staged)
    return staged.sha256
  } finally {
    await staged.discard()
  }
}

/** `count` deterministic pseudo-random blocks of 64 KiB, generated lazily (no big buffer). */
function* pseudoRandomBlocks(seed: string, count: number): Generator<Buffer> {
  let block = createHash('sha512').update(seed).digest()
  for (let i = 0; i < count; i++) {
    const parts: Buffer[] = []
    for (let j = 0; j < 1024; j++) {
      block = createHash('sha512').update(block).digest()
      parts.push(block)
    }
    yield Buffer.concat(parts)
  }
}

export function blobStoreContract(name: string, make: () => Promise<{ store: BlobStore; staging: StagingArea; cleanup(): Promise<void> }>) {
  test(`${name}: put, get, ranged get, exists, idempotent put and delete`, async () => {
    const { store, staging, cleanup } = await make()
    try {
      const bytes = Buffer.from('%PDF-1.7 hello blob ' + randomBytes(8).toString('hex'))
      const key = createHash('sha256').update(bytes).digest('hex')
      assert.equal(await store.exists(key), false)
      await assert.rejects(store.get(key), BlobNotFoundError)
      const staged = await staging.stage(Readable.from([bytes]), { maxBytes: 1000 })
      assert.equal(staged.sha256, key)
      assert.equal(staged.size, bytes.length)
      await store.put(key, staged)
      assert.equal(await store.exists(key), true)
      assert.equal(await text(await store.get(key)), bytes.toString())
      assert.equal(await text(await store.get(key, { start: 0, end: 7 })), '%PDF-1.7')
      assert.equal(await text(await store.get(key, { start: 9, end: 13 })), 'hello')
      const again = await staging.stage(Readable.from([bytes]), { maxBytes: 1000 })
      await store.put(key, again)
      await again.discard()
      assert.equal(await text(await store.get(key)), bytes.toString())
      await store.delete(key)
      assert.equal(await store.exists(key), false)
      await store.delete(key) // missing is not an error
      await store.check()
    } finally {
      await cleanup()
    }
  })

  test(`${name}: staging refuses more than the limit and empty input, leaving nothing`, async () => {
    const { staging, cleanup } = await make()
    try {
      await assert.rejects(staging.stage(Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), { maxBytes: 1000 }), SizeLimitError)
      await assert.rejects(staging.stage(Readable.from([]), { maxBytes: 1000 }), EmptyUploadError)
      const { readdir } = await import('node:fs/promises')
      assert.deepEqual(await readdir(staging.dir), [])
    } finally {
      await cleanup()
    }
  })

  test(`${name}: a key that is not a sha256 is refused before it reaches the backend`, async () => {
    const { store, cleanup } = await make()
    try {
      for (const bad of ['../../etc/passwd', 'ABC', '', 'a'.repeat(64) + '/x']) {
        await assert.rejects(store.exists(bad).then((v) => { if (!v) throw new Error('refused') }))
        await assert.rejects(store.get(bad))
      }
    } finally {
      await cleanup()
    }
  })

  test(`${name}: ranged reads return exactly the requested bytes, across internal boundaries`, async () => {
    const { store, staging, cleanup } = await make()
    try {
      // 300 KiB + 7: crosses the 64 KiB chunks the built-in test store uses, and ends oddly.
      const bytes = randomBytes(300 * 1024 + 7)
      const key = await putBytes(store, staging, bytes)
      const K = 64 * 1024
      const ranges = [
        [0, 0], [0, K - 1], [K - 1, K], [K - 3, 3 * K + 5], [K, 2 * K - 1], [100, 250_000],
        [bytes.length - 1, bytes.length - 1], [bytes.length - 10, bytes.length - 1], [0, bytes.length - 1],
      ] as const
      for (const [start, end] of ranges) {
        const got = await buffer(await store.get(key, { start, end }))
        assert.equal(got.length, end - start + 1, `length of ${start}-${end}`)
        assert.ok(got.equals(bytes.subarray(start, end + 1)), `bytes of ${start}-${end}`)
      }
      assert.ok((await buffer(await store.get(key))).equals(bytes), 'whole blob')
      await store.delete(key)
    } finally {
      await cleanup()
    }
  })

  test(`${name}: a large blob streams in and out whole (24 MiB, never held in one buffer)`, async () => {
    const { store, staging, cleanup } = await make()
    try {
      const blocks = 384 // × 64 KiB = 24 MiB
      const staged = await staging.stage(Readable.from(pseudoRandomBlocks(name, blocks)), { maxBytes: 64 * 1024 * 1024 })
      try {
        assert.equal(staged.size, blocks * 64 * 1024)
        await store.put(staged.sha256, staged)
      } finally {
        await staged.discard()
      }
      const hash = createHash('sha256')
      let size = 0
      for await (const chunk of await store.get(staged.sha256)) {
        hash.update(chunk as Buffer)
        size += (chunk as Buffer).length
      }
      assert.equal(size, staged.size)
      assert.equal(hash.digest('hex'), staged.sha256)
      const tail = await buffer(await store.get(staged.sha256, { start: staged.size - 100, end: staged.size - 1 }))
      assert.equal(tail.length, 100)
      await store.delete(staged.sha256)
      assert.equal(await store.exists(staged.sha256), false)
    } finally {
      await cleanup()
    }
  })

  test(`${name}: concurrent puts of the same and of different blobs all end whole`, async () => {
    const { store, staging, cleanup } = await make()
    try {
      const shared = randomBytes(200_000)
      const distinct = Array.from({ length: 6 }, () => randomBytes(150_000 + Math.floor(Math.random() * 1000)))
      const keys = await Promise.all([
        ...Array.from({ length: 6 }, () => putBytes(store, staging, shared)),
        ...distinct.map((b) => putBytes(store, staging, b)),
      ])
      assert.equal(new Set(keys.slice(0, 6)).size, 1)
      for (const [bytes, key] of [[shared, keys[0]!], ...distinct.map((b, i) => [b, keys[6 + i]!] as const)] as const) {
        assert.equal(key, sha256(bytes))
        assert.ok((await buffer(await store.get(key))).equals(bytes), `blob ${key.slice(0, 8)} is whole`)
      }
      // Reads while other blobs are deleted and written.
      const reads = keys.slice(6).map(async (k, i) => (await buffer(await store.get(k))).equals(distinct[i]!))
      await Promise.all([store.delete(keys[0]!), putBytes(store, staging, randomBytes(1000))])
      assert.deepEqual(await Promise.all(reads), distinct.map(() => true))
      assert.equal(await store.exists(keys[0]!), false)
      await assert.rejects(store.get(keys[0]!), BlobNotFoundError)
    } finally {
      await cleanup()
    }
  })
}
