import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ConfigError, DEFAULTS, loadConfig } from '../src/config.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (e) {
    assert.ok(e instanceof ConfigError)
    return e.problems
  }
  return []
}

describe('configuration', () => {
  test('defaults match spec §1 and the result is deeply frozen', () => {
    const c = loadConfig({}, { cwd: '/srv' })
    assert.equal(c.port, 5000)
    assert.equal(c.host, '0.0.0.0')
    assert.equal(c.dataDir, '/srv/data')
    assert.equal(c.postgres, undefined)
    assert.equal(c.assetBackend, 'filesystem')
    assert.equal(c.jwt.algorithm, 'RS256')
    assert.equal(c.jwt.maxLifetimeSeconds, 86400)
    assert.equal(c.jwt.clockToleranceSeconds, 30)
    assert.equal(c.replaceSecretsFromEnv, true)
    assert.equal(c.remote.allowed, false)
    assert.equal(c.remote.policy, 'public_only')
    assert.equal(c.remote.timeoutMs, 30000)
    assert.equal(c.requestTimeoutMs, 60000)
    assert.equal(c.maxUploadBytes, 104857600)
    assert.equal(c.allowedOrigins, undefined)
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.jwt) && Object.isFrozen(c.remote.allowedHosts))
  })

  test('each bad value is reported naming its variable, all at once', () => {
    const p = problems({
      PORT: 'eighty',
      JWT_ALGORITHM: 'HS256',
      MAX_UPLOAD_SIZE_BYTES: '-1',
      ALLOW_REMOTE_DOCUMENTS: 'maybe',
      ASSET_STORAGE_BACKEND: 'ftp',
      API_AUTH_TOKEN: 'short',
      SECRET_KEY_BASE: 'tooshort',
      ALLOWED_ORIGINS: 'https://ok.example.com,not an origin',
      DATABASE_URL: 'mysql://u:hunter2@h/db',
      LOG_LEVEL: 'loud',
    })
    for (const name of ['PORT', 'JWT_ALGORITHM', 'MAX_UPLOAD_SIZE_BYTES', 'ALLOW_REMOTE_DOCUMENTS', 'ASSET_STORAGE_BACKEND', 'API_AUTH_TOKEN', 'SECRET_KEY_BASE', 'ALLOWED_ORIGINS', 'DATABASE_URL', 'LOG_LEVEL']) {
      assert.ok(p.some((x) => x.startsWith(`${name}:`)), `a problem names ${name}: ${p.join(' | ')}`)
    }
    assert.ok(!p.join(' ').includes('hunter2'), 'a password in DATABASE_URL is never echoed')
    assert.ok(problems({ JWT_ALGORITHM: 'none' }).some((x) => x.startsWith('JWT_ALGORITHM')))
  })

  test('RENDER_* and PDF_JOB_TIMEOUT_MS: defaults, bounds, and a pixel cap that must fit the worker memory', () => {
    const d = loadConfig({})
    assert.deepEqual({ ...d.render }, { workers: undefined, timeoutMs: 20000, queueMax: 64, maxPixels: 40000000, workerMemoryMb: 1024, workerRecycleMb: 512, cacheMaxBytes: 1073741824, cacheMemoryBytes: 67108864, pdfJobTimeoutMs: 10000 })
    assert.equal(loadConfig({ PDF_JOB_TIMEOUT_MS: '2500' }).render.pdfJobTimeoutMs, 2500)
    assert.ok(problems({ PDF_JOB_TIMEOUT_MS: '10' }).some((x) => x.startsWith('PDF_JOB_TIMEOUT_MS:')))
    const c = loadConfig({ RENDER_WORKERS: '3', RENDER_TIMEOUT_MS: '500', RENDER_QUEUE_MAX: '2', RENDER_CACHE_MAX_BYTES: '0' })
    assert.deepEqual([c.render.workers, c.render.timeoutMs, c.render.queueMax, c.render.cacheMaxBytes], [3, 500, 2, 0])
    const p = problems({ RENDER_WORKERS: '0', RENDER_TIMEOUT_MS: 'soon', RENDER_QUEUE_MAX: '0', RENDER_WORKER_MEMORY_MB: '4096', RENDER_CACHE_MAX_BYTES: '-1' })
    for (const name of ['RENDER_WORKERS', 'RENDER_TIMEOUT_MS', 'RENDER_QUEUE_MAX', 'RENDER_WORKER_MEMORY_MB', 'RENDER_CACHE_MAX_BYTES']) {
      assert.ok(p.some((x) => x.startsWith(`${name}:`)), `a problem names ${name}: ${p.join(' | ')}`)
    }
    assert.ok(problems({ RENDER_MAX_PIXELS: '40000000', RENDER_WORKER_MEMORY_MB: '128' }).some((x) => x.startsWith('RENDER_MAX_PIXELS:')))
  })

  test('PG* variables select PostgreSQL; DATABASE_URL wins', () => {
    const c = loadConfig({ PGHOST: 'db', PGPORT: '6543', PGUSER: 'u', PGDATABASE: 'folio' })
    assert.deepEqual({ ...c.postgres }, { host: 'db', port: 6543, user: 'u', password: undefined, database: 'folio', ssl: 'disable' })
    assert.equal(loadConfig({ DATABASE_URL: 'postgres://a@b/c', PGHOST: 'x' }).postgres?.url, 'postgres://a@b/c')
  })

  test('only src/main.ts reads process.env', async () => {
    const offenders: string[] = []
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name)
        if (e.isDirectory()) await walk(p)
        else if (p.endsWith('.ts') && !p.endsWith(join('src', 'main.ts')) && (await readFile(p, 'utf8')).includes('process.env')) offenders.push(p)
      }
    }
    await walk(join(root, 'src'))
    assert.deepEqual(offenders, [])
  })

  test('docs/configuration.md and the README name every variable, with the defaults of config.ts', async () => {
    const doc = await readFile(join(root, 'docs', 'configuration.md'), 'utf8')
    const readme = await readFile(join(root, 'README.md'), 'utf8')
    for (const [name, value] of Object.entries(DEFAULTS)) {
      for (const [label, text] of [['docs/configuration.md', doc], ['README.md', readme]] as const) {
        const line = text.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${name}\``))
        assert.ok(line, `${label} lists ${name}`)
        assert.ok(line.includes(`\`${String(value)}\``), `${label} gives ${name} the default ${value}: ${line}`)
      }
    }
  })
})
