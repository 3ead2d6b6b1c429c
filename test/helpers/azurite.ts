/**
 * A real Azure Blob service for tests on 127.0.0.1: Azurite (npm `azurite`, MIT, Microsoft's own
 * emulator), blob service only, in a child process with a temp folder, ended with SIGKILL.
 * `--disableTelemetry`: Azurite otherwise sends usage data to Application Insights (tests reach
 * only loopback). `--skipApiVersionCheck`: the SDK may speak a newer API version than the
 * emulator announces.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob'

const require = createRequire(import.meta.url)
const MAIN = join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js')

/** Azurite's fixed development account (documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1'
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

export interface TestAzurite {
  port: number
  /** The Blob service URL: http://127.0.0.1:<port>/devstoreaccount1 */
  url: string
  container: string
  child: ChildProcess
  /** ASSET_STORAGE_* / AZURE_STORAGE_* variables for a Folio that uses this service. */
  env: Record<string, string>
  connectionString: string
  stop(): Promise<void>
}

export async function startAzurite(container = 'folio-test'): Promise<TestAzurite> {
  const dir = await mkdtemp(join(process.env.FOLIO_TEST_TMP ?? tmpdir(), 'azurite-'))
  const child = spawn(process.execPath, [
    MAIN, '--blobHost', '127.0.0.1', '--blobPort', '0', '--location', dir,
    '--silent', '--disableTelemetry', '--skipApiVersionCheck', '--loose',
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`azurite did not start:\n${out}`)), 30_000)
    const onData = (d: Buffer) => {
      out += d.toString()
      const m = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`azurite exited with ${code}:\n${out}`))
    })
  })
  const exited = new Promise<void>((r) => child.on('exit', () => r()))
  const url = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`
  const service = new BlobServiceClient(url, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY))
  await service.getContainerClient(container).createIfNotExists()
  return {
    port,
    url,
    container,
    child,
    env: {
      ASSET_STORAGE_BACKEND: 'azure',
      AZURE_STORAGE_ACCOUNT_NAME: AZURITE_ACCOUNT,
      AZURE_STORAGE_ACCOUNT_KEY: AZURITE_KEY,
      AZURE_STORAGE_API_URL: url,
      AZURE_STORAGE_DEFAULT_CONTAINER: container,
    },
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${url};`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
      await rm(dir, { recursive: true, force: true })
    },
  }
}
