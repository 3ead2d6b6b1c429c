#!/usr/bin/env node
// Runs the whole suite on the compiled output (dist/), which `npm test` builds first (pretest).
//
// Node 20's `node --test` expands no globs and discovers no .ts files (STACK-NOTES §9), so this
// script lists the compiled test files itself and passes them explicitly. It refuses to pass a
// run that executed zero tests: an empty list, or a runner summary with "pass 0", is a failure.
//
// Usage: node scripts/run-tests.mjs [filter ...]   (filters are substrings of the test path)
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { prepareTestDatabases } from '../dist/test/helpers/global-setup.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const testRoot = join(root, 'dist', 'test')

function walk(dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...walk(p))
    else if (name.endsWith('.test.js')) out.push(p)
  }
  return out
}

const filters = process.argv.slice(2)
let files = walk(testRoot).sort()
if (filters.length > 0) files = files.filter((f) => filters.some((x) => relative(testRoot, f).includes(x)))
if (files.length === 0) {
  console.error('run-tests: no test files matched; refusing to report success')
  process.exit(1)
}

// One PostgreSQL for the whole run (found, or started as a throwaway cluster) and one migrated
// PGlite template folder; children learn both through the environment.
const env = { ...process.env, ...(await prepareTestDatabases()) }

const concurrency = process.env.TEST_CONCURRENCY ?? '2'
const child = spawn(
  process.execPath,
  ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] },
)
// The runner's own summary lines ("ℹ pass N", "ℹ fail N") are read as they stream by.
let partial = ''
let pass = 0
let fail = 0
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  const lines = (partial + chunk.toString('utf8')).split('\n')
  partial = lines.pop() ?? ''
  for (const line of lines) {
    const m = /^(?:ℹ|#) (pass|fail) (\d+)\s*$/.exec(line)
    if (m) m[1] === 'pass' ? (pass = Number(m[2])) : (fail = Number(m[2]))
  }
})
child.on('close', async (code) => {
  if (env.FOLIO_TEST_CLEANUP) {
    const { cleanupTestDatabases } = await import('../dist/test/helpers/global-setup.js')
    await cleanupTestDatabases(env)
  }
  if (code === 0 && pass === 0) {
    console.error('run-tests: the runner executed no test; refusing to report success')
    process.exit(1)
  }
  // A failure outside any test (e.g. a file that throws while loading) fails the run too.
  console.log(`\n${pass} passed, ${code === 0 ? fail : Math.max(fail, 1)} failed`)
  process.exit(code ?? 1)
})
