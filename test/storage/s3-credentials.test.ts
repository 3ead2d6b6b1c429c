/**
 * The `s3` backend without ASSET_STORAGE_S3_* keys uses the AWS default credential chain: each
 * source is exercised against s3rver, which accepts only the expected keys (and, for temporary
 * keys, only with their session token, signed). The chain's network sources are loopback test
 * servers: the container endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI), the EC2 instance
 * metadata service (AWS_EC2_METADATA_SERVICE_ENDPOINT) and STS for web identity
 * (AWS_ENDPOINT_URL_STS). The SDK reads these from the process environment, so each case sets
 * it and puts it back.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { after, before, test } from 'node:test'
import { BlobStoreUnavailableError } from '../../src/storage/blob-store.js'
import { S3BlobStore } from '../../src/storage/s3.js'
import { StagingArea } from '../../src/storage/staging.js'
import { S3RVER_KEY, startS3Server, type TestCredential, type TestS3 } from '../helpers/s3-server.js'

const EXPIRES = new Date(Date.now() + 6 * 3600_000).toISOString()
const cred = (name: string, token = true): TestCredential => ({
  accessKeyId: `ASIA${name.toUpperCase()}TEST`,
  secretAccessKey: `secret-of-${name}-0123456789abcdefghij`,
  ...(token ? { sessionToken: `session-token-of-${name}` } : {}),
})
const ENV = cred('env')
const PROFILE = cred('profile', false)
const CONTAINER = cred('container')
const IMDS = cred('imds')
const WEB = cred('webidentity')
const CONTAINER_AUTH = 'container-authorization-token'
const WEB_TOKEN = 'a-kubernetes-service-account-token'

let s3: TestS3
let fake: Server
let fakeUrl: string
let dir: string
let staging: StagingArea
/** What the fake credential endpoints were asked, to prove the source was really used. */
const seen: string[] = []

const awsJson = (c: TestCredential) => JSON.stringify({
  Code: 'Success', Type: 'AWS-HMAC', AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, Token: c.sessionToken, Expiration: EXPIRES,
})

before(async () => {
  s3 = await startS3Server('folio-chain', { credentials: [ENV, PROFILE, CONTAINER, IMDS, WEB] })
  dir = await mkdtemp(join(process.env.FOLIO_TEST_TMP!, 's3-chain-'))
  staging = new StagingArea(join(dir, 'staging'))
  await staging.init()
  // One loopback server stands in for the container endpoint, IMDS (v2, with its session
  // token) and STS.
  fake = createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => (body += d.toString()))
    req.on('end', () => {
      const url = req.url ?? ''
      if (url === '/container-credentials') {
        seen.push(`container auth=${req.headers.authorization}`)
        if (req.headers.authorization !== CONTAINER_AUTH) return res.writeHead(401).end()
        return res.writeHead(200, { 'content-type': 'application/json' }).end(awsJson(CONTAINER))
      }
      if (url === '/latest/api/token' && req.method === 'PUT') {
        seen.push('imds token')
        return res.writeHead(200).end('imds-session')
      }
      const m = /^\/latest\/meta-data\/iam\/security-credentials(?:-extended)?\/(.*)$/.exec(url)
      if (m) {
        if (req.headers['x-aws-ec2-metadata-token'] !== 'imds-session') return res.writeHead(401).end()
        seen.push(`imds ${m[1] || 'list'}`)
        return m[1] === '' ? res.writeHead(200).end('folio-role') : res.writeHead(200, { 'content-type': 'application/json' }).end(awsJson(IMDS))
      }
      if (req.method === 'POST' && /Action=AssumeRoleWithWebIdentity/.test(body)) {
        const form = new URLSearchParams(body)
        seen.push(`sts role=${form.get('RoleArn')} token=${form.get('WebIdentityToken')}`)
        if (form.get('WebIdentityToken') !== WEB_TOKEN) return res.writeHead(400).end()
        return res.writeHead(200, { 'content-type': 'text/xml' }).end(
          '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>' +
          `<Credentials><AccessKeyId>${WEB.accessKeyId}</AccessKeyId><SecretAccessKey>${WEB.secretAccessKey}</SecretAccessKey>` +
          `<SessionToken>${WEB.sessionToken}</SessionToken><Expiration>${EXPIRES}</Expiration></Credentials>` +
          '<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/folio/test</Arn><AssumedRoleId>AROATEST:test</AssumedRoleId></AssumedRoleUser>' +
          '</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>')
      }
      res.writeHead(404).end()
    })
  })
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r))
  fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`
})
after(async () => {
  fake?.close()
  await s3?.stop()
  await rm(dir, { recursive: true, force: true })
})

/**
 * Runs `fn` with exactly these AWS_* variables (all others removed). The files and IMDS default
 * to places that hold nothing, so no case reads the machine's ~/.aws or leaves loopback.
 */
async function withAwsEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env }
  for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k]
  Object.assign(process.env, {
    AWS_CONFIG_FILE: join(dir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...vars,
  })
  try {
    return await fn()
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
  }
}

/** A store with no static keys (the chain decides), unless `keys` are given. */
function chainStore(keys: { accessKeyId?: string; secretAccessKey?: string } = {}): S3BlobStore {
  return new S3BlobStore({ bucket: s3.bucket, region: 'us-east-1', host: '127.0.0.1', port: s3.port, scheme: 'http', ...keys })
}

/** HeadBucket, then a put and a get through the store: the credentials work end to end. */
async function roundTrip(store: S3BlobStore): Promise<void> {
  try {
    await store.check()
    const bytes = Buffer.from(`%PDF-1.7 chain ${Math.random()}`)
    const staged = await staging.stage(Readable.from([bytes]), { maxBytes: 1000 })
    try {
      await store.put(staged.sha256, staged)
    } finally {
      await staged.discard()
    }
    assert.equal(staged.sha256, createHash('sha256').update(bytes).digest('hex'))
    assert.equal(await text(await store.get(staged.sha256)), bytes.toString())
    await store.delete(staged.sha256)
  } finally {
    store.close()
  }
}

async function refused(store: S3BlobStore, says: RegExp): Promise<void> {
  try {
    const e = await store.check().then(() => undefined, (err: unknown) => err)
    assert.ok(e instanceof BlobStoreUnavailableError, `expected a refusal, got ${String(e)}`)
    assert.match(e.message, says)
    for (const c of [ENV, PROFILE, CONTAINER, IMDS, WEB]) {
      assert.ok(!e.message.includes(c.secretAccessKey) && !e.message.includes(c.sessionToken ?? '\0'), 'no secret in the message')
    }
  } finally {
    store.close()
  }
}

test('AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY + AWS_SESSION_TOKEN are used when no ASSET_STORAGE_S3 keys are set; a wrong session token is refused', async () => {
  const env = { AWS_ACCESS_KEY_ID: ENV.accessKeyId, AWS_SECRET_ACCESS_KEY: ENV.secretAccessKey }
  await withAwsEnv({ ...env, AWS_SESSION_TOKEN: ENV.sessionToken! }, () => roundTrip(chainStore()))
  await withAwsEnv({ ...env, AWS_SESSION_TOKEN: 'stolen-or-stale' }, () => refused(chainStore(), /access was refused \(check the credentials of the AWS chain/))
  await withAwsEnv(env, () => refused(chainStore(), /access was refused/)) // temporary keys without their token
})

test('ASSET_STORAGE_S3 static keys win over the AWS chain', async () => {
  await withAwsEnv({ AWS_ACCESS_KEY_ID: 'AKIAWRONG', AWS_SECRET_ACCESS_KEY: 'wrong' },
    () => roundTrip(chainStore({ accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY })))
})

test('AWS_SHARED_CREDENTIALS_FILE with AWS_PROFILE selects that profile; the default profile is used without AWS_PROFILE', async () => {
  const file = join(dir, 'credentials')
  await writeFile(file, `[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = not-known-to-the-server\n\n` +
    `[folio]\naws_access_key_id = ${PROFILE.accessKeyId}\naws_secret_access_key = ${PROFILE.secretAccessKey}\n`)
  await withAwsEnv({ AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'folio' }, () => roundTrip(chainStore()))
  await withAwsEnv({ AWS_SHARED_CREDENTIALS_FILE: file }, () => refused(chainStore(), /access was refused/))
})

test('a container role (AWS_CONTAINER_CREDENTIALS_FULL_URI with its authorization token) provides temporary keys', async () => {
  seen.length = 0
  await withAwsEnv({
    AWS_CONTAINER_CREDENTIALS_FULL_URI: `${fakeUrl}/container-credentials`, AWS_CONTAINER_AUTHORIZATION_TOKEN: CONTAINER_AUTH,
  }, () => roundTrip(chainStore()))
  assert.ok(seen.includes(`container auth=${CONTAINER_AUTH}`), seen.join('\n'))
})

test('an EC2 instance role (IMDSv2 at AWS_EC2_METADATA_SERVICE_ENDPOINT) provides temporary keys', async () => {
  seen.length = 0
  await withAwsEnv({ AWS_EC2_METADATA_DISABLED: 'false', AWS_EC2_METADATA_SERVICE_ENDPOINT: fakeUrl }, () => roundTrip(chainStore()))
  assert.ok(seen.includes('imds token') && seen.includes('imds folio-role'), seen.join('\n'))
})

test('web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, as a Kubernetes service account) is exchanged at STS for temporary keys', async () => {
  seen.length = 0
  const tokenFile = join(dir, 'web-identity-token')
  await writeFile(tokenFile, WEB_TOKEN)
  await withAwsEnv({
    AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/folio', AWS_ROLE_SESSION_NAME: 'folio-test',
    AWS_ENDPOINT_URL_STS: fakeUrl, AWS_REGION: 'us-east-1',
  }, () => roundTrip(chainStore()))
  assert.ok(seen.includes(`sts role=arn:aws:iam::123456789012:role/folio token=${WEB_TOKEN}`), seen.join('\n'))
})

test('with no credentials anywhere, the start-up check says which variables to set', async () => {
  await withAwsEnv({}, () => refused(chainStore(), /no credentials were found; set ASSET_STORAGE_S3_ACCESS_KEY_ID and ASSET_STORAGE_S3_SECRET_ACCESS_KEY, or provide AWS credentials/))
})

test('ASSET_STORAGE_S3 keys go together; path style is the default with a host, virtual-hosted on AWS, and ASSET_STORAGE_S3_FORCE_PATH_STYLE decides', async () => {
  const { loadConfig } = await import('../../src/config.js')
  assert.throws(() => loadConfig({ ASSET_STORAGE_BACKEND: 's3', ASSET_STORAGE_S3_BUCKET: 'b', ASSET_STORAGE_S3_ACCESS_KEY_ID: 'AKIAONLY' }),
    /ASSET_STORAGE_S3_SECRET_ACCESS_KEY: is required when ASSET_STORAGE_S3_ACCESS_KEY_ID is set \(or unset both to use the AWS credential chain\)/)
  const cases: Array<[Record<string, string>, string, string]> = [
    [{ ASSET_STORAGE_S3_HOST: 'minio.internal', ASSET_STORAGE_S3_PORT: '9000' }, 'minio.internal', '/folio/blobs/'],
    [{ ASSET_STORAGE_S3_HOST: 'storage.example.com', ASSET_STORAGE_S3_FORCE_PATH_STYLE: 'false' }, 'folio.storage.example.com', '/blobs/'],
    [{ ASSET_STORAGE_S3_REGION: 'eu-west-1' }, 'folio.s3.eu-west-1.amazonaws.com', '/blobs/'],
    [{ ASSET_STORAGE_S3_REGION: 'eu-west-1', ASSET_STORAGE_S3_FORCE_PATH_STYLE: 'true' }, 's3.eu-west-1.amazonaws.com', '/folio/blobs/'],
  ]
  for (const [vars, hostname, pathPrefix] of cases) {
    const config = loadConfig({ ASSET_STORAGE_BACKEND: 's3', ASSET_STORAGE_S3_BUCKET: 'folio', ASSET_STORAGE_S3_ACCESS_KEY_ID: 'AKIATEST', ASSET_STORAGE_S3_SECRET_ACCESS_KEY: 'test', ...vars })
    const store = new S3BlobStore(config.s3!)
    // Stop each request after signing, before it leaves: only where it would go is looked at.
    let seenRequest: { hostname: string; path: string } | undefined
    store.client.middlewareStack.add((_next) => async (args) => {
      const r = args.request as { hostname: string; path: string }
      seenRequest = { hostname: r.hostname, path: r.path }
      throw new Error('stopped before sending')
    }, { step: 'finalizeRequest', priority: 'low' })
    await assert.rejects(store.exists('a'.repeat(64)), /stopped before sending/)
    store.close()
    assert.equal(seenRequest?.hostname, hostname, JSON.stringify(vars))
    assert.ok(seenRequest?.path.startsWith(pathPrefix), `${seenRequest?.path} starts with ${pathPrefix}`)
  }
})
