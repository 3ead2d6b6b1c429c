/**
 * A bare node:http server that does only what any upload server must: receive the body, write
 * it to a file in 1 MiB batches and fsync. bench/upload uses it as the "HTTP + disk" ceiling.
 */
import { createHash, randomUUID } from 'node:crypto'
import { open, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'

const dir = process.argv[2]!
const server = createServer(async (req, res) => {
  const path = join(dir, `${randomUUID()}.part`)
  const fh = await open(path, 'w')
  // With --hash, also sha256 the body, which Folio's contract requires (sourcePdfSha256).
  const hash = process.argv.includes('--hash') ? createHash('sha256') : undefined
  let batch: Buffer[] = []
  let bytes = 0
  for await (const chunk of req) {
    hash?.update(chunk as Buffer)
    batch.push(chunk as Buffer)
    bytes += (chunk as Buffer).length
    if (bytes >= 1 << 20) {
      await fh.writev(batch)
      batch = []
      bytes = 0
    }
  }
  if (batch.length) await fh.writev(batch)
  await fh.sync()
  await fh.close()
  await rm(path)
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { sha256: hash?.digest('hex') } }))
})
server.listen(0, '127.0.0.1', () => {
  const a = server.address() as { port: number }
  process.stdout.write(`listening on http://127.0.0.1:${a.port}\n`)
})
