/**
 * Worker op `pageTexts`: the text of a run of pages in one job, so that search and the
 * all-pages text of a long document cost a few messages instead of one per page (and stay
 * under RENDER_QUEUE_MAX). Runs inside a render worker only.
 */
import type { OpenDocument, PdfiumEngine } from './pdfium.js'
import type { PageText, PageTextsJob } from './protocol.js'

export function pageTexts(engine: PdfiumEngine, doc: OpenDocument, job: PageTextsJob): PageText[] {
  const out: PageText[] = []
  const last = Math.min(job.to, doc.pageCount - 1)
  for (let i = job.pageIndex; i <= last; i++) out.push(engine.text(doc, i, job.maxChars))
  return out
}
