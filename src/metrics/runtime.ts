/** Process metrics under the names Prometheus's own clients use, so stock dashboards work. */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { MetricsRegistry } from './registry.js'

export function registerRuntimeMetrics(metrics: MetricsRegistry): () => void {
  const start = metrics.gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds')
  const cpu = metrics.gauge('process_cpu_seconds_total', 'User and system CPU time spent, in seconds')
  const rss = metrics.gauge('process_resident_memory_bytes', 'Resident memory size, in bytes')
  const heap = metrics.gauge('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes')
  const external = metrics.gauge('nodejs_external_memory_bytes', 'Memory of buffers and other objects outside the V8 heap, in bytes')
  const lag = metrics.gauge('nodejs_eventloop_lag_p99_seconds', 'Event loop delay, 99th percentile since the previous scrape, in seconds')
  start.set(Math.round(Date.now() / 1000 - process.uptime()))
  const delay = monitorEventLoopDelay({ resolution: 20 })
  delay.enable()
  metrics.onCollect(() => {
    const u = process.cpuUsage()
    cpu.set((u.user + u.system) / 1e6)
    const m = process.memoryUsage()
    rss.set(m.rss)
    heap.set(m.heapUsed)
    external.set(m.external)
    lag.set(delay.count > 0 ? delay.percentile(99) / 1e9 : 0)
    delay.reset()
  })
  return () => delay.disable()
}
