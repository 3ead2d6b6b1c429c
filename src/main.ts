#!/usr/bin/env node
/**
 * The process entry: the only file that reads process.env, listens, and handles signals.
 * Also the `folio` command of package.json (`npx folio migrate-storage ...`).
 */
import { buildApp } from './app.js'
import { migrateStorageCommand } from './cli/migrate-storage.js'
import { ConfigError, loadConfig } from './config.js'
import { MigrationError } from './db/migrate.js'
import { errorFields } from './log.js'
import { BlobStoreUnavailableError } from './storage/blob-store.js'
import { TlsFileError } from './net/tls.js'

const SHUTDOWN_GRACE_MS = 30_000

async function main(): Promise<void> {
  let config
  try {
    config = loadConfig(process.env, { cwd: process.cwd() })
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`folio: ${e.message}\n`)
      process.exit(78) // EX_CONFIG
    }
    throw e
  }

  const [command, ...args] = process.argv.slice(2)
  if (command === 'migrate-storage') {
    process.exit(await migrateStorageCommand(args, config, (line) => process.stdout.write(`${line}\n`)))
  } else if (command !== undefined && command !== 'start') {
    process.stderr.write(`folio: unknown command "${command}"; commands: start (default), migrate-storage\n`)
    process.exit(64) // EX_USAGE
  }

  const app = await buildApp(config)
  const address = await app.listen()
  app.log.info({ address, dataDir: config.postgres ? undefined : config.dataDir, database: app.db.kind, storage: config.assetBackend }, 'folio listening')
  if (app.generatedApiToken) {
    // Printed once, to the terminal only, never to the log (spec §1: generated, stored, printed once).
    process.stdout.write(
      `\n  Folio generated an API token. It is shown only now; store it safely:\n\n` +
        `    Authorization: Token token="${app.generatedApiToken}"\n\n` +
        `  Set API_AUTH_TOKEN to choose your own, or rotate it through /api/secrets/api_auth_token.\n\n`,
    )
  }
  process.stdout.write(`  Folio is listening on ${address} (data: ${config.postgres ? 'PostgreSQL' : config.dataDir})\n`)

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    app.log.info({ signal }, 'shutting down: finishing in-flight requests')
    const force = setTimeout(() => {
      app.log.error('shutdown grace period over; exiting')
      process.exit(1)
    }, SHUTDOWN_GRACE_MS)
    force.unref()
    app.close().then(
      () => process.exit(0),
      (e: unknown) => {
        app.log.error({ err: e }, 'error while shutting down')
        process.exit(1)
      },
    )
  }
  // SIGHUP: read TLS_CERT_FILE / TLS_KEY_FILE again now (they are also watched).
  process.on('SIGHUP', () => void app.reloadTls())
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError) {
    // e.g. a JWT_PUBLIC_KEY or DASHBOARD_PASSWORD refused by the secrets rules at seeding
    process.stderr.write(`folio: ${e.message}\n`)
    process.exit(78) // EX_CONFIG
  }
  // Errors meant for the operator are printed as they are; anything else as type + message.
  const msg = e instanceof MigrationError || e instanceof BlobStoreUnavailableError || e instanceof TlsFileError ? e.message : JSON.stringify(errorFields(e))
  process.stderr.write(`folio: failed to start: ${msg}\n`)
  process.exit(1)
})
