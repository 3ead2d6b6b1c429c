/**
 * Caps the linear memory of a WebAssembly module by rewriting the maximum of its memory section.
 *
 * Why: the PDFium build defines its own memory (exported, not imported) with a 2 GiB maximum, and
 * WebAssembly memory lives outside V8's heap, so a worker's `resourceLimits` do not bound it. A
 * hostile PDF (a Flate bomb in a content stream, a self-drawing form XObject; issue #6) would
 * otherwise take 2 GiB per worker before PDFium gives up. With the maximum lowered, `memory.grow`
 * fails at the cap, PDFium's allocator aborts, and the pool replaces that one worker.
 *
 * Binary format: WebAssembly core spec §5.5.8 (memory section: vec(memtype)), §5.3.8 (limits:
 * 0x00 min | 0x01 min max), §5.2.2 (unsigned LEB128).
 */

const WASM_PAGE = 65536
const MEMORY_SECTION = 5

function readU32(bytes: Uint8Array, pos: number): { value: number; next: number } {
  let value = 0
  let shift = 0
  for (let i = 0; i < 5; i++) {
    const b = bytes[pos + i]
    if (b === undefined) throw new Error('truncated LEB128')
    value += (b & 0x7f) * 2 ** shift
    if ((b & 0x80) === 0) return { value, next: pos + i + 1 }
    shift += 7
  }
  throw new Error('LEB128 too long')
}

function writeU32(value: number): number[] {
  const out: number[] = []
  do {
    let b = value & 0x7f
    value = Math.floor(value / 128)
    if (value !== 0) b |= 0x80
    out.push(b)
  } while (value !== 0)
  return out
}

/**
 * Returns a copy of `wasm` whose (single, 32-bit) memory may grow to at most `maxBytes`
 * (rounded down to whole 64 KiB pages, and never below the module's initial size).
 */
export function capWasmMemory(wasm: Uint8Array, maxBytes: number): Uint8Array {
  if (wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) throw new Error('not a WebAssembly module')
  let pos = 8
  while (pos < wasm.length) {
    const id = wasm[pos]!
    const size = readU32(wasm, pos + 1)
    const start = size.next
    const end = start + size.value
    if (id === MEMORY_SECTION) {
      const count = readU32(wasm, start)
      if (count.value !== 1) throw new Error('expected exactly one memory')
      const flags = wasm[count.next]!
      if (flags !== 0 && flags !== 1) throw new Error(`unsupported memory flags ${flags}`) // shared or 64-bit
      const initial = readU32(wasm, count.next + 1)
      const maxPages = Math.max(initial.value, Math.floor(maxBytes / WASM_PAGE))
      const body = [...writeU32(1), 0x01, ...writeU32(initial.value), ...writeU32(maxPages)]
      const section = [MEMORY_SECTION, ...writeU32(body.length), ...body]
      const out = new Uint8Array(wasm.length - (end - pos) + section.length)
      out.set(wasm.subarray(0, pos), 0)
      out.set(section, pos)
      out.set(wasm.subarray(end), pos + section.length)
      return out
    }
    pos = end
  }
  throw new Error('no memory section')
}
