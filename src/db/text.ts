/**
 * What PostgreSQL `text` and `jsonb` can hold: no U+0000 (SQLSTATE 22P05 / 22021) and valid
 * Unicode, so no unpaired UTF-16 surrogate (it has no UTF-8 form; JSON.stringify writes it as
 * `\udfff`, which jsonb refuses). Checked at the boundary so that such strings are a client's
 * 400, never a driver's 500.
 */

/** U+0000, or a high surrogate not followed by a low one, or a low one not preceded by a high one. */
const UNSTORABLE_RE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

export function isStorableText(s: string): boolean {
  return !UNSTORABLE_RE.test(s)
}

/** How deep JSON bodies may nest (arrays and objects); Instant JSON needs about 6. */
export const MAX_JSON_DEPTH = 64

export type ValueProblem = { problem: 'unstorable_string' | 'too_deep'; path: string }

/**
 * The first string (value or object key) PostgreSQL could not store, or the first point deeper
 * than `maxDepth`, in a parsed JSON value. Iterative, so a hostile nesting cannot overflow the
 * stack here (it did in JSON.stringify, further down).
 */
export function findValueProblem(root: unknown, rootPath: string, maxDepth = MAX_JSON_DEPTH): ValueProblem | undefined {
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: root, path: rootPath, depth: 0 }]
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!
    if (typeof v === 'string') {
      if (!isStorableText(v)) return { problem: 'unstorable_string', path }
      continue
    }
    if (v === null || typeof v !== 'object') continue
    if (depth >= maxDepth) return { problem: 'too_deep', path }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}[${i}]`, depth: depth + 1 })
      continue
    }
    // Only plain data: a stream or buffer body (uploads) is not looked into.
    const proto = Object.getPrototypeOf(v)
    if (proto !== Object.prototype && proto !== null) continue
    for (const key of Object.keys(v)) {
      const at = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`
      if (!isStorableText(key)) return { problem: 'unstorable_string', path: `${path}[key]` }
      stack.push({ v: (v as Record<string, unknown>)[key], path: at, depth: depth + 1 })
    }
  }
  return undefined
}
