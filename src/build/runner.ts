/**
 * Runs engine jobs in build workers: at most BUILD_CONCURRENCY at once, BUILD_QUEUE_MAX waiting
 * (more → 429 build_queue_full), each in a fresh worker thread with a JS heap cap, terminated at
 * the job's deadline (its qpdf children carry the same deadline and are killed by it). The one
 * call site of build work: `runEngineJob`.
 */
import { Worker } from 'node:worker_threads'
import { FolioError, type ErrorCode } from '../errors.js'
import type { Logger } from '../log.js'
import type { EngineJob, EngineResult } from './engine.js'
import type { WorkerOutcome } from './worker.js'

const WORKER_URL = new URL('./worker.js', import.meta.url)

export interface BuildRunner {
  run(job: EngineJob): Promise<EngineResult>
  stats(): { running: number; queued: number }
}

export function createBuildRunner(opts: { concurrency: number; queueMax: number; log: Logger }): BuildRunner {
  let running = 0
  const queue: Array<() => void> = []

  async function slot(): Promise<void> {
    if (running < opts.concurrency) {
      running++
      return
    }
    if (queue.length >= opts.queueMax) throw new FolioError('build_queue_full', { limit: opts.queueMax })
    await new Promise<void>((resolve) => queue.push(resolve))
    running++
  }

  function release(): void {
    running--
    queue.shift()?.()
  }

  function once(job: EngineJob): Promise<EngineResult> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_URL, { workerData: job, resourceLimits: { maxOldGenerationSizeMb: 512 }, stdout: true, stderr: true })
      worker.stdout.resume()
      worker.stderr.resume()
      let settled = false
      const settle = (fn: () => void) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        fn()
        void worker.terminate().catch(() => {})
      }
      const timer = setTimeout(() => settle(() => reject(new FolioError('build_failed', { reason: 'timeout' }, { message: 'The build ran past BUILD_TIMEOUT_MS' }))), Math.max(1, job.deadline - Date.now()))
      worker.on('message', (m: WorkerOutcome) => settle(() => {
        if (m.ok) return resolve(m.result)
        if (m.refusal) {
          if (m.failure) opts.log.info({ reason: m.refusal.details.reason, engine: m.failure }, 'build refused')
          return reject(new FolioError(m.refusal.code as ErrorCode, m.refusal.details, { message: m.refusal.message }))
        }
        opts.log.warn({ engine: m.failure }, 'build failed')
        reject(new FolioError('build_failed', { reason: 'engine_error' }))
      }))
      worker.on('error', (e: Error & { code?: string }) => settle(() => {
        opts.log.warn({ err: { type: e.name, message: e.message, code: e.code } }, 'build worker died')
        reject(new FolioError('build_failed', { reason: e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory_limit' : 'engine_error' }))
      }))
      worker.on('exit', () => settle(() => reject(new FolioError('build_failed', { reason: 'engine_error' }))))
    })
  }

  return {
    async run(job) {
      await slot()
      try {
        return await once(job)
      } finally {
        release()
      }
    },
    stats: () => ({ running, queued: queue.length }),
  }
}
