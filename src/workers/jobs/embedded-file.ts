/** Job `embedded-file`: the bytes of one embedded file, bounded in size. */
import { embeddedFile } from '../../render/embedded-files.js'
import type { JobContext } from '../job-context.js'
import type { JobInput } from '../kinds.js'
import { withDocument } from './engine.js'

export { prepare } from './engine.js'

export async function handle(input: JobInput<'embedded-file'>, ctx: JobContext): Promise<Uint8Array> {
  const bytes = await withDocument(ctx, (engine, doc) => embeddedFile(engine, doc, { op: 'embeddedFile', ...input }))
  ctx.transfer.push(bytes.buffer as ArrayBuffer)
  return bytes
}
