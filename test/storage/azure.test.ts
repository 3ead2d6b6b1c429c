import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { loadConfig } from '../../src/config.js'
import { AzureBlobStore } from '../../src/storage/azure.js'
import { BlobStoreUnavailableError } from '../../src/storage/blob-store.js'
import { StagingArea } from '../../src/storage/staging.js'
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type TestAzurite } from '../helpers/azurite.js'
import { blobStoreContract } from './contract.js'

// Against a real Blob service (Azurite) on 127.0.0.1, with Shared Key signed requests. Blocks
// of 4 MiB, so that the 24 MiB blob of the suite goes up as staged blocks and a block list.
let az: TestAzurite
before(async () => {
  az = await startAzurite()
})
after(async () => {
  await az.stop()
})

async function staged(store: AzureBlobStore) {
  const dir = await mkdtemp(join(process.env.FOLIO_TEST_TMP!, 'azure-staging-'))
  const staging = new StagingArea(dir)
  await staging.init()
  return { store, staging, async cleanup() { await rm(dir, { recursive: true, force: true }) } }
}

blobStoreContract('azure (account name + key + API URL)', async () => staged(new AzureBlobStore({
  container: az.container, accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, apiUrl: az.url, blockBytes: 4 * 1024 * 1024,
})))

blobStoreContract('azure (connection string)', async () => staged(new AzureBlobStore({
  container: az.container, connectionString: az.connectionString, blockBytes: 4 * 1024 * 1024,
})))

test('azure: the configuration is read from Document Engine’s AZURE_STORAGE_* variables', () => {
  const c = loadConfig({ DATA_DIR: '/tmp/x', ...az.env })
  assert.equal(c.assetBackend, 'azure')
  assert.deepEqual({ ...c.azure }, { container: az.container, accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, apiUrl: az.url, connectionString: undefined })
})

test('azure: a missing container, a wrong key and an unreachable service stop the start with a message naming the variables, never the key', async () => {
  const cases: Array<[AzureBlobStore, RegExp]> = [
    [new AzureBlobStore({ container: 'no-such-container', accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, apiUrl: az.url }),
      /container "no-such-container" .* does not exist .*AZURE_STORAGE_DEFAULT_CONTAINER/],
    [new AzureBlobStore({ container: az.container, accountName: AZURITE_ACCOUNT, accountKey: Buffer.from('wrong key of 32 bytes...........').toString('base64'), apiUrl: az.url }),
      /access was refused \(check AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY\)/],
    [new AzureBlobStore({ container: az.container, accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, apiUrl: 'http://127.0.0.1:9/devstoreaccount1' }),
      /is unreachable .*AZURE_STORAGE_API_URL/],
  ]
  for (const [store, message] of cases) {
    const e = await store.check().then(() => undefined, (err: unknown) => err)
    assert.ok(e instanceof BlobStoreUnavailableError, String(e))
    assert.match(e.message, message)
    assert.doesNotMatch(e.message, new RegExp(AZURITE_KEY.slice(0, 20).replace(/[+/]/g, '.')))
  }
})
