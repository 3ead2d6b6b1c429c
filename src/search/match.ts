/**
 * Finding the matches of one regular expression in a document's page texts. Pure and
 * synchronous: text queries (escaped literals, linear) run it on the main thread; client
 * regular expressions and presets run it only in a match worker with a time limit
 * (match-pool.ts), because V8's backtracking engine can take exponential time on them.
 */

export interface MatchPage {
  pageIndex: number
  text: string
}

export interface Match {
  pageIndex: number
  start: number
  end: number
}

export interface MatchResult {
  matches: Match[]
  /** More than `maxResults` matches: the rest were not looked for. */
  truncated: boolean
}

export function findMatches(pages: readonly MatchPage[], source: string, flags: string, maxResults: number): MatchResult {
  const re = new RegExp(source, flags.includes('g') ? flags : `${flags}g`)
  const matches: Match[] = []
  for (const page of pages) {
    re.lastIndex = 0
    for (let m = re.exec(page.text); m !== null; m = re.exec(page.text)) {
      if (m[0].length === 0) {
        re.lastIndex++ // an empty match would loop forever and highlights nothing
        continue
      }
      if (matches.length >= maxResults) return { matches, truncated: true }
      matches.push({ pageIndex: page.pageIndex, start: m.index, end: m.index + m[0].length })
    }
  }
  return { matches, truncated: false }
}

/**
 * Compiles on the main thread to validate only (compiling runs no match and is linear in the
 * pattern). ICU syntax (the reference's dialect) is closest to JavaScript's Unicode mode; a
 * pattern that only compiles without `u` (e.g. an escaped "-" outside a class) is taken so.
 */
export function compileFlags(source: string, caseSensitive: boolean): string | undefined {
  const base = caseSensitive ? '' : 'i'
  for (const flags of [`${base}u`, base]) {
    try {
      new RegExp(source, flags)
      return flags
    } catch {
      // try the next dialect
    }
  }
  return undefined
}
