/**
 * `npx folio migrate-storage --to <backend> [--from <backend>] [--delete-source]`:
 * copies every blob that is not on the target backend to it, verified by sha256 on both sides,
 * and records the move in the database. The configuration is the same environment as the
 * server's (DATABASE_URL, DATA_DIR, ASSET_STORAGE_S3_*, AZURE_STORAGE_*); see docs/deploy.md for the procedure.
 */
import { join } from 'node:path'
import { ASSET_BACKENDS, type AssetBackend, type Config } from '../config.js'
import { openDatabase } from '../app.js'
import { migrate } from '../db/migrate.js'
import { migrateBlobs } from '../documents/storage-migration.js'
import type { BlobStore } from '../storage/blob-store.js'
import { createBlobStore } from '../storage/from-config.js'
import { StagingArea } from '../storage/staging.js'

export const USAGE = `usage: folio migrate-storage --to <${ASSET_BACKENDS.join('|')}> [--from <backend> [--delete-source]]

Copies every document file that is not on the target backend to it, checks its sha256 after the
copy, and records the move. Safe to run while Folio serves and to run again. --delete-source
removes the copies on the --from backend of every file the target holds (only once every node
uses the target backend).`

interface Args { to: AssetBackend; from?: AssetBackend; deleteSource: boolean }

export function parseArgs(argv: string[]): Args | string {
  let to: string | undefined
  let from: string | undefined
  let deleteSource = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--to') to = argv[++i]
    else if (a.startsWith('--to=')) to = a.slice(5)
    else if (a === '--from') from = argv[++i]
    else if (a.startsWith('--from=')) from = a.slice(7)
    else if (a === '--delete-source') deleteSource = true
    else return `unknown argument: ${a}`
  }
  const ok = (b: string | undefined): b is AssetBackend => (ASSET_BACKENDS as readonly string[]).includes(b ?? '')
  if (!ok(to)) return '--to is required and must be one of ' + ASSET_BACKENDS.join(' ')
  if (from !== undefined && !ok(from)) return '--from must be one of ' + ASSET_BACKENDS.join(' ')
  if (from === to) return '--from and --to are the same backend'
  if (deleteSource && from === undefined) return '--delete-source needs --from (the backend whose copies to remove)'
  return { to, from: from as AssetBackend | undefined, deleteSource }
}

/** Runs the command; returns the process exit code. */
export async function migrateStorageCommand(argv: string[], config: Config, out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv)
  if (typeof args === 'string') {
    out(`folio migrate-storage: ${args}\n\n${USAGE}`)
    return 64 // EX_USAGE
  }
  const db = await openDatabase(config)
  const stores = new Map<AssetBackend, BlobStore>()
  const storeFor = (b: AssetBackend) => {
    let s = stores.get(b)
    if (!s) {
      s = createBlobStore(config, db, b)
      stores.set(b, s)
    }
    return s
  }
  try {
    await migrate(db) // the blob_chunks table, when the target is built-in
    const target = storeFor(args.to)
    await target.check()
    const staging = new StagingArea(join(config.dataDir, 'tmp', 'migrate-storage'))
    await staging.init()
    out(`folio migrate-storage: copying to ${args.to}${args.from ? ` from ${args.from}` : ''}`)
    const report = await migrateBlobs({
      db, target, staging, deleteSource: args.deleteSource, from: args.from,
      source: storeFor,
      onBlob: (key, outcome, bytes) => out(`  ${outcome.padEnd(7)} ${key} ${bytes} bytes`),
    })
    out(`folio migrate-storage: ${report.copied} copied (${report.bytes} bytes), ${report.missing.length} missing on the source, ` +
      `${report.damaged.length} damaged, ${report.failed.length} failed, ${report.removed} source copies removed`)
    for (const f of report.failed) out(`  failed ${f.key}: ${f.error}`)
    return report.failed.length + report.damaged.length + report.missing.length === 0 ? 0 : 1
  } finally {
    for (const s of stores.values()) s.close?.()
    await db.close()
  }
}
