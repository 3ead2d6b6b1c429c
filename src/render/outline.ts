/**
 * Worker op `outline`: the PDF's outline (ISO 32000-1 §12.3.3) through PDFium's bookmark API
 * (fpdf_doc.h). Hostile outlines are bounded: a /Next or /First cycle is cut by remembering
 * every node seen (PDFium hands out one handle per dictionary), and at most `maxNodes` nodes
 * and `maxDepth` levels are read. Runs inside a render worker only.
 */
import type { OpenDocument, PdfiumEngine } from './pdfium.js'
import type { Outline, OutlineJob, OutlineNode } from './protocol.js'

interface BookmarkApi {
  _FPDFBookmark_GetFirstChild(doc: number, bookmark: number): number
  _FPDFBookmark_GetNextSibling(doc: number, bookmark: number): number
  _FPDFBookmark_GetTitle(bookmark: number, buffer: number, length: number): number
  _FPDFBookmark_GetCount(bookmark: number): number
  _FPDFBookmark_GetDest(doc: number, bookmark: number): number
  _FPDFBookmark_GetAction(bookmark: number): number
  _FPDFAction_GetType(action: number): number
  _FPDFAction_GetDest(doc: number, action: number): number
  _FPDFAction_GetURIPath(doc: number, action: number, buffer: number, length: number): number
  _FPDFDest_GetDestPageIndex(doc: number, dest: number): number
  wasmExports: { malloc(size: number): number; free(ptr: number): void }
  HEAPU8: Uint8Array
}

const PDFACTION_GOTO = 1
const PDFACTION_URI = 3
/** Titles and URIs longer than this are cut (bytes of UTF-16 / ASCII). */
const MAX_STRING_BYTES = 4096

export function outline(engine: PdfiumEngine, doc: OpenDocument, job: OutlineJob): Outline {
  const m = engine.m as unknown as BookmarkApi
  const seen = new Set<number>()
  let count = 0
  let truncated = false
  const buf = m.wasmExports.malloc(MAX_STRING_BYTES)
  try {
    const title = (bm: number): string => {
      const need = m._FPDFBookmark_GetTitle(bm, buf, MAX_STRING_BYTES)
      const n = Math.min(need, MAX_STRING_BYTES) - 2 // UTF-16LE with a 2-byte terminator
      if (n <= 0) return ''
      return Buffer.from(m.HEAPU8.subarray(buf, buf + (n & ~1))).toString('utf16le')
    }
    const uri = (action: number): string | undefined => {
      const need = m._FPDFAction_GetURIPath(doc.handle, action, buf, MAX_STRING_BYTES)
      if (need <= 1) return undefined
      return Buffer.from(m.HEAPU8.subarray(buf, buf + Math.min(need, MAX_STRING_BYTES) - 1)).toString('latin1')
    }
    const target = (bm: number): Pick<OutlineNode, 'pageIndex' | 'uri'> => {
      let dest = m._FPDFBookmark_GetDest(doc.handle, bm)
      const action = dest === 0 ? m._FPDFBookmark_GetAction(bm) : 0
      if (action !== 0) {
        const type = m._FPDFAction_GetType(action)
        if (type === PDFACTION_URI) return { uri: uri(action) }
        if (type === PDFACTION_GOTO) dest = m._FPDFAction_GetDest(doc.handle, action)
      }
      if (dest === 0) return {}
      const page = m._FPDFDest_GetDestPageIndex(doc.handle, dest)
      return page >= 0 && page < doc.pageCount ? { pageIndex: page } : {}
    }
    const children = (parent: number, depth: number): OutlineNode[] => {
      const out: OutlineNode[] = []
      for (let bm = m._FPDFBookmark_GetFirstChild(doc.handle, parent); bm !== 0; bm = m._FPDFBookmark_GetNextSibling(doc.handle, bm)) {
        if (seen.has(bm)) break // a cycle in /Next or /First
        if (count >= job.maxNodes || depth > job.maxDepth) {
          truncated = true
          break
        }
        seen.add(bm)
        count++
        const node: OutlineNode = { title: title(bm), isExpanded: m._FPDFBookmark_GetCount(bm) > 0, ...target(bm), children: [] }
        node.children = children(bm, depth + 1)
        out.push(node)
      }
      return out
    }
    return { outline: children(0, 1), truncated }
  } finally {
    m.wasmExports.free(buf)
  }
}
