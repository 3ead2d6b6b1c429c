/**
 * A real S3-protocol server for tests on 127.0.0.1: s3rver 3.7.1 from npm (MIT). Debian has no
 * S3 server short of Ceph's radosgw, and s3rver verifies SigV4 signatures, supports ranged GET
 * and multipart uploads (STACK-NOTES §6). It runs in a child process that is SIGKILLed at the
 * end, since its close() hangs.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const CHILD = fileURLToPath(new URL('./s3rver-child.js', import.meta.url))
export const S3RVER_KEY = 'S3RVER' // s3rver's fixed access key id and secret

export interface TestS3 {
  port: number
  bucket: string
  child: ChildProcess
  /** ASSET_STORAGE_* variables for a Folio that uses this server. */
  env: Record<string, string>
  stop(): Promise<void>
}

export interface TestCredential { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

/** `credentials`: accepted besides S3RVER/S3RVER (with a session token: only with that token). */
export async function startS3Server(bucket = 'folio-test', opts: { credentials?: TestCredential[] } = {}): Promise<TestS3> {
  const dir = await mkdtemp(join(process.env.FOLIO_TEST_TMP ?? tmpdir(), 's3rver-'))
  const child = spawn(process.execPath, [CHILD, dir, bucket, JSON.stringify(opts.credentials ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start:\n${out}`)), 20_000)
    const onData = (d: Buffer) => {
      out += d.toString()
      const m = /s3rver listening on (\d+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`s3rver exited with ${code}:\n${out}`))
    })
  })
  const exited = new Promise<void>((r) => child.on('exit', () => r()))
  return {
    port,
    bucket,
    child,
    env: {
      ASSET_STORAGE_BACKEND: 's3',
      ASSET_STORAGE_S3_BUCKET: bucket,
      ASSET_STORAGE_S3_REGION: 'us-east-1',
      ASSET_STORAGE_S3_HOST: '127.0.0.1',
      ASSET_STORAGE_S3_PORT: String(port),
      ASSET_STORAGE_S3_SCHEME: 'http',
      ASSET_STORAGE_S3_ACCESS_KEY_ID: S3RVER_KEY,
      ASSET_STORAGE_S3_SECRET_ACCESS_KEY: S3RVER_KEY,
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
      await rm(dir, { recursive: true, force: true })
    },
  }
}
