/** Job `annotations-read`: the PDF's own importable annotations (import on upload, a new layer's base). */
import { readPdfAnnotations } from '../../annotations/pdf-export.js'
import type { JobContext } from '../job-context.js'
import type { JobInput, JobOutput } from '../kinds.js'
import { structureOf } from './structure.js'

export async function handle(input: JobInput<'annotations-read'>, ctx: JobContext): Promise<JobOutput<'annotations-read'>> {
  return readPdfAnnotations(await structureOf(ctx), input.max)
}
