/**
 * A build worker (worker_threads): runs one engine job (engine.ts) and exits. PDF structure is
 * read here, never on the main thread; qpdf runs are children of this process with the job's
 * deadline. Refusals travel back as `{code, details, message}`; anything else as a failure.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { FolioError } from '../errors.js'
import { runBuild, runOperations, type EngineJob, type EngineResult } from './engine.js'

export type WorkerOutcome =
  | { ok: true; result: EngineResult }
  | { ok: false; refusal?: { code: string; details: Record<string, unknown>; message: string }; failure?: string }

const job = workerData as EngineJob
let outcome: WorkerOutcome
try {
  outcome = { ok: true, result: job.kind === 'build' ? await runBuild(job) : await runOperations(job) }
} catch (e) {
  outcome = e instanceof FolioError
    ? { ok: false, refusal: { code: e.code, details: e.details, message: e.message }, failure: e.cause instanceof Error ? e.cause.message.slice(0, 300) : undefined }
    : { ok: false, failure: e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 300) : String(e).slice(0, 300) }
}
parentPort!.postMessage(outcome)
