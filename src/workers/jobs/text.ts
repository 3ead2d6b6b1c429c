/** Job `text`: one page's text lines with character boxes. */
import type { PageText } from '../../render/protocol.js'
import type { JobContext } from '../job-context.js'
import type { JobInput } from '../kinds.js'
import { withDocument } from './engine.js'

export { prepare } from './engine.js'

export function handle(input: JobInput<'text'>, ctx: JobContext): Promise<PageText> {
  return withDocument(ctx, (engine, doc) => engine.text(doc, input.pageIndex, input.maxChars))
}
