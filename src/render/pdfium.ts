/**
 * The one engine adapter (HOUSE-STYLE §1 render/): PDFium compiled to WebAssembly, as packaged by
 * @hyzyla/pdfium (MIT wrapper; PDFium itself is BSD-3-Clause/Apache-2.0). It runs only inside a
 * render worker (worker.ts), never on the main thread: WASM calls block their thread.
 *
 * The package's high-level classes render and extract plain text only (`getText()` has no
 * positions), so Folio calls the PDFium C API the package also exposes (its `PDFiumModule`):
 * FPDF_RenderPageBitmap for pixels, FPDFText_GetLooseCharBox + FPDF_PageToDevice for text
 * positions (issue #6, "text with positions").
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { PDFiumModule } from '@hyzyla/pdfium'
import type { Box, PageText, RawImage, RenderFailure, TextLine } from './protocol.js'
import { capWasmMemory } from './wasm-memory.js'

/** The part of the PDFium C API Folio uses (fpdfview.h, fpdf_text.h). Pointers are numbers. */
export interface Pdfium {
  _FPDF_InitLibraryWithConfig(config: number): void
  _FPDF_LoadMemDocument(data: number, size: number, password: number): number
  _FPDF_GetLastError(): number
  _FPDF_CloseDocument(doc: number): void
  _FPDF_GetPageCount(doc: number): number
  _FPDF_LoadPage(doc: number, index: number): number
  _FPDF_ClosePage(page: number): void
  _FPDF_GetPageWidthF(page: number): number
  _FPDF_GetPageHeightF(page: number): number
  _FPDF_PageToDevice(page: number, x: number, y: number, w: number, h: number, rotate: number, px: number, py: number, dx: number, dy: number): number
  _FPDFBitmap_CreateEx(w: number, h: number, format: number, buffer: number, stride: number): number
  _FPDFBitmap_FillRect(bitmap: number, l: number, t: number, w: number, h: number, color: number): void
  _FPDFBitmap_GetBuffer(bitmap: number): number
  _FPDFBitmap_GetStride(bitmap: number): number
  _FPDFBitmap_Destroy(bitmap: number): void
  _FPDF_RenderPageBitmap(bitmap: number, page: number, x: number, y: number, w: number, h: number, rotate: number, flags: number): void
  _FPDFText_LoadPage(page: number): number
  _FPDFText_ClosePage(text: number): void
  _FPDFText_CountChars(text: number): number
  _FPDFText_GetUnicode(text: number, index: number): number
  _FPDFText_GetLooseCharBox(text: number, index: number, rect: number): number
  wasmExports: { malloc(size: number): number; free(ptr: number): void }
  HEAPU8: Uint8Array
}

// fpdfview.h constants.
const FPDF_ANNOT = 0x01
const FPDF_REVERSE_BYTE_ORDER = 0x10 // BGR → RGB
const FPDF_RENDER_LIMITEDIMAGECACHE = 0x200
const FPDFBITMAP_BGR = 2
const FPDF_ERR_PASSWORD = 4
const WHITE = 0xffffffff

/** A failure the engine reported without losing its state (the worker stays usable). */
export class EngineFailure extends Error {
  constructor(readonly reason: RenderFailure, message: string) {
    super(message)
    this.name = 'EngineFailure'
  }
}

export interface OpenDocument {
  readonly handle: number
  readonly byteSize: number
  readonly pageCount: number
  close(): void
}

export class PdfiumEngine {
  /** Lines PDFium wrote to stderr during the current job (it says "Cannot enlarge memory" before aborting). */
  readonly messages: string[] = []

  /** `m`: the C API, also used by the op files (page-texts.ts, outline.ts). */
  private constructor(readonly m: Pdfium) {}

  static async load(memoryBytes: number): Promise<PdfiumEngine> {
    const require = createRequire(import.meta.url)
    const wasm = capWasmMemory(readFileSync(require.resolve('@hyzyla/pdfium/pdfium.wasm')), memoryBytes)
    let engine: PdfiumEngine | undefined
    const note = (text: string) => {
      if (engine && engine.messages.length < 50) engine.messages.push(String(text).slice(0, 200))
    }
    const m = (await PDFiumModule({
      // The copy must own its buffer: emscripten hands it to WebAssembly.instantiate.
      wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer,
      locateFile: () => '',
      print: note,
      printErr: note,
    } as Parameters<typeof PDFiumModule>[0])) as unknown as Pdfium
    m._FPDF_InitLibraryWithConfig(0)
    engine = new PdfiumEngine(m)
    return engine
  }

  /** Bytes of WebAssembly memory in use by the engine (it only grows). */
  get heapBytes(): number {
    return this.m.HEAPU8.length
  }

  /** `password`: UTF-8, for an encrypted PDF (PDFium also tries it as Latin-1 for older handlers). */
  open(bytes: Uint8Array, password?: string): OpenDocument {
    const m = this.m
    if (bytes.length === 0) throw new EngineFailure('unreadable', 'the document is empty')
    const ptr = m.wasmExports.malloc(bytes.length)
    if (ptr === 0) throw new EngineFailure('too_large', 'the document does not fit the render worker memory')
    m.HEAPU8.set(bytes, ptr)
    let pw = 0
    if (password !== undefined && password !== '') {
      const utf8 = Buffer.from(password, 'utf8')
      pw = m.wasmExports.malloc(utf8.length + 1)
      m.HEAPU8.set(utf8, pw)
      m.HEAPU8[pw + utf8.length] = 0
    }
    const handle = m._FPDF_LoadMemDocument(ptr, bytes.length, pw)
    if (pw !== 0) {
      m.HEAPU8.fill(0, pw, pw + Buffer.byteLength(password!, 'utf8')) // not left in the heap
      m.wasmExports.free(pw)
    }
    if (handle === 0) {
      const code = m._FPDF_GetLastError()
      m.wasmExports.free(ptr)
      if (code === FPDF_ERR_PASSWORD) throw new EngineFailure('password_required', password ? 'the password is not correct' : 'the document needs a password')
      throw new EngineFailure('unreadable', `the engine could not open the document (error ${code})`)
    }
    let closed = false
    return {
      handle,
      byteSize: bytes.length,
      pageCount: m._FPDF_GetPageCount(handle),
      close() {
        if (closed) return
        closed = true
        m._FPDF_CloseDocument(handle) // the bytes must outlive the document (fpdfview.h)
        m.wasmExports.free(ptr)
      },
    }
  }

  private withPage<T>(doc: OpenDocument, pageIndex: number, fn: (page: number) => T): T {
    if (pageIndex < 0 || pageIndex >= doc.pageCount) throw new EngineFailure('unreadable', `the document has no page ${pageIndex}`)
    const page = this.m._FPDF_LoadPage(doc.handle, pageIndex)
    if (page === 0) throw new EngineFailure('unreadable', `the engine could not load page ${pageIndex}`)
    try {
      return fn(page)
    } finally {
      this.m._FPDF_ClosePage(page)
    }
  }

  /** Renders the page as displayed (its /Rotate applied) into exactly width × height RGB pixels on white. */
  render(doc: OpenDocument, pageIndex: number, width: number, height: number, annotations: boolean): RawImage {
    const m = this.m
    return this.withPage(doc, pageIndex, (page) => {
      const bitmap = m._FPDFBitmap_CreateEx(width, height, FPDFBITMAP_BGR, 0, 0)
      if (bitmap === 0) throw new EngineFailure('memory_limit', 'no memory for the bitmap')
      try {
        m._FPDFBitmap_FillRect(bitmap, 0, 0, width, height, WHITE)
        const flags = FPDF_REVERSE_BYTE_ORDER | FPDF_RENDER_LIMITEDIMAGECACHE | (annotations ? FPDF_ANNOT : 0)
        m._FPDF_RenderPageBitmap(bitmap, page, 0, 0, width, height, 0, flags)
        const stride = m._FPDFBitmap_GetStride(bitmap)
        const start = m._FPDFBitmap_GetBuffer(bitmap)
        const row = width * 3
        const pixels = new Uint8Array(row * height)
        const heap = m.HEAPU8 // read after rendering: the heap may have grown (a new buffer)
        if (stride === row) pixels.set(heap.subarray(start, start + row * height))
        else for (let y = 0; y < height; y++) pixels.set(heap.subarray(start + y * stride, start + y * stride + row), y * row)
        return { width, height, channels: 3, pixels }
      } finally {
        m._FPDFBitmap_Destroy(bitmap)
      }
    })
  }

  /** The page's text in lines, each with its box and one box per character (see protocol.ts). */
  text(doc: OpenDocument, pageIndex: number, maxChars: number): PageText {
    const m = this.m
    return this.withPage(doc, pageIndex, (page) => {
      const width = m._FPDF_GetPageWidthF(page)
      const height = m._FPDF_GetPageHeightF(page)
      const toDisplay = this.displayTransform(page, width, height)
      const textPage = m._FPDFText_LoadPage(page)
      if (textPage === 0) throw new EngineFailure('unreadable', 'the engine could not read the text of the page')
      const rect = m.wasmExports.malloc(16)
      try {
        const count = m._FPDFText_CountChars(textPage)
        const limit = Math.min(count, maxChars)
        const lines: TextLine[] = []
        let current: { text: string; boxes: Box[] } = { text: '', boxes: [] }
        const flush = () => {
          if (current.text.trim() !== '') lines.push(lineOf(current.text, current.boxes))
          current = { text: '', boxes: [] }
        }
        for (let i = 0; i < limit; i++) {
          const code = m._FPDFText_GetUnicode(textPage, i)
          if (code === 0x0d || code === 0x0a) {
            // PDFium ends each line with a (generated) "\r\n"; a lone one counts the same.
            if (code === 0x0a || current.text !== '') flush()
            continue
          }
          let box: Box | undefined
          if (m._FPDFText_GetLooseCharBox(textPage, i, rect)) {
            // FS_RECTF {left, top, right, bottom}, page space (y up).
            const f = new Float32Array(m.HEAPU8.buffer, rect, 4)
            box = toDisplay(f[0]!, f[1]!, f[2]!, f[3]!)
          }
          // Generated spaces have no glyph (PDFium gives them an empty box): give them a zero-width
          // box after the previous character, so a selection can still run across them.
          const prev = current.boxes[current.boxes.length - 1]
          if (!box || (box[2] === 0 && box[3] === 0)) box = prev ? [round2(prev[0] + prev[2]), prev[1], 0, prev[3]] : [0, 0, 0, 0]
          const ch = validCodePoint(code) ? String.fromCodePoint(code) : '\ufffd'
          current.text += ch
          for (let k = 0; k < ch.length; k++) current.boxes.push(box)
        }
        flush()
        return { width: round2(width), height: round2(height), textLines: lines, truncated: count > limit }
      } finally {
        m.wasmExports.free(rect)
        m._FPDFText_ClosePage(textPage)
      }
    })
  }

  /**
   * Page space → display space (points, top-left origin, /Rotate and the crop box applied), as
   * PDFium itself maps it for rendering. FPDF_PageToDevice answers in whole device pixels, so it
   * is asked at 100 device units per point and three points give the affine matrix.
   */
  private displayTransform(page: number, width: number, height: number) {
    const m = this.m
    const S = 100
    const out = m.wasmExports.malloc(8)
    const map = (x: number, y: number): [number, number] => {
      m._FPDF_PageToDevice(page, 0, 0, Math.round(width * S), Math.round(height * S), 0, x, y, out, out + 4)
      const v = new Int32Array(m.HEAPU8.buffer, out, 2)
      return [v[0]! / S, v[1]! / S]
    }
    let o: [number, number], ex: [number, number], ey: [number, number]
    try {
      o = map(0, 0)
      ex = map(1000, 0)
      ey = map(0, 1000)
    } finally {
      m.wasmExports.free(out)
    }
    const a = (ex[0] - o[0]) / 1000, b = (ex[1] - o[1]) / 1000
    const c = (ey[0] - o[0]) / 1000, d = (ey[1] - o[1]) / 1000
    return (left: number, top: number, right: number, bottom: number): Box => {
      const x1 = a * left + c * top + o[0], y1 = b * left + d * top + o[1]
      const x2 = a * right + c * bottom + o[0], y2 = b * right + d * bottom + o[1]
      const l = Math.min(x1, x2), t = Math.min(y1, y2)
      return [round2(l), round2(t), round2(Math.max(x1, x2) - l), round2(Math.max(y1, y2) - t)]
    }
  }
}

function lineOf(text: string, boxes: Box[]): TextLine {
  let left = Infinity, top = Infinity, right = -Infinity, bottom = -Infinity
  for (const [l, t, w, h] of boxes) {
    if (w === 0 && h === 0) continue
    left = Math.min(left, l)
    top = Math.min(top, t)
    right = Math.max(right, l + w)
    bottom = Math.max(bottom, t + h)
  }
  if (left === Infinity) left = top = right = bottom = 0
  return { contents: text, left: round2(left), top: round2(top), width: round2(right - left), height: round2(bottom - top), charBoxes: boxes }
}

function validCodePoint(code: number): boolean {
  return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)
}

function round2(v: number): number {
  return Math.round(v * 100) / 100
}
