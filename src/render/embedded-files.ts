/**
 * Worker ops `embeddedFiles` and `embeddedFile`: the PDF's embedded files (ISO 32000-1 §7.11.4,
 * the /EmbeddedFiles name tree) through PDFium's attachment API (fpdf_attachment.h). Listing
 * hashes each file (sha256: the attachment id Document Engine gives embedded files) and reads at
 * most `maxFiles`; a file over `maxBytes` is listed without a hash and cannot be downloaded.
 * Runs inside a render worker only.
 */
import { createHash } from 'node:crypto'
import type { OpenDocument, PdfiumEngine } from './pdfium.js'
import type { EmbeddedFileInfo, EmbeddedFileJob, EmbeddedFilesJob } from './protocol.js'
import { EngineFailure } from './pdfium.js'

interface AttachmentApi {
  _FPDFDoc_GetAttachmentCount(doc: number): number
  _FPDFDoc_GetAttachment(doc: number, index: number): number
  _FPDFAttachment_GetName(att: number, buffer: number, length: number): number
  _FPDFAttachment_GetSubtype(att: number, buffer: number, length: number): number
  _FPDFAttachment_GetFile(att: number, buffer: number, length: number, outLength: number): number
  wasmExports: { malloc(size: number): number; free(ptr: number): void }
  HEAPU8: Uint8Array
  HEAPU32: Uint32Array
}

const MAX_NAME_BYTES = 2048

function api(engine: PdfiumEngine): AttachmentApi {
  return engine.m as unknown as AttachmentApi
}

function utf16(m: AttachmentApi, get: (buf: number, len: number) => number): string {
  const buf = m.wasmExports.malloc(MAX_NAME_BYTES)
  try {
    const need = get(buf, MAX_NAME_BYTES)
    const n = Math.min(need, MAX_NAME_BYTES) - 2
    return n > 0 ? Buffer.from(m.HEAPU8.subarray(buf, buf + (n & ~1))).toString('utf16le') : ''
  } finally {
    m.wasmExports.free(buf)
  }
}

/** The file's bytes, or undefined when it has none or more than maxBytes. */
function fileBytes(m: AttachmentApi, att: number, maxBytes: number): { size: number; bytes?: Uint8Array } {
  const out = m.wasmExports.malloc(4)
  try {
    if (!m._FPDFAttachment_GetFile(att, 0, 0, out)) return { size: 0 }
    const size = m.HEAPU32[out >> 2]!
    if (size > maxBytes) return { size }
    const buf = m.wasmExports.malloc(Math.max(1, size))
    if (buf === 0) throw new EngineFailure('too_large', 'the embedded file does not fit the worker memory')
    try {
      if (!m._FPDFAttachment_GetFile(att, buf, size, out)) return { size }
      return { size, bytes: m.HEAPU8.slice(buf, buf + size) }
    } finally {
      m.wasmExports.free(buf)
    }
  } finally {
    m.wasmExports.free(out)
  }
}

export function embeddedFiles(engine: PdfiumEngine, doc: OpenDocument, job: EmbeddedFilesJob): EmbeddedFileInfo[] {
  const m = api(engine)
  const count = Math.min(m._FPDFDoc_GetAttachmentCount(doc.handle), job.maxFiles)
  const out: EmbeddedFileInfo[] = []
  for (let index = 0; index < count; index++) {
    const att = m._FPDFDoc_GetAttachment(doc.handle, index)
    if (att === 0) continue
    const name = utf16(m, (b, l) => m._FPDFAttachment_GetName(att, b, l))
    const mime = utf16(m, (b, l) => m._FPDFAttachment_GetSubtype(att, b, l))
    const { size, bytes } = fileBytes(m, att, job.maxBytes)
    out.push({ index, name, contentType: mime || 'application/octet-stream', size, sha256: bytes ? createHash('sha256').update(bytes).digest('hex') : undefined })
  }
  return out
}

export function embeddedFile(engine: PdfiumEngine, doc: OpenDocument, job: EmbeddedFileJob): Uint8Array {
  const m = api(engine)
  const att = job.index < m._FPDFDoc_GetAttachmentCount(doc.handle) ? m._FPDFDoc_GetAttachment(doc.handle, job.index) : 0
  if (att === 0) throw new EngineFailure('unreadable', 'no such embedded file')
  const { bytes } = fileBytes(m, att, job.maxBytes)
  if (!bytes) throw new EngineFailure('too_large', 'the embedded file is larger than the limit')
  return bytes
}
