/**
 * The one HTTP load harness of the benchmarks: autocannon as the generator, a bare `node:http`
 * baseline served by a child process, a check that the generator saturates that baseline,
 * interleaved rounds, and medians with their spread.
 *
 * Why each part: a generator slower than the server makes every server look equally fast (the
 * old hand-written client loop reported Folio at 1.02 of bare node). Interleaving makes the
 * neighbours' load on a shared machine fall on every target alike, so the ratio of two targets
 * measured in the same round is the figure to read, not the absolute requests per second.
 */
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import autocannon from 'autocannon'
import { startChild, type ChildServer } from './server.js'

export interface Target {
  name: string
  url: string
  headers?: Record<string, string>
  /** Status every answer must have (default 200); any other answer fails the run. */
  expect?: number
}

export interface LoadOptions {
  connections: number
  seconds: number
}

export interface Shot { rps: number; p99: number; bad: number }

export function loadOptionsFromEnv(defaults: { connections?: number; seconds?: number; rounds?: number } = {}): LoadOptions & { rounds: number } {
  return {
    connections: Number(process.env.BENCH_CONNECTIONS ?? defaults.connections ?? 32),
    seconds: Number(process.env.BENCH_SECONDS ?? defaults.seconds ?? 4),
    rounds: Number(process.env.BENCH_ROUNDS ?? defaults.rounds ?? 5),
  }
}

/** One autocannon run; answers other than `expect` and socket errors are counted as bad. */
export async function shoot(t: Target, o: LoadOptions): Promise<Shot> {
  const r = await autocannon({ url: t.url, headers: t.headers, connections: o.connections, duration: o.seconds })
  const expect = t.expect ?? 200
  const good = expect >= 200 && expect < 300 ? r['2xx'] : (r.statusCodeStats?.[String(expect)]?.count ?? 0)
  const total = r['2xx'] + r.non2xx
  return { rps: good / r.duration, p99: r.latency.p99, bad: total - good + r.errors + r.timeouts }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / 100 // utime, stime in clock ticks (USER_HZ = 100)
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export function spread(xs: number[], digits = 0): string {
  return `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`
}

export function loadAverage(): string {
  return loadavg().map((x) => x.toFixed(1)).join(' ')
}

/**
 * A bare `node:http` server answering `body` with `headers` to every request: the runtime's
 * own limit for a response of that size, the baseline of every HTTP benchmark.
 */
export function startBareServer(body: Buffer, headers: Record<string, string>): Promise<ChildServer> {
  const code = `
    const body = Buffer.from(process.env.BODY, 'base64')
    const headers = { ...JSON.parse(process.env.HEADERS), 'content-length': body.length }
    require('node:http').createServer((req, res) => {
      res.writeHead(200, headers)
      res.end(body)
    }).listen(0, '127.0.0.1', function () { console.log('listening on http://127.0.0.1:' + this.address().port) })
  `
  return startChild(['-e', code], { BODY: body.toString('base64'), HEADERS: JSON.stringify(headers) })
}

export interface Saturation { saturated: boolean; text: string }

/**
 * Can the generator drive the baseline to its limit? On a shared machine neither process gets
 * a whole core, so "busy 100 %" proves nothing; what decides is the CPU each side spends per
 * request: the scheduler gives two runnable processes about equal shares, so the side that
 * needs more CPU per request is the limit. The generator (autocannon, in this process) must
 * need less per request than the bare server; every Folio route needs more than the bare
 * server, so it is saturated too. Beside it, what doubling the connections adds.
 */
export async function checkSaturation(bare: ChildServer, t: Target, o: LoadOptions): Promise<Saturation> {
  const seconds = Math.min(o.seconds, 3)
  await shoot(t, { connections: o.connections, seconds: 1 }) // warm-up: JIT on both sides
  const srv0 = processCpuSeconds(bare.pid)
  const gen0 = process.cpuUsage()
  const a = await shoot(t, { connections: o.connections, seconds })
  const g = process.cpuUsage(gen0)
  const n = a.rps * seconds
  const serverUs = ((processCpuSeconds(bare.pid) - srv0) * 1e6) / n
  const genUs = (g.user + g.system) / n
  const b = await shoot(t, { connections: o.connections * 2, seconds })
  const gain = b.rps / a.rps - 1
  const saturated = genUs < serverUs
  const text = `generator check: bare node:http ${a.rps.toFixed(0)} req/s at ${o.connections} connections (${(b.rps).toFixed(0)} at ${o.connections * 2}, ${gain >= 0 ? '+' : ''}${(gain * 100).toFixed(0)} %); CPU per request: generator ${genUs.toFixed(1)} µs, bare server ${serverUs.toFixed(1)} µs → ${saturated ? 'SATURATED: the server, not the generator, is the limit' : 'NOT SATURATED: the generator costs more per request than the bare server; read the ratios with care'}`
  return { saturated, text }
}

export interface Rounds {
  /** req/s per round, by target name */
  rps: Map<string, number[]>
  /** target / baseline of the same round, by target name */
  ratio: Map<string, number[]>
  p99: Map<string, number[]>
}

/**
 * `rounds` rounds; in each, every target in turn (the order rotating from round to round so
 * no target always follows the same one). targets[0] is the baseline of the ratios.
 */
export async function interleave(targets: Target[], o: LoadOptions & { rounds: number }, opts: { warmupSeconds?: number } = {}): Promise<Rounds> {
  for (const t of targets) {
    const w = await shoot(t, { connections: o.connections, seconds: opts.warmupSeconds ?? 1 }) // JIT, pools, caches
    if (w.bad > 0) throw new Error(`${t.name}: ${w.bad} unexpected answers during warm-up`)
  }
  const rps = new Map(targets.map((t) => [t.name, [] as number[]]))
  const ratio = new Map(targets.map((t) => [t.name, [] as number[]]))
  const p99 = new Map(targets.map((t) => [t.name, [] as number[]]))
  for (let r = 0; r < o.rounds; r++) {
    const got = new Map<string, Shot>()
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(i + r) % targets.length]!
      const s = await shoot(t, o)
      if (s.bad > 0) throw new Error(`${t.name}: ${s.bad} unexpected answers or errors`)
      got.set(t.name, s)
    }
    const base = got.get(targets[0]!.name)!.rps
    for (const t of targets) {
      const s = got.get(t.name)!
      rps.get(t.name)!.push(s.rps)
      ratio.get(t.name)!.push(s.rps / base)
      p99.get(t.name)!.push(s.p99)
    }
  }
  return { rps, ratio, p99 }
}

/** A Markdown table of the rounds: median req/s (spread), median ratio to baseline (spread). */
export function table(targets: Target[], r: Rounds): string {
  const lines = ['| target | req/s median (min–max) | ratio to bare, median (min–max) | p99 ms median |', '|---|---|---|---|']
  for (const t of targets) {
    const rps = r.rps.get(t.name)!
    const ratio = r.ratio.get(t.name)!
    lines.push(`| ${t.name} | ${median(rps).toFixed(0)} (${spread(rps)}) | ${median(ratio).toFixed(2)} (${spread(ratio, 2)}) | ${median(r.p99.get(t.name)!).toFixed(0)} |`)
  }
  return lines.join('\n')
}

export function header(o: LoadOptions & { rounds: number }, extra: string): string {
  return `generator autocannon ${o.connections} connections, ${o.seconds} s per run, ${o.rounds} interleaved rounds, ${extra}, load average ${loadAverage()}`
}
