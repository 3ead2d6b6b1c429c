/**
 * One node of three killed mid-load (issue #9): three Folio processes on one PostgreSQL and one
 * S3-protocol server take a mixed load (uploads, downloads checked by hash, listings, page info)
 * spread over the nodes as a load balancer would; one node gets SIGKILL a third of the way in.
 * The client stops routing to it at that moment (an ideal balancer), so the only tolerated
 * failures are the requests that node had in flight. The other two must serve everything, and
 * every acknowledged upload must be readable from both, byte-identical.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { request } from '../helpers/http.js'
import { makePdf } from '../helpers/pdf-fixtures.js'
import { startS3Server, type TestS3 } from '../helpers/s3-server.js'
import { authHeader, createStorage, dbKinds, spawnFolio, storageEnv, TEST_API_TOKEN, type FolioProcess } from '../helpers/start-folio.js'

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const TOTAL_OPS = 300
const WORKERS = 6
const KILL_AT = 100
const VICTIM = 1

let s3: TestS3
before(async () => {
  s3 = await startS3Server()
})
after(async () => {
  await s3.stop()
})

test('with one of three nodes killed mid-load, the others serve every request and no acknowledged upload is lost',
  { skip: !dbKinds().includes('postgres') && 'no PostgreSQL' }, async (t) => {
    const storage = await createStorage('postgres')
    const dirs = await Promise.all([0, 1, 2].map(() => mkdtemp(join(storage.dataDir, 'node-'))))
    const procs: FolioProcess[] = []
    try {
      for (const dir of dirs) {
        procs.push(await spawnFolio({ ...storageEnv(storage), DATA_DIR: dir, API_AUTH_TOKEN: TEST_API_TOKEN, LOG_LEVEL: 'warn', ...s3.env }))
      }
      const alive = [true, true, true]
      const served = [0, 0, 0]
      const survivorErrors: string[] = []
      let victimInFlightErrors = 0
      const acknowledged = new Map<string, string>() // id → sha256
      let issued = 0
      let done = 0

      const pickNode = (i: number) => {
        const up = [0, 1, 2].filter((n) => alive[n])
        return up[i % up.length]!
      }
      async function op(i: number): Promise<void> {
        const node = pickNode(i)
        const url = procs[node]!.url
        try {
          const kind = acknowledged.size < 3 ? 0 : i % 4
          if (kind === 0) {
            const pdf = makePdf({ pages: [{ width: 100 + (i % 50), height: 100, text: `load ${i} `.repeat(200) }] })
            const res = await request(`${url}/api/documents`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: pdf })
            if (res.status !== 200) throw new Error(`upload ${res.status} ${res.text}`)
            acknowledged.set(res.body.data.document_id, sha256(pdf))
          } else if (kind === 1 || kind === 2) {
            const ids = [...acknowledged.keys()]
            const id = ids[i % ids.length]!
            const res = await fetch(`${url}/api/documents/${id}/pdf?source=true`, { headers: authHeader() })
            if (res.status !== 200) throw new Error(`download ${res.status}`)
            if (sha256(new Uint8Array(await res.arrayBuffer())) !== acknowledged.get(id)) throw new Error(`download ${id}: wrong bytes`)
          } else {
            const res = await request(`${url}/api/documents?page_size=20`, { headers: authHeader() })
            if (res.status !== 200) throw new Error(`list ${res.status}`)
          }
          served[node]!++
        } catch (e) {
          if (node === VICTIM && !alive[VICTIM]) victimInFlightErrors++
          else survivorErrors.push(`node ${node}: ${(e as Error).message}`)
        } finally {
          done++
          if (done === KILL_AT) {
            alive[VICTIM] = false // the balancer stops routing to it...
            procs[VICTIM]!.child.kill('SIGKILL') // ...as it dies
          }
        }
      }
      await Promise.all(Array.from({ length: WORKERS }, async () => {
        while (issued < TOTAL_OPS) await op(issued++)
      }))
      await procs[VICTIM]!.stop()

      // Every acknowledged upload, on both survivors, byte-identical.
      let checked = 0
      for (const n of [0, 2]) {
        for (const [id, sum] of acknowledged) {
          const res = await fetch(`${procs[n]!.url}/api/documents/${id}/pdf?source=true`, { headers: authHeader() })
          assert.equal(res.status, 200, `${id} on node ${n}`)
          assert.equal(sha256(new Uint8Array(await res.arrayBuffer())), sum)
          checked++
        }
      }
      t.diagnostic(`load: ${TOTAL_OPS} requests by ${WORKERS} clients; served per node ${served.join(' / ')}; ` +
        `node ${VICTIM} killed after ${KILL_AT}; its in-flight requests failed: ${victimInFlightErrors}; ` +
        `errors on the other nodes: ${survivorErrors.length}; acknowledged uploads ${acknowledged.size}, all read back on both survivors (${checked} reads)`)
      assert.deepEqual(survivorErrors, [], 'the surviving nodes served every request')
      assert.ok(victimInFlightErrors <= WORKERS, 'at most one request per client was in flight on the killed node')
      assert.equal(served.reduce((a, b) => a + b, 0) + victimInFlightErrors, TOTAL_OPS)
    } finally {
      for (const p of procs) await p.stop('SIGKILL')
      for (const d of dirs) await rm(d, { recursive: true, force: true })
      await storage.drop()
    }
  })
