/**
 * Crash safety of uploads (issue #2): a real Folio process is killed with SIGKILL while uploads
 * are streaming and committing. After a restart every acknowledged upload is readable and
 * byte-identical, every listed document has its whole blob, and no partial file is left.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { test } from 'node:test'
import { makePdf } from '../../helpers/pdf-fixtures.js'
import { request } from '../../helpers/http.js'
import { authHeader, createStorage, dbKinds, spawnFolio, storageEnv, TEST_API_TOKEN } from '../../helpers/start-folio.js'

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** Sends half of `body`, then waits forever (until the server dies). */
function slowUpload(url: string, body: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest(`${url}/api/documents`, {
      method: 'POST',
      headers: { ...authHeader(), 'content-type': 'application/pdf', 'content-length': String(body.length) },
    })
    req.on('error', () => resolve())
    req.on('response', () => resolve())
    req.write(body.subarray(0, body.length >> 1))
  })
}

for (const db of dbKinds()) {
  test(`kill -9 during uploads loses no acknowledged document and leaves no partial one (${db})`, async () => {
    const storage = await createStorage(db)
    const env = { ...storageEnv(storage), API_AUTH_TOKEN: TEST_API_TOKEN, LOG_LEVEL: 'warn' }
    let proc = await spawnFolio(env)
    try {
      const acknowledged = new Map<string, string>() // id → sha256
      const pdfs = Array.from({ length: 24 }, (_, i) =>
        makePdf({ pages: Array.from({ length: 1 + (i % 4) }, () => ({ width: 300 + i, height: 400, text: `doc ${i} `.repeat(2000) })) }),
      )
      // A few uploads stall half-way, so the kill lands mid-stream for them.
      const big = Buffer.concat([makePdf({ pages: [{ width: 10, height: 10 }] }), Buffer.alloc(2_000_000, 0x20)])
      const slow = [slowUpload(proc.url, big), slowUpload(proc.url, big), slowUpload(proc.url, big)]
      let killed = false
      const uploads = pdfs.map(async (pdf, i) => {
        await new Promise((r) => setTimeout(r, i * 15))
        try {
          const res = await request(`${proc.url}/api/documents`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: pdf })
          if (res.status === 200) acknowledged.set(res.body.data.document_id, sha256(pdf))
          if (acknowledged.size >= 6 && !killed) {
            killed = true
            proc.child.kill('SIGKILL')
          }
        } catch {
          // the server died under this request: not acknowledged
        }
      })
      await Promise.all(uploads)
      if (!killed) proc.child.kill('SIGKILL')
      await proc.stop()
      await Promise.all(slow)
      assert.ok(acknowledged.size >= 6, `some uploads were acknowledged before the kill (${acknowledged.size})`)

      proc = await spawnFolio(env)
      const list = await request(`${proc.url}/api/documents?page_size=1000`, { headers: authHeader() })
      assert.equal(list.status, 200, list.text)
      const listed = new Map<string, string>(list.body.data.map((d: any) => [d.id, d.sourcePdfSha256]))
      for (const [id, sum] of acknowledged) assert.equal(listed.get(id), sum, `acknowledged ${id} is listed with its hash`)
      for (const [id, sum] of listed) {
        const dl = await fetch(`${proc.url}/api/documents/${id}/pdf?source=true`, { headers: authHeader() })
        assert.equal(dl.status, 200, `document ${id} has its blob`)
        assert.equal(sha256(new Uint8Array(await dl.arrayBuffer())), sum, `document ${id} is whole`)
      }
      assert.deepEqual((await readdir(join(storage.dataDir, 'tmp'))).filter((n) => n.endsWith('.part')), [], 'staged leftovers were cleared at start')
    } finally {
      await proc.stop('SIGKILL')
      await storage.drop()
    }
  })
}
