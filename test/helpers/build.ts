/** Helpers of the Build API and document editing tests: posting instructions, reading PDFs with poppler. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from './http.js'
import { makePdf } from './pdf-fixtures.js'
import { authHeader, type TestFolio } from './start-folio.js'

export function withTmp<T>(pdf: Uint8Array, fn: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'folio-build-'))
  try {
    const path = join(dir, 'f.pdf')
    writeFileSync(path, pdf)
    return fn(path)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export const pdftotext = (pdf: Uint8Array, page?: number) =>
  withTmp(pdf, (p) => execFileSync('pdftotext', [...(page ? ['-f', String(page), '-l', String(page)] : []), '-layout', p, '-'], { encoding: 'utf8' }))

/** Page count and per-page size/rotation as pdfinfo prints them. */
export function pdfPages(pdf: Uint8Array): { count: number; pages: Array<{ size: string; rot: number }> } {
  const out = withTmp(pdf, (p) => execFileSync('pdfinfo', ['-f', '1', '-l', '10000', p], { encoding: 'utf8' }))
  const count = Number(/^Pages:\s+(\d+)/m.exec(out)![1])
  const pages: Array<{ size: string; rot: number }> = []
  for (const m of out.matchAll(/^Page\s+(\d+) size:\s+([\d.]+ x [\d.]+)/gm)) pages[Number(m[1]) - 1] = { size: m[2]!, rot: 0 }
  for (const m of out.matchAll(/^Page\s+(\d+) rot:\s+(\d+)/gm)) pages[Number(m[1]) - 1]!.rot = Number(m[2])
  return { count, pages }
}

export function pdfText(pages: string[]): Buffer {
  return makePdf({ pages: pages.map((text) => ({ text })) })
}

export async function post(f: TestFolio, path: string, instructions: unknown, files: Record<string, Buffer | string> = {}, field = 'instructions') {
  const form = new FormData()
  if (instructions !== undefined) form.set(field, JSON.stringify(instructions))
  for (const [name, data] of Object.entries(files)) form.set(name, new Blob([data]), `${name}.bin`)
  const res = await fetch(`${f.url}${path}`, { method: 'POST', headers: authHeader(), body: form })
  const body = Buffer.from(await res.arrayBuffer())
  return { status: res.status, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) }
}

export async function upload(f: TestFolio, id: string, pdf: Buffer): Promise<void> {
  const res = await request(`${f.url}/api/documents?document_id=${id}`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: pdf })
  assert.equal(res.status, 200, res.text)
}

