/** Job `annotations-importable`: whether the PDF holds annotations Folio imported (a download must drop them). */
import { hasImportable } from '../../annotations/pdf-export.js'
import type { JobContext } from '../job-context.js'
import { structureOf } from './structure.js'

export async function handle(_input: unknown, ctx: JobContext): Promise<boolean> {
  return hasImportable(await structureOf(ctx))
}
