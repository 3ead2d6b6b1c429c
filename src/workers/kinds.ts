/**
 * The one table of PDF work (docs/architecture.md "PDF work in workers"). Every operation that
 * reads PDF structure or runs the engine is a job kind here, with its handler in its own module
 * (loaded only inside a worker, never on the main thread) and its input and output types.
 *
 * To add a kind: write `jobs/<kind>.ts` exporting `handle(input, ctx)`, add a row to JOB_KINDS
 * and a line to JobTypes, then call `pdfWork.run('<kind>', input, { source })`.
 *
 * `family` decides how a limit is reported: `render` kinds answer `render_failed` (reason
 * `timeout`, `memory_limit`, …) and `render_queue_full`; `pdf` kinds answer `pdf_too_complex`
 * (`limit`: `time`, `memory`, `engine`) and `pdf_queue_full`.
 */
import type { ExportItem, ImportedAnnotation } from '../annotations/pdf-export.js'
import type { InspectLimits, PdfInfo } from '../pdf/inspect.js'
import type {
  EmbeddedFileInfo, EmbeddedFileJob, EmbeddedFilesJob, Outline, OutlineJob, PageText, PageTextsJob, RawImage, RenderJob, TextJob,
} from '../render/protocol.js'

export type JobFamily = 'render' | 'pdf'

export const JOB_KINDS = {
  inspect: { module: './jobs/inspect.js', family: 'pdf' },
  'annotations-read': { module: './jobs/annotations-read.js', family: 'pdf' },
  'annotations-importable': { module: './jobs/annotations-importable.js', family: 'pdf' },
  'annotations-export': { module: './jobs/annotations-export.js', family: 'pdf' },
  render: { module: './jobs/render.js', family: 'render' },
  text: { module: './jobs/text.js', family: 'render' },
  'page-texts': { module: './jobs/page-texts.js', family: 'render' },
  outline: { module: './jobs/outline.js', family: 'render' },
  'embedded-files': { module: './jobs/embedded-files.js', family: 'render' },
  'embedded-file': { module: './jobs/embedded-file.js', family: 'render' },
} as const satisfies Record<string, { module: string; family: JobFamily }>

export type JobKind = keyof typeof JOB_KINDS

/** Input and output of each kind (structured-clone data). */
export interface JobTypes {
  inspect: { input: { limits?: InspectLimits }; output: PdfInfo }
  'annotations-read': { input: { max: number }; output: { annotations: ImportedAnnotation[]; more: boolean } }
  'annotations-importable': { input: Record<string, never>; output: boolean }
  'annotations-export': { input: { items: ExportItem[]; flatten: boolean }; output: Uint8Array | null }
  render: { input: Omit<RenderJob, 'op'>; output: RawImage }
  text: { input: Omit<TextJob, 'op'>; output: PageText }
  'page-texts': { input: Omit<PageTextsJob, 'op'>; output: PageText[] }
  outline: { input: Omit<OutlineJob, 'op'>; output: Outline }
  'embedded-files': { input: Omit<EmbeddedFilesJob, 'op'>; output: EmbeddedFileInfo[] }
  'embedded-file': { input: Omit<EmbeddedFileJob, 'op'>; output: Uint8Array }
}

/** The docKey under which a worker keeps a stored blob's parsed structure (jobs/structure.ts). */
export function structureKey(blobKey: string): string {
  return `structure:${blobKey}`
}

export type JobInput<K extends JobKind> = JobTypes[K]['input']
export type JobOutput<K extends JobKind> = JobTypes[K]['output']
