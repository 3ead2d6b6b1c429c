/**
 * The text of a whole document with one box per character, for search and the all-pages text
 * route. Extracted in runs of pages (worker op `pageTexts`, at most two runs in flight per
 * document so one long document cannot fill RENDER_QUEUE_MAX), stored once per blob in the
 * render cache on disk (content-addressed like page images), and kept decoded in a small LRU
 * in memory, so a search after the first costs no engine work and no parsing.
 */
import type { DocumentSource } from '../documents/service.js'
import { cacheKey, type RenderCache } from './cache.js'
import type { RenderTask } from './protocol.js'
import type { Box, PageText, TextLine } from './protocol.js'

/** One page: its lines joined by "\n"; `boxes[4i..4i+3]` is [left, top, width, height] of `text[i]` (zeros for "\n"). */
export interface SearchPage {
  pageIndex: number
  /** Displayed size in points. */
  width: number
  height: number
  text: string
  boxes: Float32Array
  truncated: boolean
}

export interface DocumentText {
  pages: SearchPage[]
  bytes: number
  /** Identifies this text (engine, blob, password tag): equal keys, equal text. */
  key: string
}

export interface DocumentTextDeps {
  /** The render pool's run, with its failures already translated (service.ts). */
  run(task: RenderTask): Promise<unknown>
  cache: RenderCache
  engine: Promise<string>
  maxChars: number
  /** Bytes of decoded text kept in memory (least recently used dropped first). */
  memoryBytes: number
}

/** Pages per `pageTexts` job: small enough to stay far inside RENDER_TIMEOUT_MS. */
const RUN = 16
const IN_FLIGHT = 2

export function toSearchPage(pageIndex: number, t: PageText): SearchPage {
  const text = t.textLines.map((l) => l.contents).join('\n')
  const boxes = new Float32Array(text.length * 4)
  let at = 0
  t.textLines.forEach((line, li) => {
    if (li > 0) at++ // the "\n" keeps zeros
    for (let k = 0; k < line.charBoxes.length; k++, at++) boxes.set(line.charBoxes[k]!, at * 4)
  })
  return { pageIndex, width: t.width, height: t.height, text, boxes, truncated: t.truncated }
}

/** The page's lines back in the shape of the text routes (without per-character boxes). */
export function linesOf(page: SearchPage): Array<Omit<TextLine, 'charBoxes'>> {
  const out: Array<Omit<TextLine, 'charBoxes'>> = []
  let start = 0
  for (const contents of page.text.split('\n')) {
    const b = union(page.boxes, start, start + contents.length)
    out.push({ contents, left: b[0], top: b[1], width: b[2], height: b[3] })
    start += contents.length + 1
  }
  return page.text === '' ? [] : out
}

/** Union of the non-empty boxes of characters [from, to). */
export function union(boxes: Float32Array, from: number, to: number): Box {
  let l = Infinity, t = Infinity, r = -Infinity, b = -Infinity
  for (let i = from; i < to; i++) {
    const w = boxes[i * 4 + 2]!, h = boxes[i * 4 + 3]!
    if (w === 0 && h === 0) continue
    const x = boxes[i * 4]!, y = boxes[i * 4 + 1]!
    l = Math.min(l, x)
    t = Math.min(t, y)
    r = Math.max(r, x + w)
    b = Math.max(b, y + h)
  }
  if (l === Infinity) return [0, 0, 0, 0]
  return [round2(l), round2(t), round2(r - l), round2(b - t)]
}

function round2(v: number): number {
  return Math.round(v * 100) / 100
}

interface Stored {
  pages: Array<Omit<SearchPage, 'boxes'> & { boxes: string }>
}

function encode(doc: DocumentText): Buffer {
  const stored: Stored = {
    pages: doc.pages.map((p) => ({ pageIndex: p.pageIndex, width: p.width, height: p.height, text: p.text, truncated: p.truncated, boxes: Buffer.from(p.boxes.buffer, p.boxes.byteOffset, p.boxes.byteLength).toString('base64') })),
  }
  return Buffer.from(JSON.stringify(stored))
}

function decode(bytes: Buffer): DocumentText {
  const stored = JSON.parse(bytes.toString('utf8')) as Stored
  let size = 0
  const pages = stored.pages.map((p) => {
    const raw = Buffer.from(p.boxes, 'base64')
    const boxes = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))
    size += p.text.length * 2 + boxes.byteLength
    return { ...p, boxes }
  })
  return { pages, bytes: size, key: '' }
}

async function readAll(body: Buffer | NodeJS.ReadableStream): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body
  const chunks: Buffer[] = []
  for await (const c of body) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

export function createDocumentText(deps: DocumentTextDeps) {
  const memory = new Map<string, DocumentText>() // insertion order = least recently used first
  let memoryTotal = 0
  const inFlight = new Map<string, Promise<DocumentText>>()

  function remember(key: string, doc: DocumentText): void {
    if (doc.bytes > deps.memoryBytes / 2 || memory.has(key)) return
    memory.set(key, doc)
    memoryTotal += doc.bytes
    for (const [k, d] of memory) {
      if (memoryTotal <= deps.memoryBytes) break
      memory.delete(k)
      memoryTotal -= d.bytes
    }
  }

  async function extract(blob: DocumentSource, pageCount: number, docKey: string, password: string | undefined): Promise<DocumentText> {
    const pages: SearchPage[] = new Array(pageCount)
    const runs: number[] = []
    for (let i = 0; i < pageCount; i += RUN) runs.push(i)
    let next = 0
    const worker = async () => {
      while (next < runs.length) {
        const from = runs[next++]!
        const texts = (await deps.run({
          docKey,
          password,
          loadBytes: () => blob.read(),
          job: { op: 'pageTexts', pageIndex: from, to: Math.min(pageCount, from + RUN) - 1, maxChars: deps.maxChars },
        })) as PageText[]
        texts.forEach((t, k) => (pages[from + k] = toSearchPage(from + k, t)))
      }
    }
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, runs.length) }, worker))
    let bytes = 0
    for (const p of pages) bytes += p.text.length * 2 + p.boxes.byteLength
    return { pages, bytes, key: '' }
  }

  return {
    /**
     * The whole document's text. `passwordTag` separates what was opened with a password
     * (a digest, never the password) from what was not, in memory, on disk and in the worker.
     */
    async get(blob: DocumentSource, pageCount: number, password?: { value: string; tag: string }): Promise<DocumentText> {
      const key = cacheKey(['document-text', await deps.engine, blob.key, deps.maxChars, password?.tag ?? ''])
      const hot = memory.get(key)
      if (hot) {
        memory.delete(key)
        memory.set(key, hot)
        return hot
      }
      let running = inFlight.get(key)
      if (!running) {
        running = (async () => {
          const hit = await deps.cache.get(key)
          if (hit) return { ...decode(await readAll(hit.body)), key }
          const doc = { ...(await extract(blob, pageCount, password ? `${blob.key}:${password.tag}` : blob.key, password?.value)), key }
          await deps.cache.put(key, 'json', encode(doc))
          return doc
        })()
        inFlight.set(key, running)
        running.then((d) => remember(key, d), () => {}).finally(() => inFlight.delete(key))
      }
      return running
    },
  }
}

export type DocumentTextSource = ReturnType<typeof createDocumentText>
