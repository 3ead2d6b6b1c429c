import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { capWasmMemory } from '../../src/render/wasm-memory.js'

// The compiler's lib (ES2023, no DOM) does not declare WebAssembly; Node has it.
interface WasmMemory { buffer: ArrayBuffer; grow(pages: number): number }
const WebAssembly = (globalThis as unknown as {
  WebAssembly: {
    instantiate(bytes: Uint8Array): Promise<{ instance: { exports: Record<string, unknown> } }>
    validate(bytes: Uint8Array): boolean
    Memory: new (d: { initial: number }) => WasmMemory
  }
}).WebAssembly

// (module (memory (export "mem") 1 100)): header, memory section, export section.
const TINY = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x05, 0x04, 0x01, 0x01, 0x01, 0x64,
  0x07, 0x07, 0x01, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00,
])

test('a capped module cannot grow its memory past the cap', async () => {
  const capped = capWasmMemory(TINY, 3 * 65536)
  const { instance } = await WebAssembly.instantiate(capped)
  const mem = instance.exports.mem as WasmMemory
  assert.equal(mem.buffer.byteLength, 65536)
  mem.grow(2)
  assert.equal(mem.buffer.byteLength, 3 * 65536)
  assert.throws(() => mem.grow(1), RangeError)
})

test('the cap never goes below the initial size, and the rest of the module is kept', async () => {
  const capped = capWasmMemory(TINY, 0)
  const { instance } = await WebAssembly.instantiate(capped)
  assert.ok(instance.exports.mem instanceof WebAssembly.Memory)
  assert.throws(() => (instance.exports.mem as WasmMemory).grow(1), RangeError)
})

test("PDFium's module still compiles with a lowered maximum", async () => {
  const wasm = readFileSync(createRequire(import.meta.url).resolve('@hyzyla/pdfium/pdfium.wasm'))
  assert.ok(WebAssembly.validate(capWasmMemory(wasm, 256 * 1024 * 1024)))
})

test('bytes that are not a module are refused', () => {
  assert.throws(() => capWasmMemory(Buffer.from('%PDF-1.7'), 65536), /not a WebAssembly module/)
})
