/**
 * Runs s3rver (npm, MIT) in its own process for the tests: `node s3rver-child.js DIR BUCKET`.
 * Prints `s3rver listening on PORT`. Its close() hangs (STACK-NOTES §6), so the parent ends it
 * with SIGKILL; the data folder is the parent's to remove.
 *
 * s3rver checks the access key id but not SigV4 signatures ("Signature version 4 calculation is
 * unimplemented" in its authentication middleware), so every request is first verified here
 * with AWS's own signer (@smithy/signature-v4, Apache-2.0): a request Folio signs wrongly is
 * refused with 403 SignatureDoesNotMatch, as AWS would.
 *
 * Further credentials (the credential-chain tests: temporary keys with a session token) come as
 * JSON in argv[4]: `[{accessKeyId, secretAccessKey, sessionToken?}]`. A key with a session token
 * is accepted only when the request carries that token, signed (`x-amz-security-token`), as AWS
 * requires of temporary credentials.
 */
import { createHash, createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'

const require = createRequire(import.meta.url)
interface S3rverInstance {
  configureBuckets(): Promise<void>
  callback(): (req: IncomingMessage, res: ServerResponse) => void
}
const S3rver = require('s3rver') as new (o: Record<string, unknown>) => S3rverInstance

const KEY = 'S3RVER'
interface Credential { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
const [dir, bucket, extra] = process.argv.slice(2)
const credentials = new Map<string, Credential>([[KEY, { accessKeyId: KEY, secretAccessKey: KEY }]])
for (const c of JSON.parse(extra ?? '[]') as Credential[]) {
  credentials.set(c.accessKeyId, c)
  // s3rver checks only that the access key id is known to it.
  ;(require('s3rver/lib/models/account') as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } })
    .DUMMY_ACCOUNT.createKeyPair(c.accessKeyId, c.secretAccessKey)
}

class Sha256 {
  private h
  constructor(secret?: string | Uint8Array) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', secret)
  }
  update(d: string | Uint8Array) {
    this.h.update(d)
  }
  async digest() {
    return new Uint8Array(this.h.digest())
  }
  reset() {}
}

const signerFor = (c: Credential) => new SignatureV4({
  credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
  region: 'us-east-1',
  service: 's3',
  sha256: Sha256 as never, // node:crypto behind the Hash shape it expects
  uriEscapePath: false, // S3: the path is escaped once, as sent
  applyChecksum: false,
})

/** undefined when the request carries a correct signature (or none: s3rver then refuses it). */
async function signatureProblem(req: IncomingMessage): Promise<string | undefined> {
  const auth = req.headers.authorization
  if (!auth) return undefined
  const m = /SignedHeaders=([^,]+), Signature=([0-9a-f]+)/.exec(auth)
  const date = req.headers['x-amz-date']
  if (!m || typeof date !== 'string') return 'malformed Authorization header'
  const credential = credentials.get(/Credential=([^/,]+)\//.exec(auth)?.[1] ?? '')
  if (!credential) return 'unknown access key id'
  if (credential.sessionToken !== undefined) {
    if (req.headers['x-amz-security-token'] !== credential.sessionToken) return 'missing or wrong session token'
    if (!m[1]!.split(';').includes('x-amz-security-token')) return 'session token not signed'
  }
  const url = new URL(req.url ?? '/', 'http://x')
  const query: Record<string, string> = {}
  for (const [k, v] of url.searchParams) query[k] = v
  const headers: Record<string, string> = {}
  for (const name of m[1]!.split(';')) headers[name] = String(req.headers[name] ?? '')
  const [host, port] = String(req.headers.host).split(':')
  const signed = await signerFor(credential).sign(
    new HttpRequest({ method: req.method, protocol: 'http:', hostname: host, port: port ? Number(port) : undefined, path: url.pathname, query, headers }),
    { signingDate: new Date(date.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z')) },
  )
  const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))?.[1]
  return expected === m[2] ? undefined : 'signature does not match'
}

const s3rver = new S3rver({
  silent: true,
  directory: dir,
  configureBuckets: [{ name: bucket, configs: [] }],
  vhostBuckets: false,
})
await s3rver.configureBuckets()
const handle = s3rver.callback()
const server = createServer((req, res) => {
  signatureProblem(req).then((problem) => {
    if (problem === undefined) return handle(req, res)
    process.stderr.write(`s3rver-child: refused ${req.method} ${req.url}: ${problem}\n`)
    req.resume()
    res.writeHead(403, { 'content-type': 'application/xml' })
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>${problem}</Message></Error>`)
  }, (e: unknown) => {
    res.writeHead(500)
    res.end(String(e))
  })
})
server.listen(0, '127.0.0.1', () => {
  const addr = server.address()
  process.stdout.write(`s3rver listening on ${typeof addr === 'object' && addr ? addr.port : 0}\n`)
})
