/**
 * AWS Signature Version 4 for S3 requests, header form (docs.aws.amazon.com, "Authenticating
 * Requests: Using the Authorization Header"). Pure and synchronous, so the AWS documentation's
 * worked examples are its unit tests (test/storage/s3-sign.test.ts).
 */
import { createHash, createHmac } from 'node:crypto'

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

export interface SignInput {
  method: string
  /** The request path, not yet encoded: `/bucket/key` or `/key`. */
  path: string
  query?: Record<string, string>
  /** Headers to sign; `host` and `x-amz-content-sha256` must be among them. Lowercase names. */
  headers: Record<string, string>
  accessKeyId: string
  secretAccessKey: string
  region: string
  /** Time of the request; `x-amz-date` is derived from it and added to the headers. */
  date: Date
  service?: string
}

/** RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else %XX. */
export function uriEncode(s: string, keepSlash = false): string {
  let out = ''
  for (const ch of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(ch)
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) out += c
    else out += '%' + ch.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

export function canonicalQuery(query: Record<string, string> = {}): string {
  return Object.keys(query)
    .map((k) => [uriEncode(k), uriEncode(query[k]!)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

export function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest()
const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex')

/** Returns the headers to send: the input headers plus `x-amz-date` and `authorization`. */
export function signRequest(input: SignInput): Record<string, string> {
  const service = input.service ?? 's3'
  const stamp = amzDate(input.date)
  const day = stamp.slice(0, 8)
  const headers: Record<string, string> = { ...input.headers, 'x-amz-date': stamp }
  const names = Object.keys(headers).map((n) => n.toLowerCase()).sort()
  const lower: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v.trim().replace(/\s+/g, ' ')
  const canonicalRequest = [
    input.method,
    uriEncode(input.path, true), // S3 does not encode the path twice
    canonicalQuery(input.query),
    names.map((n) => `${n}:${lower[n]}\n`).join(''),
    names.join(';'),
    lower['x-amz-content-sha256'] ?? EMPTY_SHA256,
  ].join('\n')
  const scope = `${day}/${input.region}/${service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', stamp, scope, sha256Hex(canonicalRequest)].join('\n')
  const key = hmac(hmac(hmac(hmac(`AWS4${input.secretAccessKey}`, day), input.region), service), 'aws4_request')
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex')
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${input.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`
  return headers
}
