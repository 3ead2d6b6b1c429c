/** Job `inspect`: upload validation (page count, sizes, rotation, version) with xref repair. */
import { inspectPdf, type PdfInfo } from '../../pdf/inspect.js'
import { JobFailure, type JobContext } from '../job-context.js'
import type { JobInput } from '../kinds.js'

export function handle(input: JobInput<'inspect'>, ctx: JobContext): Promise<PdfInfo> {
  if (!ctx.source) throw new JobFailure('engine_error', 'inspect needs a source')
  return inspectPdf(ctx.source, input.limits)
}
