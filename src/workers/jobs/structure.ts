/**
 * The parsed structure of a stored PDF (pdf/structure.ts), kept per worker by the blob's key so
 * a download, a layer creation and the next download do not parse the same file again. Blobs
 * are content-addressed: a key always names the same bytes, so any later job's source can serve
 * the cached structure's reads. Bounded: a few structures per worker, least recently used out.
 */
import { readStructure, type PdfStructure } from '../../pdf/structure.js'
import { JobFailure, registerHeld, type JobContext } from '../job-context.js'
import { structureKey } from '../kinds.js'

const MAX_CACHED = 4
const PREFIX = structureKey('')
const cache = new Map<string, Promise<PdfStructure>>()
registerHeld(() => [...cache.keys()].map((k) => PREFIX + k))

export async function structureOf(ctx: JobContext): Promise<PdfStructure> {
  if (!ctx.source) throw new JobFailure('engine_error', 'this job needs a source')
  const key = ctx.docKey?.startsWith(PREFIX) ? ctx.docKey.slice(PREFIX.length) : undefined
  if (key === undefined) return readStructure(ctx.source)
  let hit = cache.get(key)
  if (hit) {
    cache.delete(key)
  } else {
    hit = readStructure(ctx.source)
    hit.catch(() => cache.delete(key))
  }
  cache.set(key, hit)
  while (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!)
  return hit
}
