/**
 * Why a PDF could not be inspected. A closed set, so callers can switch on it:
 * - `not_pdf`: no `%PDF-x.y` header in the first 1024 bytes (ISO 32000-1 §7.5.2), or empty.
 * - `truncated`: the file ends before a structure the trailer or an object promised.
 * - `malformed`: a structure is wrong (bad syntax, page tree cycle, bad /Rotate) and no repair helped.
 * - `too_complex`: a work budget was spent; `limit` names which one (PdfLimit).
 * - `encrypted_unreadable`: the page tree sits in an object stream of an encrypted file, which
 *   cannot be decoded without the key; the caller may accept the file with unknown page info.
 */
export type PdfErrorReason = 'not_pdf' | 'truncated' | 'malformed' | 'too_complex' | 'encrypted_unreadable'

/**
 * The budget a `too_complex` refusal spent (each counts work, not objects in the file):
 * - `pages`: pages in the tree;  `page_tree_nodes`: page tree nodes visited;
 * - `objects`: indirect objects resolved;  `depth`: nesting of page tree nodes or of arrays/dictionaries;
 * - `bytes_lexed`: bytes of object syntax tokenised in one operation;
 * - `bytes_decoded`: bytes of streams decoded in one operation;  `stream_bytes`: one decoded stream;
 * - `object_stream_entries`: entries claimed by object stream headers (`/N`) in one operation;
 * - `xref_sections`: cross-reference sections (/Prev chain);  `object_size`: one object's bytes;
 * - `bytes_scanned`: bytes read while rebuilding a damaged cross-reference.
 */
export type PdfLimit =
  | 'pages'
  | 'page_tree_nodes'
  | 'objects'
  | 'depth'
  | 'bytes_lexed'
  | 'bytes_decoded'
  | 'stream_bytes'
  | 'object_stream_entries'
  | 'xref_sections'
  | 'object_size'
  | 'bytes_scanned'

/** The only error `inspectPdf` throws for anything wrong with the file itself. */
export class PdfInspectError extends Error {
  override readonly name = 'PdfInspectError'
  readonly reason: PdfErrorReason
  readonly limit: PdfLimit | undefined

  constructor(reason: PdfErrorReason, message: string, options?: { cause?: unknown; limit?: PdfLimit }) {
    super(message, options)
    this.reason = reason
    this.limit = options?.limit
  }
}

export function fail(reason: PdfErrorReason, message: string): never {
  throw new PdfInspectError(reason, message)
}

/** A spent work budget: `too_complex` naming the limit. */
export function overBudget(limit: PdfLimit, message: string): never {
  throw new PdfInspectError('too_complex', message, { limit })
}
