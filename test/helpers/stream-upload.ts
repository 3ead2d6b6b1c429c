/** Streams a file to POST /api/documents and a document back, without holding either in memory. */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat, readFile } from 'node:fs/promises'
import { request } from 'node:http'

export function uploadFile(url: string, token: string, file: string, size: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/documents`, {
      method: 'POST',
      headers: { authorization: `Token token="${token}"`, 'content-type': 'application/pdf', 'content-length': String(size) },
    }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    createReadStream(file, { highWaterMark: 64 * 1024 }).pipe(req)
  })
}

/** Downloads a document's source PDF, hashing it on the way; returns sha256 and size. */
export async function downloadHash(url: string, token: string, id: string): Promise<{ sha256: string; size: number }> {
  const res = await fetch(`${url}/api/documents/${id}/pdf?source=true`, { headers: { authorization: `Token token="${token}"` } })
  if (res.status !== 200 || !res.body) throw new Error(`download ${id}: ${res.status}`)
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    hash.update(chunk)
    size += chunk.length
  }
  return { sha256: hash.digest('hex'), size }
}

/** Peak resident set size of a process so far (VmHWM), in MiB. Linux only. */
export async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size
}
