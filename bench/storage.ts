/**
 * bench/storage (issue #9): one large streamed upload and download through a real Folio process
 * on each asset backend, with the server's peak memory. The filesystem backend is the baseline
 * measured in the same run; the ratios say what keeping the bytes in PostgreSQL (built-in) or in
 * an S3-protocol server (s3rver on 127.0.0.1) costs on top.
 *
 *   npm run bench:storage                 # 500 MB
 *   BENCH_SIZE_MB=100 npm run bench:storage
 *   BENCH_BACKENDS=built-in,s3 npm run bench:storage   # the first one listed is the baseline
 *   BENCH_BACKENDS=filesystem,azure npm run bench:storage   # azure: Azurite on 127.0.0.1
 *
 * PostgreSQL: TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres (a database is
 * created and dropped). Peak memory is VmHWM of the Folio process, after a 16 MB warm-up and
 * after the large file.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { writeLargePdf } from '../test/helpers/pdf-fixtures.js'
import { startAzurite, type TestAzurite } from '../test/helpers/azurite.js'
import { startS3Server } from '../test/helpers/s3-server.js'
import { downloadHash, peakRssMiB, uploadFile } from '../test/helpers/stream-upload.js'
import { startFolio as startChildFolio } from './helpers/server.js'

const TOKEN = 'bench-token-0123456789abcdef0123456789abcdef'
const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 500)
const PG = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

function withDb(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

const startFolio = (env: Record<string, string>) =>
  // SIGKILL: a clean stop would wait for nothing the measurement needs.
  startChildFolio({ API_AUTH_TOKEN: TOKEN, MAX_UPLOAD_SIZE_BYTES: String(8 * 1024 ** 3), ...env }, { stopSignal: 'SIGKILL' })

interface Row { backend: string; upMs: number; downMs: number; idle: number; warm: number; peak: number }

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'folio-bench-storage-'))
  process.env.FOLIO_TEST_TMP = dir // where the S3 test server keeps its data
  const backends = (process.env.BENCH_BACKENDS ?? 'filesystem,built-in,s3').split(',') as Array<'filesystem' | 'built-in' | 's3' | 'azure'>
  const s3 = await startS3Server('folio-bench')
  const azurite: TestAzurite | undefined = backends.includes('azure') ? await startAzurite('folio-bench') : undefined
  const admin = postgres(PG, { max: 1, onnotice: () => {} })
  const dbs: string[] = []
  try {
    const big = join(dir, 'large.pdf')
    const warmFile = join(dir, 'warm.pdf')
    const { sha256 } = await writeLargePdf(big, SIZE_MB * 1024 * 1024)
    await writeLargePdf(warmFile, 16 * 1024 * 1024)
    const size = (await stat(big)).size
    const warmSize = (await stat(warmFile)).size
    console.log(`bench/storage: one ${(size / 1e6).toFixed(0)} MB upload and download per backend; Node ${process.version}`)
    const rows: Row[] = []
    for (const backend of backends) {
      const name = `folio_bench_${Date.now()}_${backend.replace('-', '')}`
      await admin.unsafe(`create database ${name}`)
      dbs.push(name)
      const dataDir = join(dir, `data-${backend}`)
      const folio = await startFolio({ DATA_DIR: dataDir, DATABASE_URL: withDb(PG, name), ...(backend === 's3' ? s3.env : backend === 'azure' ? azurite!.env : { ASSET_STORAGE_BACKEND: backend }) })
      try {
        const idle = await peakRssMiB(folio.pid)
        const w = await uploadFile(folio.url, TOKEN, warmFile, warmSize)
        await downloadHash(folio.url, TOKEN, JSON.parse(w.body).data.document_id)
        const warm = await peakRssMiB(folio.pid)
        let t0 = performance.now()
        const res = await uploadFile(folio.url, TOKEN, big, size)
        const upMs = performance.now() - t0
        if (res.status !== 200) throw new Error(`${backend}: upload ${res.status} ${res.body}`)
        t0 = performance.now()
        const back = await downloadHash(folio.url, TOKEN, JSON.parse(res.body).data.document_id)
        const downMs = performance.now() - t0
        if (back.sha256 !== sha256 || back.size !== size) throw new Error(`${backend}: the download differs`)
        rows.push({ backend, upMs, downMs, idle, warm, peak: await peakRssMiB(folio.pid) })
      } finally {
        await folio.stop()
        await rm(dataDir, { recursive: true, force: true })
      }
    }
    const base = rows[0]!
    const mbps = (ms: number) => size / 1e6 / (ms / 1000)
    console.log('backend    | upload MB/s (× filesystem) | download MB/s (× filesystem) | peak RSS MiB: idle → after 16 MB warm-up → after the large file')
    for (const r of rows) {
      console.log(`${r.backend.padEnd(10)} | ${mbps(r.upMs).toFixed(0).padStart(6)} (${(base.upMs / r.upMs).toFixed(2)}) | ` +
        `${mbps(r.downMs).toFixed(0).padStart(6)} (${(base.downMs / r.downMs).toFixed(2)}) | ${r.idle.toFixed(0)} → ${r.warm.toFixed(0)} → ${r.peak.toFixed(0)}`)
    }
  } finally {
    for (const d of dbs) await admin.unsafe(`drop database if exists ${d} with (force)`).catch(() => {})
    await admin.end()
    await s3.stop()
    await azurite?.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
