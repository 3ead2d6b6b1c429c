/**
 * `built-in` backend: blob bytes inside PostgreSQL, in the `blob_chunks` table
 * (migration 0060), as Document Engine's built-in asset storage does. Several nodes sharing one
 * database share their files with nothing else.
 *
 * - put: the staged file is read one chunk at a time and each chunk inserted, all inside the
 *   caller's transaction when one is given (the documents service passes the one that writes the
 *   document row, HOUSE-STYLE §5), else inside a transaction of its own: a blob is all or nothing.
 * - get: a stream that asks for one chunk per read, trimming the first and last chunk of a range
 *   on the server (`substring`), so memory holds at most one chunk whatever the file size.
 * SQL lives here, not in a room's store: this module is infrastructure with no Folio words.
 */
import { open } from 'node:fs/promises'
import { Readable } from 'node:stream'
import type { Db, Queryable } from '../db/db.js'
import { assertBlobKey, BlobNotFoundError, type BlobStore, type BlobTx, type ByteRange } from './blob-store.js'
import type { StagedFile } from './staging.js'

/** 1 MiB: a few hundred round trips for a large file, and a small, flat memory footprint. */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024

type ChunkRow = { seq: number; start: number; data: Buffer }

export class BuiltInBlobStore implements BlobStore {
  readonly type = 'built-in' as const

  constructor(private readonly db: Db, private readonly chunkBytes = DEFAULT_CHUNK_BYTES) {}

  async put(key: string, staged: StagedFile, ctx?: BlobTx): Promise<void> {
    assertBlobKey(key)
    if (staged.sha256 !== key) throw new Error('staged bytes do not match the key')
    const write = async (tx: Queryable) => {
      // Idempotent: same key, same bytes. A concurrent put of the same key conflicts on the
      // primary key of chunk 0 and waits for the other transaction (then writes nothing).
      const first = await tx.query('select 1 from blob_chunks where key = $1 and seq = 0', [key])
      if (first.length > 0) return
      const fh = await open(staged.path, 'r')
      try {
        const buf = Buffer.allocUnsafe(this.chunkBytes)
        let start = 0
        for (let seq = 0; ; seq++) {
          const { bytesRead } = await fh.read(buf, 0, this.chunkBytes, start)
          if (bytesRead === 0) break
          // The buffer is reused for the next chunk only after this insert has completed.
          const inserted = await tx.query(
            'insert into blob_chunks (key, seq, start, data) values ($1, $2, $3, $4) on conflict do nothing returning seq',
            [key, seq, start, buf.subarray(0, bytesRead)],
          )
          if (inserted.length === 0) return // another transaction wrote this blob meanwhile
          start += bytesRead
        }
        if (start !== staged.size) throw new Error('staged file changed while being stored')
      } finally {
        await fh.close()
      }
    }
    if (ctx?.tx) await write(ctx.tx)
    else await this.db.transaction(write)
  }

  async get(key: string, range?: ByteRange, ctx?: BlobTx): Promise<Readable> {
    assertBlobKey(key)
    const db = ctx?.tx ?? this.db
    const from = range?.start ?? 0
    // The chunk holding byte `from`: the last one starting at or before it.
    const first = await db.query<{ seq: number; start: number }>(
      'select seq, start from blob_chunks where key = $1 and start <= $2 order by seq desc limit 1',
      [key, from],
    )
    if (first.length === 0) throw new BlobNotFoundError(key)
    const end = range?.end // inclusive; undefined → to the end
    let seq = first[0]!.seq
    let pos = from
    return new Readable({
      highWaterMark: 1, // one chunk buffered ahead at most
      objectMode: false,
      async read() {
        try {
          if (end !== undefined && pos > end) return void this.push(null)
          // Offset and length inside this chunk, computed by the server from `start`.
          const want = end === undefined ? null : Math.min(end - pos + 1, 0x7fffffff)
          const rows = await db.query<ChunkRow>(
            `select seq, start,
                    substring(data from ($3::bigint - start + 1)::int for coalesce($4::int, octet_length(data))) as data
               from blob_chunks where key = $1 and seq = $2`,
            [key, seq, pos, want],
          )
          const row = rows[0]
          if (!row || row.data.length === 0) return void this.push(null)
          seq++
          pos += row.data.length
          this.push(row.data)
        } catch (e) {
          this.destroy(e as Error)
        }
      },
    })
  }

  async exists(key: string, ctx?: BlobTx): Promise<boolean> {
    assertBlobKey(key)
    const rows = await (ctx?.tx ?? this.db).query('select 1 from blob_chunks where key = $1 and seq = 0', [key])
    return rows.length > 0
  }

  async delete(key: string, ctx?: BlobTx): Promise<void> {
    assertBlobKey(key)
    await (ctx?.tx ?? this.db).query('delete from blob_chunks where key = $1', [key])
  }

  async check(): Promise<void> {
    // The table exists (migration 0060) and the database answers.
    await this.db.query('select 1 from blob_chunks limit 1')
  }
}
