/**
 * bench/upload (issue #2): upload throughput of a large generated PDF against a raw disk write
 * of the same bytes in the same run, and the server's peak memory for two file sizes.
 *
 *   npm run bench:upload            # sizes 50 MB and 250 MB, 3 runs each
 *   BENCH_SIZES_MB=50,500 npm run bench:upload
 *
 * The baseline copies the file with the same pattern the server uses (read stream → write +
 * fsync) so the ratio shows what HTTP, hashing, PDF inspection and the database cost on top.
 * Folio runs as a child process (embedded database) so its peak RSS (VmHWM) can be read.
 */
import { spawn } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeLargePdf } from '../test/helpers/pdf-fixtures.js'

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url))
const TOKEN = 'bench-token-0123456789abcdef0123456789abcdef'
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const SIZES = (process.env.BENCH_SIZES_MB ?? '50,250').split(',').map(Number)

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function diskCopy(src: string, dst: string): Promise<number> {
  const t0 = performance.now()
  const fh = await open(dst, 'w')
  for await (const chunk of createReadStream(src, { highWaterMark: 64 * 1024 })) await fh.write(chunk as Buffer)
  await fh.sync()
  await fh.close()
  const ms = performance.now() - t0
  await rm(dst)
  return ms
}

async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024
}

async function startFolio(dataDir: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, API_AUTH_TOKEN: TOKEN, LOG_LEVEL: 'warn', MAX_UPLOAD_SIZE_BYTES: String(4 * 1024 ** 3) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) resolve(m[1]!)
    })
    child.on('exit', (c) => reject(new Error(`folio exited ${c}`)))
  })
  return {
    url,
    pid: child.pid!,
    stop: () => new Promise((r) => { child.on('exit', () => r()); child.kill('SIGTERM') }),
  }
}

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
    console.log('size MB | disk MB/s | folio MB/s | ratio | folio peak RSS MB (idle → after)')
    for (const mb of SIZES) {
      const file = join(dir, `in-${mb}.pdf`)
      const { bytes } = await writeLargePdf(file, mb * 1024 * 1024)
      const size = (await stat(file)).size
      const folio = await startFolio(join(dir, `data-${mb}`))
      const idle = await peakRssMb(folio.pid)
      const disk: number[] = []
      const srv: number[] = []
      for (let i = 0; i < RUNS; i++) {
        // Alternate baseline and subject so drift on the shared machine hits both alike.
        disk.push(await diskCopy(file, join(dir, 'copy.bin')))
        srv.push(await upload(folio.url, file, size))
      }
      const peak = await peakRssMb(folio.pid)
      await folio.stop()
      const diskRate = size / 1048576 / (median(disk) / 1000)
      const srvRate = size / 1048576 / (median(srv) / 1000)
      console.log(`${(bytes / 1048576).toFixed(0).padStart(7)} | ${diskRate.toFixed(0).padStart(9)} | ${srvRate.toFixed(0).padStart(10)} | ${(srvRate / diskRate).toFixed(2).padStart(5)} | ${idle.toFixed(0)} → ${peak.toFixed(0)}`)
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
