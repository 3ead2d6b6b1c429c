/** Job `annotations-export`: the incremental update that writes Folio's annotations into the PDF (null: none needed). */
import { buildExport } from '../../annotations/pdf-export.js'
import type { JobContext } from '../job-context.js'
import type { JobInput } from '../kinds.js'
import { structureOf } from './structure.js'

export async function handle(input: JobInput<'annotations-export'>, ctx: JobContext): Promise<Uint8Array | null> {
  const tail = await buildExport(await structureOf(ctx), input.items, { flatten: input.flatten })
  if (!tail) return null
  const own = tail.byteOffset === 0 && tail.byteLength === tail.buffer.byteLength ? tail : new Uint8Array(tail)
  ctx.transfer.push(own.buffer as ArrayBuffer)
  return own
}
