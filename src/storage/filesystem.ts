/**
 * Filesystem backend (the default): blobs under DATA_DIR/blobs/ab/cd/<sha256>. A put is a
 * rename of the fsynced staged file (same file system) followed by an fsync of the folder, so a
 * crash leaves either no file or the whole file under the key, never a part.
 */
import { access, mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Readable } from 'node:stream'
import { assertBlobKey, BlobNotFoundError, type BlobStore, type ByteRange } from './blob-store.js'
import type { StagedFile } from './staging.js'

export class FilesystemBlobStore implements BlobStore {
  readonly type = 'filesystem' as const

  constructor(readonly root: string) {}

  pathOf(key: string): string {
    assertBlobKey(key)
    return join(this.root, key.slice(0, 2), key.slice(2, 4), key)
  }

  async put(key: string, staged: StagedFile): Promise<void> {
    if (staged.sha256 !== key) throw new Error('staged bytes do not match the key')
    const target = this.pathOf(key)
    await mkdir(dirname(target), { recursive: true })
    await rename(staged.path, target)
    await fsyncDir(dirname(target))
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(key)
    const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'ENOENT' ? new BlobNotFoundError(key) : e
    })
    return fh.createReadStream({ start: range?.start, end: range?.end, autoClose: true })
  }

  async exists(key: string): Promise<boolean> {
    try {
      await access(this.pathOf(key))
      return true
    } catch {
      return false
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true })
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true })
    const probe = join(this.root, '.health')
    await writeFile(probe, String(Date.now()))
    await stat(probe)
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}
