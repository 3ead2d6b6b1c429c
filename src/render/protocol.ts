/**
 * Inputs and results of the render and text jobs (workers/kinds.ts runs them in the PDF work
 * pool). Everything here crosses a `postMessage`, so it is structured-clone data only.
 */

/** Why a render or text extraction failed; becomes `render_failed` with this `reason` (docs/errors.md). */
export type RenderFailure =
  | 'timeout' // the engine ran past RENDER_TIMEOUT_MS; the worker was terminated
  | 'memory_limit' // the engine hit RENDER_WORKER_MEMORY_MB; the worker was replaced
  | 'engine_error' // the engine aborted or the worker died; the worker was replaced
  | 'unreadable' // the engine could not open the document or the page
  | 'password_required' // the document needs a password Folio does not have
  | 'too_large' // the document's bytes do not fit the worker's memory cap

export interface RenderJob {
  op: 'render'
  pageIndex: number
  /** Output size in pixels, in the page's displayed orientation (its /Rotate applied). */
  width: number
  height: number
  /** Draw the PDF's own annotation appearance streams (FPDF_ANNOT). */
  annotations: boolean
}

export interface TextJob {
  op: 'text'
  pageIndex: number
  /** Characters beyond this are dropped and the result says `truncated`. */
  maxChars: number
}

/** The text of pages `from`..`to` (inclusive) in one job, for search and all-pages text. */
export interface PageTextsJob {
  op: 'pageTexts'
  /** The first page; also what the pool's log names. */
  pageIndex: number
  to: number
  maxChars: number
}

/** The document's outline (bookmark tree), bounded in nodes and depth. */
export interface OutlineJob {
  op: 'outline'
  pageIndex: 0
  maxNodes: number
  maxDepth: number
}

/** The list of the PDF's embedded files (render/embedded-files.ts). */
export interface EmbeddedFilesJob {
  op: 'embeddedFiles'
  pageIndex: 0
  maxFiles: number
  maxBytes: number
}

/** The bytes of embedded file `index`. */
export interface EmbeddedFileJob {
  op: 'embeddedFile'
  pageIndex: 0
  index: number
  maxBytes: number
}

export type Job = RenderJob | TextJob | PageTextsJob | OutlineJob | EmbeddedFilesJob | EmbeddedFileJob

/** Tightly packed 8-bit RGB rows, top to bottom. */
export interface RawImage {
  width: number
  height: number
  channels: 3
  pixels: Uint8Array
}

/** [left, top, width, height] in points, top-left origin, page as displayed. */
export type Box = [number, number, number, number]

export interface TextLine {
  contents: string
  left: number
  top: number
  width: number
  height: number
  /** One box per UTF-16 code unit of `contents` (so `contents[i]` ↔ `charBoxes[i]` in JS). */
  charBoxes: Box[]
}

export interface PageText {
  /** Page size in points, as displayed (rotation applied, crop box). */
  width: number
  height: number
  textLines: TextLine[]
  truncated: boolean
}

/** One outline node: the PDF's title, style and target (a page or a URI), children nested. */
export interface OutlineNode {
  title: string
  isExpanded: boolean
  pageIndex?: number
  uri?: string
  children: OutlineNode[]
}

export interface Outline {
  outline: OutlineNode[]
  /** More nodes or deeper nesting than the job allowed: the rest was left out. */
  truncated: boolean
}

export interface EmbeddedFileInfo {
  index: number
  name: string
  contentType: string
  size: number
  /** Hex sha256 of the bytes; absent when the file is over the size limit. */
  sha256?: string
}

export type JobResult = RawImage | PageText | PageText[] | Outline | EmbeddedFileInfo[] | Uint8Array

/**
 * A job as the render service and document text describe it; `run` in render/service.ts hands
 * it to the PDF work pool as the kind of its `op` (workers/kinds.ts).
 */
export interface RenderTask {
  /** Identifies the bytes (and the password, when one opens them): the worker keeps the document open under it. */
  docKey: string
  /** A fresh buffer on each call: the pool transfers it to a worker. */
  loadBytes(): Promise<Uint8Array>
  /** Opens an encrypted PDF; never stored or logged (render/password.ts). */
  password?: string
  /** Jobs of one document share at most half the workers (workers/pool.ts). */
  fairnessKey?: string
  job: Job
}
