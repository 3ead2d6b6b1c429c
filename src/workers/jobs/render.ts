/** Job `render`: one page as raw RGB pixels (render/service.ts encodes them). */
import type { RawImage } from '../../render/protocol.js'
import type { JobContext } from '../job-context.js'
import type { JobInput } from '../kinds.js'
import { withDocument } from './engine.js'

export { prepare } from './engine.js'

export async function handle(input: JobInput<'render'>, ctx: JobContext): Promise<RawImage> {
  const image = await withDocument(ctx, (engine, doc) => engine.render(doc, input.pageIndex, input.width, input.height, input.annotations))
  ctx.transfer.push(image.pixels.buffer as ArrayBuffer)
  return image
}
