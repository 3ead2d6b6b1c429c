import { open } from 'node:fs/promises'
import { fail, overBudget } from './errors.js'

/**
 * Random access to the bytes of a file. `read` returns at most `length` bytes starting at
 * `position`; fewer only when the end of the file is reached.
 */
export interface RandomAccessReader {
  readonly size: number
  read(position: number, length: number): Promise<Buffer>
}

/** A reader over bytes already in memory (tests, small uploads). Returns views, not copies. */
export function bufferReader(buf: Uint8Array): RandomAccessReader {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  return {
    size: bytes.length,
    async read(position, length) {
      const start = Math.min(Math.max(0, position), bytes.length)
      return bytes.subarray(start, Math.min(bytes.length, start + Math.max(0, length)))
    },
  }
}

/** A reader over a file on disk. The size is taken once, at open; call `close` when done. */
export async function openFileReader(path: string): Promise<RandomAccessReader & { close(): Promise<void> }> {
  const handle = await open(path, 'r')
  try {
    const { size } = await handle.stat()
    return {
      size,
      async read(position, length) {
        const start = Math.min(Math.max(0, position), size)
        const want = Math.min(Math.max(0, length), size - start)
        const out = Buffer.allocUnsafe(want)
        let filled = 0
        while (filled < want) {
          const { bytesRead } = await handle.read(out, filled, want - filled, start + filled)
          if (bytesRead === 0) break // the file shrank under us; the caller sees a short read
          filled += bytesRead
        }
        return filled === want ? out : out.subarray(0, filled)
      },
      close: () => handle.close(),
    }
  } catch (error) {
    await handle.close()
    throw error
  }
}

/**
 * Thrown around an error from the caller's reader so that `inspectPdf` can hand I/O failures
 * back unchanged (they are not a property of the PDF and must not become a 422).
 */
export class ReaderFailure {
  constructor(readonly error: unknown) {}
}

const BLOCK_SIZE = 4096
const MAX_BLOCKS = 256 // 1 MiB of cache: xref entries and neighbouring page objects hit it
const DIRECT_READ_THRESHOLD = 64 * 1024

/**
 * The inspector's view of the file: exact-length reads (a short read inside the file is
 * `truncated`), small reads served from an LRU of 4 KiB blocks, large ones passed through.
 */
export class FileWindow {
  readonly size: number
  /** Bytes the lexer may still tokenise in this operation (see Limits.maxLexedBytes). */
  lexBudget = Number.POSITIVE_INFINITY
  private lexed = 0
  private readonly blocks = new Map<number, Buffer>()

  constructor(private readonly reader: RandomAccessReader) {
    this.size = reader.size
  }

  /** Counts tokenised bytes; past the budget the operation is `too_complex` (`bytes_lexed`). */
  charge(bytes: number): void {
    this.lexed += bytes
    if (this.lexed > this.lexBudget) overBudget('bytes_lexed', `more than ${this.lexBudget} bytes of PDF syntax read`)
  }

  /** Reads `[position, position + length)` clamped to the end of the file. */
  async read(position: number, length: number): Promise<Buffer> {
    const start = Math.min(Math.max(0, position), this.size)
    const end = Math.min(this.size, start + Math.max(0, length))
    if (end <= start) return Buffer.alloc(0)
    if (end - start > DIRECT_READ_THRESHOLD) return this.readDirect(start, end - start)
    const first = Math.floor(start / BLOCK_SIZE)
    const last = Math.floor((end - 1) / BLOCK_SIZE)
    const parts: Buffer[] = []
    for (let index = first; index <= last; index++) parts.push(await this.block(index))
    const joined = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
    const offset = start - first * BLOCK_SIZE
    return joined.subarray(offset, offset + (end - start))
  }

  private async block(index: number): Promise<Buffer> {
    const hit = this.blocks.get(index)
    if (hit) {
      this.blocks.delete(index) // re-insert to keep Map order as recency order
      this.blocks.set(index, hit)
      return hit
    }
    const start = index * BLOCK_SIZE
    const data = await this.readDirect(start, Math.min(BLOCK_SIZE, this.size - start))
    this.blocks.set(index, data)
    if (this.blocks.size > MAX_BLOCKS) this.blocks.delete(this.blocks.keys().next().value!)
    return data
  }

  private async readDirect(position: number, length: number): Promise<Buffer> {
    let data: Buffer
    try {
      data = await this.reader.read(position, length)
    } catch (error) {
      throw new ReaderFailure(error)
    }
    if (data.length < length) fail('truncated', `short read at ${position}: the file is shorter than its declared size`)
    return data.length === length ? data : data.subarray(0, length)
  }
}
