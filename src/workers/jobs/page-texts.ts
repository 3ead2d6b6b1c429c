/** Job `page-texts`: the text of a run of pages in one job (search, all-pages text). */
import { pageTexts } from '../../render/page-texts.js'
import type { PageText } from '../../render/protocol.js'
import type { JobContext } from '../job-context.js'
import type { JobInput } from '../kinds.js'
import { withDocument } from './engine.js'

export { prepare } from './engine.js'

export function handle(input: JobInput<'page-texts'>, ctx: JobContext): Promise<PageText[]> {
  return withDocument(ctx, (engine, doc) => pageTexts(engine, doc, { op: 'pageTexts', ...input }))
}
