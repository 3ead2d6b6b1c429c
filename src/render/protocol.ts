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

export type Job = RenderJob | TextJob

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

export type JobResult = RawImage | PageText
