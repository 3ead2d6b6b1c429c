/**
 * Independent checks of PDFs Folio writes: qpdf (a full PDF parser: object graph as JSON,
 * structural check), poppler's pdfinfo (opens it) and pdftoppm (renders it, read back as PPM
 * pixels). Tests skip when the tools are missing, except in CI (.ci/run installs them).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
export const HAS_PDF_TOOLS = has('qpdf') && has('pdfinfo') && has('pdftoppm')

/** Call at the start of a test: skips it when the tools are absent outside CI. */
export function needPdfTools(t: { skip(msg: string): void }): boolean {
  if (HAS_PDF_TOOLS) return true
  if (process.env.CI) throw new Error('qpdf and poppler-utils are required in CI')
  t.skip('qpdf/poppler-utils not installed')
  return false
}

function withFile<T>(pdf: Uint8Array, fn: (path: string, dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'folio-pdf-'))
  try {
    const path = join(dir, 'file.pdf')
    writeFileSync(path, pdf)
    return fn(path, dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** `qpdf --check`: throws unless the structure is clean (exit 0; 3 = warnings is a failure too). */
export function qpdfCheck(pdf: Uint8Array): string {
  return withFile(pdf, (path) => {
    const r = spawnSync('qpdf', ['--check', path])
    if (r.status !== 0) throw new Error(`qpdf --check failed (${r.status}): ${r.stdout}${r.stderr}`)
    return r.stdout.toString()
  })
}

export function pdfinfo(pdf: Uint8Array): string {
  return withFile(pdf, (path) => execFileSync('pdfinfo', [path]).toString())
}

// qpdf JSON v2: names "/X", strings "u:text" (or "b:hex"), references "n g R".
export type QValue = number | boolean | null | string | QValue[] | { [k: string]: QValue }

export interface QpdfDoc {
  objects: Record<string, { value?: QValue; stream?: { dict: Record<string, QValue> } }>
  pages: Array<{ object: string }>
  resolve(v: QValue | undefined): QValue | undefined
  /** The annotation dictionaries of page `index`, resolved. */
  annotations(index: number): Array<Record<string, QValue>>
}

export function qpdfJson(pdf: Uint8Array): QpdfDoc {
  const out = withFile(pdf, (path) => execFileSync('qpdf', ['--json=2', '--json-key=qpdf', '--json-key=pages', path], { maxBuffer: 256 * 1024 * 1024 }).toString())
  const json = JSON.parse(out) as { qpdf: [unknown, QpdfDoc['objects']]; pages: QpdfDoc['pages'] }
  const objects = json.qpdf[1]
  const resolve = (v: QValue | undefined): QValue | undefined => {
    if (typeof v === 'string' && /^\d+ \d+ R$/.test(v)) {
      const o = objects[`obj:${v}`]
      return o?.value ?? (o?.stream?.dict as QValue | undefined)
    }
    return v
  }
  return {
    objects,
    pages: json.pages,
    resolve,
    annotations(index) {
      const page = resolve(json.pages[index]!.object) as Record<string, QValue>
      const annots = (resolve(page['/Annots']) ?? []) as QValue[]
      return annots.map((a) => resolve(a) as Record<string, QValue>)
    },
  }
}

export interface Raster { width: number; height: number; pixel(x: number, y: number): [number, number, number] }

/** Renders one page (0-based) at `dpi` with pdftoppm and returns its pixels (PPM P6). */
export function render(pdf: Uint8Array, pageIndex: number, dpi = 72): Raster {
  return withFile(pdf, (path, dir) => {
    execFileSync('pdftoppm', ['-r', String(dpi), '-f', String(pageIndex + 1), '-l', String(pageIndex + 1), path, join(dir, 'page')])
    const file = readdirSync(dir).find((f) => f.endsWith('.ppm'))!
    const data = readFileSync(join(dir, file))
    const header = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(data.toString('latin1', 0, 64))!
    const [width, height] = [Number(header[1]), Number(header[2])]
    const offset = header[0].length
    return {
      width,
      height,
      pixel(x, y) {
        const i = offset + (Math.round(y) * width + Math.round(x)) * 3
        return [data[i]!, data[i + 1]!, data[i + 2]!]
      },
    }
  })
}
