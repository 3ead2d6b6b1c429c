/**
 * Runs s3rver (npm, MIT) in its own process for the tests: `node s3rver-child.js DIR BUCKET`.
 * Prints `s3rver listening on PORT`. Its close() hangs (STACK-NOTES §6), so the parent ends it
 * with SIGKILL; the data folder is the parent's to remove.
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (o: Record<string, unknown>) => { run(): Promise<{ port: number }> }

const [dir, bucket] = process.argv.slice(2)
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: dir,
  configureBuckets: [{ name: bucket, configs: [] }],
  vhostBuckets: false,
})
server.run().then((addr) => {
  process.stdout.write(`s3rver listening on ${addr.port}\n`)
}, (e: unknown) => {
  process.stderr.write(`s3rver failed: ${String(e)}\n`)
  process.exit(1)
})
