/** Messages between the match pool and its workers (structured-clone data only). */
import type { MatchPage, MatchResult } from './match.js'

/** Documents whose texts a match worker keeps; the pool mirrors the same order. */
export const WORKER_DOCS = 4

export interface MatchRequest {
  id: number
  docKey: string
  /** Sent when the worker does not hold this document's texts yet. */
  pages?: MatchPage[]
  source: string
  flags: string
  maxResults: number
}

export type MatchReply = { id: number; result: MatchResult; error?: undefined } | { id: number; error: string; result?: undefined }
