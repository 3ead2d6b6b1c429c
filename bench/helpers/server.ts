/** Child-process servers for the benchmarks: Folio itself or a baseline, started and stopped. */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The compiled entry point (benchmarks run from dist/bench); BENCH_MAIN runs another build (a before/after comparison). */
export const MAIN = process.env.BENCH_MAIN ?? fileURLToPath(new URL('../../src/main.js', import.meta.url))

export interface ChildServer {
  child: ChildProcess
  url: string
  pid: number
  /** The file the child's stdout goes to (Folio's log). */
  logFile: string
  stop(): Promise<void>
}

/**
 * Runs `node args…` with only PATH and `env` in its environment and resolves once its stdout
 * matches `ready` (group 1: the URL). stdout goes to a file, not a pipe: a server's log is
 * written as in production (to a file descriptor), and reading it would cost the benchmark
 * process, which is also the load generator, CPU in the middle of a measurement.
 * `stopSignal` ends it (SIGKILL where a clean shutdown would wait on something the benchmark
 * does not care about).
 */
export function startChild(
  args: string[],
  env: Record<string, string | undefined>,
  opts: { ready?: RegExp; stopSignal?: NodeJS.Signals } = {},
): Promise<ChildServer> {
  const ready = opts.ready ?? /listening on (http:\/\/\S+)/
  const dir = mkdtempSync(join(tmpdir(), 'folio-bench-log-'))
  const logFile = join(dir, 'stdout.log')
  const fd = openSync(logFile, 'w')
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', fd, 'inherit'] })
  closeSync(fd)
  const cleanup = () => rmSync(dir, { recursive: true, force: true })
  return new Promise((resolve, reject) => {
    let done = false
    const onExit = (c: number | null) => {
      if (done) return
      done = true
      clearInterval(poll)
      const out = readFileSync(logFile, 'utf8')
      cleanup()
      reject(new Error(`child exited ${c}: ${out.slice(-2000)}`))
    }
    child.on('exit', onExit)
    // Reads only the start of the file: the ready line comes before any request is logged.
    const poll = setInterval(() => {
      const m = ready.exec(readFileSync(logFile, 'utf8').slice(0, 64 * 1024))
      if (!m || done) return
      done = true
      clearInterval(poll)
      resolve({
        child,
        url: m[1]!,
        pid: child.pid!,
        logFile,
        stop: () => new Promise((r) => {
          child.on('exit', () => {
            cleanup()
            r()
          })
          if (child.exitCode !== null || child.signalCode !== null) {
            cleanup()
            return r()
          }
          child.kill(opts.stopSignal ?? 'SIGTERM')
        }),
      })
    }, 50)
  })
}

/**
 * Folio on an ephemeral loopback port in its default configuration (the log level users run,
 * "info"), unless BENCH_LOG_LEVEL or `env` says otherwise.
 */
export function startFolio(env: Record<string, string | undefined>, opts: { stopSignal?: NodeJS.Signals; nodeArgs?: string[]; main?: string } = {}): Promise<ChildServer> {
  const nodeArgs = opts.nodeArgs ?? process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []
  return startChild([...nodeArgs, opts.main ?? MAIN], { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: process.env.BENCH_LOG_LEVEL, ...env }, opts)
}
