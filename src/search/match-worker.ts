/**
 * A match worker (worker_threads): runs findMatches for the match pool. Keeps the page texts
 * of the last few documents it was sent (the pool mirrors which), so a repeated search only
 * sends the pattern. Terminated by the pool when a match runs past SEARCH_TIMEOUT_MS.
 */
import { parentPort } from 'node:worker_threads'
import { findMatches, type MatchPage } from './match.js'
import { WORKER_DOCS, type MatchReply, type MatchRequest } from './match-protocol.js'

const port = parentPort!
const docs = new Map<string, MatchPage[]>() // insertion order = oldest first, as the pool mirrors it

port.on('message', (msg: MatchRequest) => {
  try {
    if (msg.pages) {
      docs.delete(msg.docKey)
      docs.set(msg.docKey, msg.pages)
      while (docs.size > WORKER_DOCS) docs.delete(docs.keys().next().value!)
    }
    const pages = docs.get(msg.docKey)
    if (!pages) throw new Error('document text not sent')
    const result = findMatches(pages, msg.source, msg.flags, msg.maxResults)
    port.postMessage({ id: msg.id, result } satisfies MatchReply)
  } catch (e) {
    port.postMessage({ id: msg.id, error: e instanceof Error ? e.message.slice(0, 200) : 'failed' } satisfies MatchReply)
  }
})
