/** Job `embedded-files`: the list of the PDF's embedded files (render/embedded-files.ts). */
import { embeddedFiles } from '../../render/embedded-files.js'
import type { EmbeddedFileInfo } from '../../render/protocol.js'
import type { JobContext } from '../job-context.js'
import type { JobInput } from '../kinds.js'
import { withDocument } from './engine.js'

export { prepare } from './engine.js'

export function handle(input: JobInput<'embedded-files'>, ctx: JobContext): Promise<EmbeddedFileInfo[]> {
  return withDocument(ctx, (engine, doc) => embeddedFiles(engine, doc, { op: 'embeddedFiles', ...input }))
}
