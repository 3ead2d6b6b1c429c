/**
 * A TCP relay standing in for the network between a Folio node and PostgreSQL (a fake of the
 * outside world, not of Folio): `cut()` drops every connection and refuses new ones, as a
 * network partition or a database failover would; `restore()` lets connections through again.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'

export class TcpProxy {
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  port = 0

  constructor(private readonly targetHost: string, private readonly targetPort: number) {}

  async start(): Promise<this> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost)
      for (const s of [client, upstream]) {
        this.sockets.add(s)
        s.on('close', () => this.sockets.delete(s))
        s.on('error', () => {})
      }
      client.pipe(upstream).pipe(client)
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as { port: number }).port
    this.server = server
    return this
  }

  /** Drops every relayed connection and stops accepting (connects are refused). */
  async cut(): Promise<void> {
    const s = this.server
    this.server = undefined
    for (const sock of this.sockets) sock.destroy()
    if (s) await new Promise<void>((r) => s.close(() => r()))
  }

  /** Accepts connections again, on the same port. */
  async restore(): Promise<void> {
    await this.start()
  }

  async close(): Promise<void> {
    await this.cut()
  }
}
