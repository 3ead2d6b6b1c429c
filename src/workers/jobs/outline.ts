/** Job `outline`: the document's outline (bookmark tree), bounded in nodes and depth. */
import { outline } from '../../render/outline.js'
import type { Outline } from '../../render/protocol.js'
import type { JobContext } from '../job-context.js'
import type { JobInput } from '../kinds.js'
import { withDocument } from './engine.js'

export { prepare } from './engine.js'

export function handle(input: JobInput<'outline'>, ctx: JobContext): Promise<Outline> {
  return withDocument(ctx, (engine, doc) => outline(engine, doc, { op: 'outline', ...input }))
}
