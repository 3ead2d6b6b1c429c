/** Child-process servers for the benchmarks: Folio itself or a baseline, started and stopped. */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The compiled entry point (benchmarks run from dist/bench). */
export const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))

export interface ChildServer {
  child: ChildProcess
  url: string
  pid: number
  stop(): Promise<void>
}

/**
 * Runs `node args…` with only PATH and `env` in its environment and resolves once its stdout
 * matches `ready` (group 1: the URL). `stopSignal` ends it (SIGKILL where a clean shutdown
 * would wait on something the benchmark does not care about).
 */
export function startChild(
  args: string[],
  env: Record<string, string | undefined>,
  opts: { ready?: RegExp; stopSignal?: NodeJS.Signals } = {},
): Promise<ChildServer> {
  const ready = opts.ready ?? /listening on (http:\/\/\S+)/
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d
      const m = ready.exec(out)
      if (m) {
        resolve({
          child,
          url: m[1]!,
          pid: child.pid!,
          stop: () => new Promise((r) => {
            child.on('exit', () => r())
            child.kill(opts.stopSignal ?? 'SIGTERM')
          }),
        })
      }
    })
    child.on('exit', (c) => reject(new Error(`child exited ${c}: ${out.slice(-2000)}`)))
  })
}

/** Folio on an ephemeral loopback port, logging warnings only. */
export function startFolio(env: Record<string, string | undefined>, opts: { stopSignal?: NodeJS.Signals } = {}): Promise<ChildServer> {
  return startChild([MAIN], { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env }, opts)
}
