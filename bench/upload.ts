/**
 * bench/upload (issue #2): upload throughput of a large generated PDF against a raw disk write
 * of the same bytes in the same run, and the server's peak memory for two file sizes.
 *
 *   npm run bench:upload            # sizes 50 MB and 250 MB, 3 runs each
 *   BENCH_SIZES_MB=50,500 npm run bench:upload
 *
 * Two baselines in the same run: "disk" copies the file in 1 MiB reads and writes, then fsyncs
 * (a raw disk write of the same bytes); "bare http" uploads it to a bare node:http server that
 * writes the body to a file and fsyncs (bench/helpers/bare-upload-server.ts), which shows what
 * loopback HTTP itself costs on this machine. The ratios show what Folio adds (hashing, PDF
 * inspection, the database).
 * Folio runs as a child process (embedded database); its resident memory (VmRSS) is sampled
 * every 20 ms during the uploads, so the figure shows whether memory grows with the file.
 */
import { createReadStream } from 'node:fs'
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeLargePdf } from '../test/helpers/pdf-fixtures.js'
import { startChild, startFolio } from './helpers/server.js'

const TOKEN = 'bench-token-0123456789abcdef0123456789abcdef'
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const SIZES = (process.env.BENCH_SIZES_MB ?? '50,250').split(',').map(Number)

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function diskCopy(src: string, dst: string): Promise<number> {
  const t0 = performance.now()
  const fh = await open(dst, 'w')
  for await (const chunk of createReadStream(src, { highWaterMark: 1024 * 1024 })) await fh.write(chunk as Buffer)
  await fh.sync()
  await fh.close()
  const ms = performance.now() - t0
  await rm(dst)
  return ms
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024
}

/** Samples the server's resident memory every 20 ms while `work` runs; returns the maximum. */
async function maxRssDuring<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; maxMb: number }> {
  let maxMb = await rssMb(pid)
  let done = false
  const sampler = (async () => {
    while (!done) {
      maxMb = Math.max(maxMb, await rssMb(pid))
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  const result = await work().finally(() => (done = true))
  await sampler
  return { result, maxMb }
}

const BARE = fileURLToPath(new URL('./helpers/bare-upload-server.js', import.meta.url))


function upload(url: string, file: string, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const req = request(`${url}/api/documents`, {
      method: 'POST',
      headers: { authorization: `Token token="${TOKEN}"`, 'content-type': 'application/pdf', 'content-length': String(size) },
    }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`${res.statusCode} ${body}`))))
    })
    req.on('error', reject)
    createReadStream(file, { highWaterMark: 64 * 1024 }).pipe(req)
  })
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'folio-bench-upload-'))
  try {
    console.log(`bench/upload: ${RUNS} runs per size, median shown; Node ${process.version}`)
    console.log('size MB | disk MB/s | bare http MB/s | bare http+sha256 MB/s | folio MB/s | folio / disk | folio / http | folio / http+sha256 | folio RSS MB (idle → max during uploads)')
    for (const mb of SIZES) {
      const file = join(dir, `in-${mb}.pdf`)
      const { bytes } = await writeLargePdf(file, mb * 1024 * 1024)
      const size = (await stat(file)).size
      const folio = await startFolio({ DATA_DIR: join(dir, `data-${mb}`), API_AUTH_TOKEN: TOKEN, MAX_UPLOAD_SIZE_BYTES: String(4 * 1024 ** 3) })
      const bare = await startChild([BARE, dir], {})
      const bareHash = await startChild([BARE, dir, '--hash'], {})
      const idle = await rssMb(folio.pid)
      let peak = idle
      const disk: number[] = []
      const http: number[] = []
      const httpHash: number[] = []
      const srv: number[] = []
      for (let i = 0; i < RUNS; i++) {
        // Alternate baselines and subject so drift on the shared machine hits all alike.
        disk.push(await diskCopy(file, join(dir, 'copy.bin')))
        http.push(await upload(bare.url, file, size))
        httpHash.push(await upload(bareHash.url, file, size))
        const { result, maxMb } = await maxRssDuring(folio.pid, () => upload(folio.url, file, size))
        srv.push(result)
        peak = Math.max(peak, maxMb)
      }
      await folio.stop()
      await bare.stop()
      await bareHash.stop()
      const rate = (ms: number[]) => size / 1048576 / (median(ms) / 1000)
      const [diskRate, httpRate, hashRate, srvRate] = [rate(disk), rate(http), rate(httpHash), rate(srv)]
      console.log(
        `${(bytes / 1048576).toFixed(0).padStart(7)} | ${diskRate.toFixed(0).padStart(9)} | ${httpRate.toFixed(0).padStart(14)} | ${hashRate.toFixed(0).padStart(21)} | ${srvRate.toFixed(0).padStart(10)} | ` +
          `${(srvRate / diskRate).toFixed(2).padStart(12)} | ${(srvRate / httpRate).toFixed(2).padStart(12)} | ${(srvRate / hashRate).toFixed(2).padStart(19)} | ${idle.toFixed(0)} → ${peak.toFixed(0)}`,
      )
      await rm(file)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
