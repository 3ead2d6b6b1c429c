/**
 * If-None-Match against a strong ETag (RFC 9110 §13.1.2): a list of tags, weak ones compared
 * weakly, `*` matching any current representation. Shared by every download and page route.
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')
}
