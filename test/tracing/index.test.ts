/**
 * "Zero cost when off": OpenTelemetry is imported by tracing/sdk.ts alone, and sdk.ts is reached
 * only through the dynamic import() in tracing/index.ts, which app.ts calls only when
 * ENABLE_OPENTELEMETRY is on. A static import anywhere else would load the SDK in every Folio.
 * Likewise the AWS and Azure SDKs (~1.3 s and ~34 MiB to load together) load only for their backend.
 */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url))

async function sources(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...await sources(p))
    else if (e.name.endsWith('.ts')) out.push(p)
  }
  return out
}

test('only tracing/sdk.ts imports OpenTelemetry, nothing imports sdk.ts statically, and the cloud storage SDKs load on first use', async () => {
  const files = await sources(SRC)
  assert.ok(files.length > 50, `found the sources in ${SRC}`)
  for (const f of files) {
    const name = relative(SRC, f)
    const text = await readFile(f, 'utf8')
    // import … from '…' / export … from '…' (type-only imports are erased by the compiler)
    const staticImports = [...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1]!)
    if (name !== join('tracing', 'sdk.ts')) {
      assert.ok(!staticImports.some((s) => s.startsWith('@opentelemetry/')), `${name} imports OpenTelemetry statically`)
    }
    assert.ok(!staticImports.some((s) => /(^|\/)tracing\/sdk\.js$|^\.\/sdk\.js$/.test(s)), `${name} imports tracing/sdk statically`)
    // The same for the cloud storage SDKs: loaded on first use by storage/s3.ts and azure.ts.
    assert.ok(!staticImports.some((s) => s.startsWith('@aws-sdk/') || s.startsWith('@azure/')), `${name} imports a cloud SDK statically`)
  }
  const index = await readFile(join(SRC, 'tracing', 'index.ts'), 'utf8')
  assert.match(index, /await import\('\.\/sdk\.js'\)/)
  const app = await readFile(join(SRC, 'app.ts'), 'utf8')
  assert.match(app, /config\.tracing \? await startTracing\(/, 'app.ts starts tracing only when configured')
})
