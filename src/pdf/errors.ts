/**
 * Why a PDF could not be inspected. A closed set, so callers can switch on it:
 * - `not_pdf`: no `%PDF-x.y` header in the first 1024 bytes (ISO 32000-1 §7.5.2), or empty.
 * - `truncated`: the file ends before a structure the trailer or an object promised.
 * - `malformed`: a structure is wrong (bad xref offset, bad syntax, page tree cycle, bad /Rotate).
 * - `too_complex`: a configured limit was reached (pages, objects, depth, decoded bytes).
 * - `encrypted_unreadable`: the page tree sits in an object stream of an encrypted file, which
 *   cannot be decoded without the key; the caller may accept the file with unknown page info.
 */
export type PdfErrorReason = 'not_pdf' | 'truncated' | 'malformed' | 'too_complex' | 'encrypted_unreadable'

/** The only error `inspectPdf` throws for anything wrong with the file itself. */
export class PdfInspectError extends Error {
  override readonly name = 'PdfInspectError'
  readonly reason: PdfErrorReason

  constructor(reason: PdfErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.reason = reason
  }
}

export function fail(reason: PdfErrorReason, message: string): never {
  throw new PdfInspectError(reason, message)
}
