/**
 * Reading a blob of known size: whole into one buffer, or at random positions through ranged
 * reads. Both sit on BlobStore.get, so they work the same on every backend.
 */
import type { BlobStore } from './blob-store.js'

/** Reads a blob of known size into one buffer of its own (not a slice of Node's shared pool). */
export async function readWholeBlob(blobs: BlobStore, key: string, size: number): Promise<Buffer> {
  const out = Buffer.allocUnsafeSlow(size)
  let at = 0
  for await (const chunk of await blobs.get(key)) {
    const c = chunk as Buffer
    if (at + c.length > size) throw new Error('blob is larger than recorded')
    c.copy(out, at)
    at += c.length
  }
  if (at !== size) throw new Error('blob is shorter than recorded')
  return out
}

/** Random access to a blob through ranged reads (the PDF readers cache 4 KiB blocks on top). */
export function blobRandomReader(blobs: BlobStore, key: string, size: number): { readonly size: number; read(position: number, length: number): Promise<Buffer> } {
  return {
    size,
    async read(position, length) {
      const start = Math.max(0, position)
      const end = Math.min(size, start + Math.max(0, length)) - 1
      if (end < start) return Buffer.alloc(0)
      const chunks: Buffer[] = []
      for await (const chunk of await blobs.get(key, { start, end })) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks)
    },
  }
}
