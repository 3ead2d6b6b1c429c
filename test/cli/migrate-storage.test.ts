/**
 * `npx folio migrate-storage` (issue #9): blobs move between backends with their sha256 checked
 * on both sides, rows follow, a second run copies nothing, a damaged source is reported and not
 * copied, and Folio on the new backend serves every document byte-identical.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { openPglite } from '../../src/db/pglite.js'
import { FilesystemBlobStore } from '../../src/storage/filesystem.js'
import { AzureBlobStore } from '../../src/storage/azure.js'
import { S3BlobStore } from '../../src/storage/s3.js'
import { request } from '../helpers/http.js'
import { makePdf } from '../helpers/pdf-fixtures.js'
import { startAzurite, type TestAzurite } from '../helpers/azurite.js'
import { startS3Server, type TestS3 } from '../helpers/s3-server.js'
import { authHeader, createStorage, dbKinds, MAIN_JS, startFolio, storageEnv, TEST_API_TOKEN, type Storage } from '../helpers/start-folio.js'

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN_JS, 'migrate-storage', ...args], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('exit', (code) => resolve({ code, out }))
  })
}

let s3: TestS3
let az: TestAzurite
before(async () => {
  ;[s3, az] = await Promise.all([startS3Server(), startAzurite()])
})
after(async () => {
  await Promise.all([s3.stop(), az.stop()])
})

async function serveAndCheck(storage: Storage, env: Record<string, string>, docs: Map<string, Buffer>) {
  const f = await startFolio({ storage, env })
  try {
    for (const [id, pdf] of docs) {
      const dl = await fetch(`${f.url}/api/documents/${id}/pdf?source=true`, { headers: authHeader() })
      assert.equal(dl.status, 200, `${id} is served on ${env.ASSET_STORAGE_BACKEND}`)
      assert.equal(sha256(new Uint8Array(await dl.arrayBuffer())), sha256(pdf))
    }
  } finally {
    await f.close()
  }
}

for (const db of dbKinds()) {
  test(`filesystem → s3 → built-in, verified, repeatable, and served after each move (${db})`, async () => {
    const storage = await createStorage(db)
    const s3Vars = { ...s3.env, ASSET_STORAGE_S3_BUCKET: s3.bucket }
    const env = { ...storageEnv(storage), API_AUTH_TOKEN: TEST_API_TOKEN }
    const rawS3 = new S3BlobStore({ bucket: s3.bucket, region: 'us-east-1', host: '127.0.0.1', port: s3.port, scheme: 'http', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' })
    const rawFs = new FilesystemBlobStore(join(storage.dataDir, 'blobs'))
    try {
      const docs = new Map<string, Buffer>()
      const f = await startFolio({ storage })
      for (let i = 0; i < 4; i++) {
        const pdf = makePdf({ pages: [{ width: 100 + (i % 3), height: 200, text: `migrate ${i % 3}` }] }) // docs 0 and 3 share bytes
        const res = await request(`${f.url}/api/documents`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: pdf })
        docs.set(res.body.data.document_id, pdf)
      }
      await f.close()
      const keys = [...new Set([...docs.values()].map(sha256))]
      assert.equal(keys.length, 3)

      const toS3 = await runCli(['--to', 's3'], { ...env, ...s3Vars, ASSET_STORAGE_BACKEND: 'filesystem' })
      assert.equal(toS3.code, 0, toS3.out)
      assert.match(toS3.out, /3 copied .* 0 missing on the source, 0 damaged, 0 failed/)
      for (const k of keys) assert.equal(await rawS3.exists(k), true, 'copied to the bucket')
      for (const k of keys) assert.equal(await rawFs.exists(k), true, 'the source stays without --delete-source')
      await serveAndCheck(storage, { ...s3Vars }, docs)

      const again = await runCli(['--to', 's3'], { ...env, ...s3Vars, ASSET_STORAGE_BACKEND: 'filesystem' })
      assert.equal(again.code, 0, again.out)
      assert.match(again.out, /0 copied/)

      const toBuiltIn = await runCli(['--to=built-in', '--from=s3', '--delete-source'], { ...env, ...s3Vars })
      assert.equal(toBuiltIn.code, 0, toBuiltIn.out)
      assert.match(toBuiltIn.out, /3 copied/)
      for (const k of keys) assert.equal(await rawS3.exists(k), false, '--delete-source removed the bucket copies')
      await serveAndCheck(storage, { ASSET_STORAGE_BACKEND: 'built-in' }, docs)

      // The filesystem copies left by the first run, removed now that built-in holds every file.
      const cleanup = await runCli(['--to', 'built-in', '--from', 'filesystem', '--delete-source'], env)
      assert.equal(cleanup.code, 0, cleanup.out)
      assert.match(cleanup.out, /0 copied .* 3 source copies removed/)
      for (const k of keys) assert.equal(await rawFs.exists(k), false)
      await serveAndCheck(storage, { ASSET_STORAGE_BACKEND: 'built-in' }, docs)
      assert.equal((await runCli(['--to', 's3', '--delete-source'], env)).code, 64, '--delete-source needs --from')
    } finally {
      rawS3.close()
      await storage.drop()
    }
  })
}

for (const db of dbKinds()) {
  test(`filesystem → azure → s3 (Azurite, AZURE_STORAGE_* variables), verified, repeatable, and served after each move (${db})`, async () => {
    const storage = await createStorage(db)
    const { ASSET_STORAGE_BACKEND: _az, ...azVars } = az.env
    const { ASSET_STORAGE_BACKEND: _s3, ...s3Vars } = s3.env
    const env = { ...storageEnv(storage), API_AUTH_TOKEN: TEST_API_TOKEN }
    const rawAz = new AzureBlobStore({ container: az.container, connectionString: az.connectionString })
    const rawS3 = new S3BlobStore({ bucket: s3.bucket, region: 'us-east-1', host: '127.0.0.1', port: s3.port, scheme: 'http', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' })
    try {
      const docs = new Map<string, Buffer>()
      const f = await startFolio({ storage })
      for (let i = 0; i < 3; i++) {
        const pdf = makePdf({ pages: [{ width: 120 + i, height: 200, text: `azure ${i} ${db}` }] })
        const res = await request(`${f.url}/api/documents`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: pdf })
        docs.set(res.body.data.document_id, pdf)
      }
      await f.close()
      const keys = [...docs.values()].map(sha256)

      const toAzure = await runCli(['--to', 'azure'], { ...env, ...azVars, ASSET_STORAGE_BACKEND: 'filesystem' })
      assert.equal(toAzure.code, 0, toAzure.out)
      assert.match(toAzure.out, /3 copied .* 0 missing on the source, 0 damaged, 0 failed/)
      for (const k of keys) assert.equal(await rawAz.exists(k), true, 'copied to the container')
      await serveAndCheck(storage, { ...az.env }, docs)
      const again = await runCli(['--to', 'azure'], { ...env, ...azVars, ASSET_STORAGE_BACKEND: 'filesystem' })
      assert.equal(again.code, 0, again.out)
      assert.match(again.out, /0 copied/)

      const toS3 = await runCli(['--to=s3', '--from=azure', '--delete-source'], { ...env, ...azVars, ...s3Vars, ASSET_STORAGE_BACKEND: 'azure' })
      assert.equal(toS3.code, 0, toS3.out)
      assert.match(toS3.out, /3 copied/)
      for (const k of keys) assert.equal(await rawAz.exists(k), false, '--delete-source removed the container copies')
      for (const k of keys) assert.equal(await rawS3.exists(k), true)
      await serveAndCheck(storage, { ...s3.env }, docs)
    } finally {
      rawS3.close()
      await storage.drop()
    }
  })
}

test('a damaged source file is reported, not copied, and its row stays; bad arguments exit 64', async () => {
  const storage = await createStorage('pglite')
  const env = { ...storageEnv(storage), API_AUTH_TOKEN: TEST_API_TOKEN }
  try {
    const f = await startFolio({ storage })
    const pdf = makePdf({ pages: [{ width: 50, height: 50 }] })
    await request(`${f.url}/api/documents`, { method: 'POST', headers: { ...authHeader(), 'content-type': 'application/pdf' }, body: pdf })
    await f.close()
    const key = sha256(pdf)
    await writeFile(new FilesystemBlobStore(join(storage.dataDir, 'blobs')).pathOf(key), Buffer.concat([pdf, Buffer.from('x')]))
    const res = await runCli(['--to', 'built-in'], env)
    assert.equal(res.code, 1, res.out)
    assert.match(res.out, new RegExp(`damaged ${key}`))
    assert.match(res.out, /0 copied .* 1 damaged/)
    const lite = await openPglite(join(storage.dataDir, 'pglite'))
    try {
      assert.deepEqual(await lite.query('select backend from blobs where key = $1', [key]), [{ backend: 'filesystem' }])
      assert.deepEqual(await lite.query('select count(*)::int as n from blob_chunks'), [{ n: 0 }])
    } finally {
      await lite.close()
    }
    const usage = await runCli(['--to', 'ftp'], env)
    assert.equal(usage.code, 64)
    assert.match(usage.out, /usage: folio migrate-storage/)
  } finally {
    await storage.drop()
  }
})
