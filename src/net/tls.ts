/**
 * Native HTTPS, for nodes that run without a reverse proxy: TLS_CERT_FILE and
 * TLS_KEY_FILE are read at start (a bad pair stops the start, naming the variable), then watched;
 * when either changes on disk (a renewal, including a symlink swap as certbot does) or on
 * SIGHUP, the pair is read again, checked, and swapped in with `setSecureContext`: new
 * connections get the new certificate, open ones keep theirs, nothing restarts. A pair that does
 * not load (e.g. the key written before the certificate) is logged and the old one kept.
 */
import { unwatchFile, watchFile } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { X509Certificate } from 'node:crypto'
import { createSecureContext, type Server as TlsServer } from 'node:tls'
import type { Logger } from '../log.js'

export interface TlsFiles { certFile: string; keyFile: string }
export interface TlsPair { cert: Buffer; key: Buffer }

/** The certificate or key cannot be used; the message names the variable, never key material. */
export class TlsFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'TlsFileError'
  }
}

export async function readTlsPair(files: TlsFiles): Promise<TlsPair> {
  const read = async (path: string, name: string) => {
    try {
      return await readFile(path)
    } catch (e) {
      throw new TlsFileError(`${name}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e })
    }
  }
  const cert = await read(files.certFile, 'TLS_CERT_FILE')
  const key = await read(files.keyFile, 'TLS_KEY_FILE')
  try {
    new X509Certificate(cert)
  } catch (e) {
    throw new TlsFileError(`TLS_CERT_FILE: ${files.certFile} is not a PEM certificate`, { cause: e })
  }
  try {
    createSecureContext({ cert, key }) // throws when the key does not match or does not parse
  } catch (e) {
    throw new TlsFileError(`TLS_KEY_FILE: ${files.keyFile} is not the private key of TLS_CERT_FILE (${(e as { code?: string }).code ?? 'invalid'})`, { cause: e })
  }
  return { cert, key }
}

/** Facts about the certificate for the log: never the key. */
export function describeCertificate(cert: Buffer): { subject: string; validTo: string; fingerprint256: string } {
  const x = new X509Certificate(cert)
  return { subject: x.subject.replace(/\n/g, ', '), validTo: x.validTo, fingerprint256: x.fingerprint256 }
}

export interface TlsWatcher {
  /** Reads the files again and swaps them in; false (and the old pair kept) when they do not load. */
  reload(): Promise<boolean>
  stop(): void
}

export function watchTls(server: TlsServer, files: TlsFiles, log: Logger, opts: { intervalMs: number }): TlsWatcher {
  let timer: NodeJS.Timeout | undefined
  let current = ''
  const reload = async () => {
    try {
      const pair = await readTlsPair(files)
      const facts = describeCertificate(pair.cert)
      server.setSecureContext({ cert: pair.cert, key: pair.key })
      if (facts.fingerprint256 !== current) log.info({ certificate: facts }, 'TLS certificate loaded')
      current = facts.fingerprint256
      return true
    } catch (e) {
      log.error({ err: e }, 'TLS certificate not reloaded; the previous one stays in use')
      return false
    }
  }
  // Both files usually change together: wait for the pair to settle before reading it.
  const onChange = () => {
    clearTimeout(timer)
    timer = setTimeout(() => void reload(), Math.min(500, opts.intervalMs))
    timer.unref()
  }
  for (const f of [files.certFile, files.keyFile]) watchFile(f, { interval: opts.intervalMs, persistent: false }, onChange)
  void reload()
  return {
    reload,
    stop() {
      clearTimeout(timer)
      for (const f of [files.certFile, files.keyFile]) unwatchFile(f, onChange)
    },
  }
}
