/**
 * The behaviour every BlobStore must have (tus's shared store suite): run unchanged against each
 * backend. Staged bytes come from a real StagingArea on disk.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { test } from 'node:test'
import { BlobNotFoundError, type BlobStore } from '../../src/storage/blob-store.js'
import { SizeLimitError, StagingArea, EmptyUploadError } from '../../src/storage/staging.js'

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
}
