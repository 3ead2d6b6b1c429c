/**
 * qpdf (Apache-2.0, Debian package `qpdf`) as a child process: page assembly, rotation,
 * overlays, flattening, encryption and optimisation. Each run has a wall-clock limit (the child
 * is killed with SIGKILL past it) and a bounded stderr; arguments are passed as an array, never
 * through a shell, and every file name is one Folio made in its own work folder.
 */
import { spawn } from 'node:child_process'

export class QpdfError extends Error {
  constructor(readonly reason: 'timeout' | 'failed' | 'missing', message: string) {
    super(message)
    this.name = 'QpdfError'
  }
}

const MAX_STDERR = 8 * 1024

/** Runs qpdf; exit 0 and 3 ("succeeded with warnings") are success. Returns stdout (bounded). */
export function runQpdf(args: string[], opts: { timeoutMs: number; maxStdout?: number; bin?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.bin ?? 'qpdf', ['--no-warn', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    let stdout = ''
    const maxStdout = opts.maxStdout ?? 64 * 1024
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, opts.timeoutMs)
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < maxStdout) stdout += d.slice(0, maxStdout - stdout.length)
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_STDERR) stderr += d.slice(0, MAX_STDERR - stderr.length)
    })
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(new QpdfError(e.code === 'ENOENT' ? 'missing' : 'failed', `qpdf could not start: ${e.code ?? e.message}`))
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      if (timedOut) reject(new QpdfError('timeout', `qpdf ran past ${opts.timeoutMs} ms and was killed`))
      else if (code === 0 || code === 3) resolve(stdout)
      else reject(new QpdfError('failed', `qpdf exited with ${code}: ${stderr.trim().split('\n').slice(-2).join(' ').slice(0, 300)}`))
    })
  })
}
