/**
 * The delivery files (issue #9), checked where Docker cannot run: the Dockerfile keeps its
 * promises (multi-stage, non-root, health check on /healthcheck, exec-form start), and
 * docker-compose.yml is valid for `docker-compose config` (Debian's docker-compose, when
 * installed) and publishes ports only on the proxy, with read-only Folio nodes.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const hasCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0

describe('delivery files', () => {
  test('the Dockerfile is multi-stage on one Node.js LTS base, runs as a non-root user, and checks /healthcheck', async () => {
    const lines = (await readFile(join(root, 'Dockerfile'), 'utf8')).split('\n').filter((l) => !l.startsWith('#'))
    const from = lines.filter((l) => l.startsWith('FROM '))
    assert.ok(from.length >= 2, 'build stages and a runtime stage')
    assert.equal(new Set(from.map((l) => l.split(/\s+/)[1])).size, 1, 'every stage on the same base')
    const major = Number(/^FROM node:(\d+)-/.exec(from[0]!)?.[1])
    assert.ok(major >= 22 && major % 2 === 0, `an LTS line of Node.js (even, >= 22): ${from[0]}`)
    const runtime = lines.slice(lines.indexOf(from.at(-1)!))
    assert.ok(runtime.some((l) => /^USER node$/.test(l)), 'the runtime stage drops root')
    assert.ok(!runtime.some((l) => /npm (ci|install)/.test(l)), 'no install in the runtime stage')
    const text = runtime.join('\n')
    assert.match(text, /HEALTHCHECK[\s\S]*\/healthcheck/)
    assert.match(text, /^CMD \["node", "dist\/src\/main\.js"\]$/m, 'exec form: node receives SIGTERM')
    assert.match(text, /DATA_DIR=\/data/)
    for (const dir of ['web', 'bin']) assert.match(text, new RegExp(`^COPY ${dir} `, 'm'), `${dir}/ is what the dashboard, viewer and CLI read`)
  })

  test('docker-compose.yml: only the proxy publishes ports, Folio nodes are read-only, secrets come from .env', async () => {
    const text = await readFile(join(root, 'docker-compose.yml'), 'utf8')
    const portsLines = text.split('\n').filter((l) => /^\s+ports:/.test(l))
    assert.equal(portsLines.length, 1, 'one service publishes ports')
    const proxyBlock = text.slice(text.indexOf('\n  proxy:'), text.indexOf('\n  postgres:'))
    assert.match(proxyBlock, /ports:/)
    assert.match(text, /read_only: true/)
    for (const v of ['POSTGRES_PASSWORD', 'S3_SECRET_KEY', 'API_AUTH_TOKEN', 'SECRET_KEY_BASE']) {
      assert.match(text, new RegExp(`\\$\\{${v}:\\?`), `${v} is required from the environment, never written here`)
    }
  })

  test('docker-compose config accepts docker-compose.yml', { skip: !hasCompose && 'docker-compose is not installed' }, async () => {
    const dir = await mkdtemp(join(process.env.FOLIO_TEST_TMP!, 'compose-'))
    try {
      await cp(join(root, 'docker-compose.yml'), join(dir, 'docker-compose.yml'))
      await cp(join(root, 'deploy'), join(dir, 'deploy'), { recursive: true })
      await writeFile(join(dir, '.env'), 'FOLIO_SITE=folio.example.com\nPOSTGRES_PASSWORD=p\nS3_ACCESS_KEY=a\nS3_SECRET_KEY=b\nAPI_AUTH_TOKEN=t\nSECRET_KEY_BASE=s\n')
      const ok = spawnSync('docker-compose', ['config', '--quiet'], { cwd: dir, encoding: 'utf8' })
      assert.equal(ok.status, 0, ok.stderr)
      await rm(join(dir, '.env'))
      const missing = spawnSync('docker-compose', ['config', '--quiet'], { cwd: dir, encoding: 'utf8' })
      assert.notEqual(missing.status, 0, 'refused without the secrets')
      assert.match(missing.stderr, /set .* in \.env/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
