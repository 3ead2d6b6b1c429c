/**
 * A small S3 client: the eight calls the `s3` backend needs (HeadBucket, Put/Get/Head/Delete
 * object, and the multipart create/part/complete/abort), signed with SigV4 (s3-sign.ts), over
 * node:http(s) with a keep-alive agent. Chosen over @aws-sdk/client-s3 (HOUSE-STYLE §8, as
 * PocketBase did): see docs/architecture.md, "S3 client".
 *
 * Path-style addressing (`/bucket/key`) whenever a host is configured, which every
 * S3-compatible server accepts; virtual-hosted style for AWS itself. Requests that carry no body
 * or a body from a file can be retried; the body is given as a factory for that reason.
 */
import { createHash } from 'node:crypto'
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { EMPTY_SHA256, signRequest, uriEncode } from './s3-sign.js'

export interface S3ClientOptions {
  bucket: string
  region: string
  /** Host of an S3-compatible server; undefined → AWS (`s3.<region>.amazonaws.com`). */
  host?: string
  port?: number
  scheme: 'http' | 'https'
  accessKeyId?: string
  secretAccessKey?: string
  /** Time until response headers arrive (ms); the body may then take as long as it needs. */
  responseTimeoutMs?: number
}

export class S3Error extends Error {
  constructor(readonly status: number, readonly s3Code: string | undefined, message: string) {
    super(message)
    this.name = 'S3Error'
  }
}

interface Call {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE'
  key?: string
  query?: Record<string, string>
  headers?: Record<string, string>
  /** A fresh body per attempt (a Buffer, or a stream of a file range). */
  body?: () => Buffer | Readable
  contentLength?: number
  /** Hex sha256 of the body; signed, so the server verifies the bytes it got. */
  payloadSha256?: string
  /** Statuses that are answers, not errors (e.g. 404 for HEAD). */
  accept?: number[]
}

const RETRIES = 3
const RETRY_STATUS = new Set([500, 502, 503, 504])
const RETRY_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET'])

export class S3Client {
  readonly endpoint: string
  private readonly hostHeader: string
  private readonly pathStyle: boolean
  private readonly agent: HttpAgent
  private readonly port: number

  constructor(private readonly o: S3ClientOptions) {
    const awsHost = `s3.${o.region}.amazonaws.com`
    // Virtual-hosted style only on AWS and only for bucket names that are valid host labels.
    this.pathStyle = o.host !== undefined || o.bucket.includes('.')
    const host = o.host ?? (this.pathStyle ? awsHost : `${o.bucket}.${awsHost}`)
    this.port = o.port ?? (o.scheme === 'https' ? 443 : 80)
    const defaultPort = o.scheme === 'https' ? 443 : 80
    this.hostHeader = this.port === defaultPort ? host : `${host}:${this.port}`
    this.endpoint = `${o.scheme}://${this.hostHeader}`
    this.agent = o.scheme === 'https'
      ? new HttpsAgent({ keepAlive: true, maxSockets: 32 })
      : new HttpAgent({ keepAlive: true, maxSockets: 32 })
  }

  /** `/bucket/key` (path style) or `/key` (virtual-hosted style). */
  private pathOf(key?: string): string {
    const k = key === undefined ? '' : `/${key}`
    return this.pathStyle ? `/${this.o.bucket}${k}` : k === '' ? '/' : k
  }

  async headBucket(): Promise<void> {
    const res = await this.send({ method: 'HEAD', accept: [200] })
    res.resume()
  }

  async headObject(key: string): Promise<{ size: number } | undefined> {
    const res = await this.send({ method: 'HEAD', key, accept: [200, 404] })
    res.resume()
    if (res.statusCode === 404) return undefined
    return { size: Number(res.headers['content-length'] ?? NaN) }
  }

  /** The object (or an inclusive byte range of it) as a stream; undefined when it does not exist. */
  async getObject(key: string, range?: { start: number; end: number }): Promise<IncomingMessage | undefined> {
    const headers: Record<string, string> = range ? { range: `bytes=${range.start}-${range.end}` } : {}
    const res = await this.send({ method: 'GET', key, headers, accept: [200, 206, 404] })
    if (res.statusCode === 404) {
      res.resume()
      return undefined
    }
    return res
  }

  async putObject(key: string, body: () => Buffer | Readable, size: number, sha256: string): Promise<void> {
    const res = await this.send({ method: 'PUT', key, body, contentLength: size, payloadSha256: sha256, accept: [200] })
    res.resume()
  }

  async deleteObject(key: string): Promise<void> {
    const res = await this.send({ method: 'DELETE', key, accept: [200, 204, 404] })
    res.resume()
  }

  async createMultipartUpload(key: string): Promise<string> {
    const res = await this.send({ method: 'POST', key, query: { uploads: '' }, accept: [200] })
    const xml = await text(res)
    const id = /<UploadId>([^<]+)<\/UploadId>/.exec(xml)?.[1]
    if (!id) throw new S3Error(res.statusCode ?? 0, undefined, 'CreateMultipartUpload answered without an UploadId')
    return id
  }

  /** Returns the part's ETag. */
  async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string> {
    const sha = createHash('sha256').update(body).digest('hex')
    const res = await this.send({
      method: 'PUT', key, query: { partNumber: String(partNumber), uploadId },
      body: () => body, contentLength: body.length, payloadSha256: sha, accept: [200],
    })
    res.resume()
    const etag = res.headers.etag
    if (typeof etag !== 'string') throw new S3Error(200, undefined, `UploadPart ${partNumber} answered without an ETag`)
    return etag
  }

  async completeMultipartUpload(key: string, uploadId: string, etags: string[]): Promise<void> {
    const xml = Buffer.from(
      '<CompleteMultipartUpload>' +
        etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(e)}</ETag></Part>`).join('') +
        '</CompleteMultipartUpload>',
    )
    const sha = createHash('sha256').update(xml).digest('hex')
    const res = await this.send({
      method: 'POST', key, query: { uploadId }, body: () => xml, contentLength: xml.length, payloadSha256: sha,
      headers: { 'content-type': 'application/xml' }, accept: [200],
    })
    // S3 may answer 200 and report the failure in the body (AWS CompleteMultipartUpload docs).
    const body = await text(res)
    if (/<Error>/.test(body)) throw errorFrom(200, body)
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    const res = await this.send({ method: 'DELETE', key, query: { uploadId }, accept: [200, 204, 404] })
    res.resume()
  }

  close(): void {
    this.agent.destroy()
  }

  private async send(call: Call): Promise<IncomingMessage> {
    let lastError: unknown
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 100 * 4 ** (attempt - 1)))
      try {
        const res = await this.once(call)
        const status = res.statusCode ?? 0
        if ((call.accept ?? [200]).includes(status)) return res
        const body = call.method === 'HEAD' ? '' : await text(res).catch(() => '')
        const err = errorFrom(status, body)
        if (!RETRY_STATUS.has(status)) throw err
        lastError = err
      } catch (e) {
        if (e instanceof S3Error && !RETRY_STATUS.has(e.status)) throw e
        const code = (e as { code?: string }).code
        if (!(e instanceof S3Error) && !(code && RETRY_CODES.has(code))) throw e
        lastError = e
      }
    }
    throw lastError
  }

  private once(call: Call): Promise<IncomingMessage> {
    const path = this.pathOf(call.key)
    const query = call.query ?? {}
    const qs = Object.entries(query)
      .map(([k, v]) => (v === '' ? uriEncode(k) : `${uriEncode(k)}=${uriEncode(v)}`))
      .join('&')
    const baseHeaders: Record<string, string> = {
      host: this.hostHeader,
      'x-amz-content-sha256': call.payloadSha256 ?? EMPTY_SHA256,
      ...call.headers,
    }
    if (call.contentLength !== undefined) baseHeaders['content-length'] = String(call.contentLength)
    const headers = this.o.accessKeyId && this.o.secretAccessKey
      ? signRequest({
          method: call.method, path, query, headers: baseHeaders, date: new Date(),
          accessKeyId: this.o.accessKeyId, secretAccessKey: this.o.secretAccessKey, region: this.o.region,
        })
      : baseHeaders // anonymous: a bucket that allows it, or a server without authentication
    const send = this.o.scheme === 'https' ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const req = send({
        host: this.o.host ?? this.hostHeader.replace(/:\d+$/, ''),
        port: this.port,
        method: call.method,
        path: uriEncode(path, true) + (qs ? `?${qs}` : ''),
        headers,
        agent: this.agent,
      })
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('S3 response timed out'), { code: 'ETIMEDOUT' })),
        this.o.responseTimeoutMs ?? 30_000)
      req.on('response', (res) => {
        clearTimeout(timer)
        resolve(res)
      })
      req.on('error', (e) => {
        clearTimeout(timer)
        reject(e)
      })
      const body = call.body?.()
      if (body === undefined) req.end()
      else if (Buffer.isBuffer(body)) req.end(body)
      else {
        body.on('error', (e) => req.destroy(e))
        body.pipe(req)
      }
    })
  }
}

function errorFrom(status: number, xml: string): S3Error {
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1]
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1]
  return new S3Error(status, code, `S3 answered ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`)
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
