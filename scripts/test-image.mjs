#!/usr/bin/env node
// `npm run test:image`: builds the container image from the Dockerfile and smoke-tests it as an
// operator would run it, then starts docker-compose.yml's Folio service from the same image.
//
// Network rule of this project's machines (and a sane default anywhere): containers use the
// host's network only. dockerd is started with --bridge=none --iptables=false, every build and
// container uses --network host, and the compose service gets network_mode: host; the script
// checks at the end that no Docker network was created.
//
// Steps: Docker (Debian's docker.io, installed when missing and we are root) → the daemon
// (started, and stopped again at the end, when none runs) → the base image (a stand-in built by
// scripts/image/stand-in-base.sh when it cannot be pulled; cached by tag) → docker build → docker
// run --read-only on a free loopback port → smoke tests (health, upload, render, a JWT route,
// /viewer, the dashboard with credentials, the CLI via docker exec, non-root, read-only root,
// SIGTERM exit) → docker-compose config → the compose Folio service on the local PostgreSQL.
//
// Needs `npm run build` first (it reuses the test helpers from dist/test/helpers).
// Environment: FOLIO_IMAGE (default folio:test), FOLIO_REBUILD_BASE=1 to rebuild the stand-in,
// FOLIO_PULL_BASE=1 to pull the real base image instead (where a registry is reachable).
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync, openSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const root = fileURLToPath(new URL('..', import.meta.url))
const started = Date.now()
const IMAGE = process.env.FOLIO_IMAGE ?? 'folio:test'
const RUN_ID = randomBytes(4).toString('hex')
const CONTAINER = `folio-image-test-${RUN_ID}`
const VOLUME = `folio-image-test-${RUN_ID}`
const COMPOSE_PROJECT = `folioimagetest${RUN_ID}`
const cleanups = []
/** Stops the Docker daemon if this script started it; runs after every other clean-up. */
let stopDaemon = async () => {}
let failures = 0
let passes = 0

const { makePdf } = await import(join(root, 'dist/test/helpers/pdf-fixtures.js')).catch(() => {
  console.error('test:image: run `npm run build` first (the smoke test uses dist/test/helpers)')
  process.exit(1)
})
const { rsaKeys, signJwt } = await import(join(root, 'dist/test/helpers/sign-jwt.js'))

function log(msg) {
  console.log(`[test:image +${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}`)
}

/** Runs a command; throws with its stderr when it fails. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts })
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}\n${(r.stderr ?? '').slice(-4000)}${(r.stdout ?? '').slice(-2000)}`)
  }
  return r.stdout ?? ''
}
const ok = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0
const has = (cmd) => ok('sh', ['-c', `command -v ${cmd}`])

async function check(name, fn) {
  try {
    await fn()
    passes++
    console.log(`  ✔ ${name}`)
  } catch (e) {
    failures++
    console.log(`  ✖ ${name}\n      ${String(e?.stack ?? e).split('\n').slice(0, 6).join('\n      ')}`)
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg)
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function waitFor(what, fn, timeoutMs) {
  const until = Date.now() + timeoutMs
  let last
  while (Date.now() < until) {
    try {
      if (await fn()) return
    } catch (e) {
      last = e
    }
    await sleep(500)
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`)
}

// ---------------------------------------------------------------------------------------------
// Docker, the daemon, the base image
// ---------------------------------------------------------------------------------------------
function ensurePackages() {
  const need = []
  if (!has('dockerd')) need.push('docker.io')
  if (!has('mmdebstrap')) need.push('mmdebstrap')
  if (!has('docker-compose')) need.push('docker-compose')
  if (need.length === 0) return
  if (process.getuid?.() !== 0) throw new Error(`install ${need.join(' ')} (Debian packages) first`)
  log(`apt-get install ${need.join(' ')}`)
  run('apt-get', ['update', '-qq'])
  run('apt-get', ['install', '-y', '-qq', ...need], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
}

async function ensureDaemon() {
  if (ok('docker', ['info'])) return
  const logFile = join(tmpdir(), `folio-dockerd-${RUN_ID}.log`)
  log(`starting dockerd --bridge=none --iptables=false (log: ${logFile})`)
  const fd = openSync(logFile, 'a')
  const d = spawn('dockerd', ['--bridge=none', '--iptables=false', '--ip6tables=false'], { stdio: ['ignore', fd, fd], detached: true })
  stopDaemon = async () => {
    log('stopping the dockerd this script started')
    d.kill('SIGTERM')
    await waitFor('dockerd to stop', () => d.exitCode !== null || d.signalCode !== null, 30_000).catch(() => d.kill('SIGKILL'))
  }
  await waitFor('dockerd', () => ok('docker', ['info']), 60_000)
}

function baseImage() {
  const from = readFileSync(join(root, 'Dockerfile'), 'utf8').split('\n').find((l) => l.startsWith('FROM '))
  return from.split(/\s+/)[1]
}

function ensureBase(tag) {
  if (!process.env.FOLIO_REBUILD_BASE && ok('docker', ['image', 'inspect', tag])) {
    log(`base ${tag}: present`)
    return
  }
  // Pulling is opt-in: on machines that may reach only the npm registry and Debian's mirrors, a
  // pull would send traffic to a container registry.
  if (process.env.FOLIO_PULL_BASE === '1' && !process.env.FOLIO_REBUILD_BASE) {
    run('docker', ['pull', tag], { stdio: ['ignore', 'inherit', 'inherit'] })
    return
  }
  log(`base ${tag}: absent; building the stand-in (scripts/image/stand-in-base.sh)`)
  run('bash', [join(root, 'scripts/image/stand-in-base.sh'), tag], { stdio: ['ignore', 'inherit', 'inherit'] })
}

function networks() {
  return run('docker', ['network', 'ls', '--format', '{{.Name}}']).split('\n').filter(Boolean).sort().join(',')
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------------------------
async function http(url, init = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) })
  const buf = Buffer.from(await res.arrayBuffer())
  let json
  try {
    json = JSON.parse(buf.toString('utf8'))
  } catch {}
  return { status: res.status, headers: res.headers, buf, json, text: buf.toString('utf8') }
}

function containerHealth(name) {
  return run('docker', ['inspect', '-f', '{{.State.Health.Status}}', name]).trim()
}

// ---------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------
async function main() {
  ensurePackages()
  await ensureDaemon()
  const networksBefore = networks()
  const base = baseImage()
  ensureBase(base)

  log(`docker build --network host -t ${IMAGE} .`)
  const buildStart = Date.now()
  // The classic builder: Debian's docker.io 20.10 has no buildx, and it honours --network host.
  run('docker', ['build', '--network', 'host', '-t', IMAGE, '.'], { cwd: root, env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: ['ignore', 'ignore', 'inherit'] })
  const buildSeconds = (Date.now() - buildStart) / 1000
  const size = Number(run('docker', ['image', 'inspect', '-f', '{{.Size}}', IMAGE]).trim())
  const baseSize = Number(run('docker', ['image', 'inspect', '-f', '{{.Size}}', base]).trim())
  const nodeInImage = run('docker', ['run', '--rm', '--network', 'host', '--read-only', IMAGE, 'node', '--version']).trim()
  log(`image ${IMAGE}: ${(size / 1e6).toFixed(0)} MB (base ${base} ${(baseSize / 1e6).toFixed(0)} MB, Folio's layers ${((size - baseSize) / 1e6).toFixed(0)} MB), Node.js ${nodeInImage}, built in ${buildSeconds.toFixed(0)} s`)

  await smokeTest()
  await composeTest()

  await check('no Docker network was created (host network only)', () => {
    const after = networks()
    assert(after === networksBefore, `networks before: ${networksBefore}; after: ${after}`)
  })
}

async function smokeTest() {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const apiToken = randomBytes(32).toString('hex')
  const keys = rsaKeys()
  const dashUser = 'operator'
  const dashPassword = randomBytes(12).toString('hex')
  const env = {
    PORT: String(port),
    HOST: '127.0.0.1',
    API_AUTH_TOKEN: apiToken,
    SECRET_KEY_BASE: randomBytes(64).toString('hex'),
    JWT_PUBLIC_KEY: keys.publicPem,
    JWT_ALGORITHM: 'RS256',
    DASHBOARD_USERNAME: dashUser,
    DASHBOARD_PASSWORD: dashPassword,
  }
  const envArgs = Object.keys(env).flatMap((k) => ['-e', k])
  run('docker', ['volume', 'create', VOLUME])
  cleanups.push(() => spawnSync('docker', ['volume', 'rm', '-f', VOLUME], { stdio: 'ignore' }))
  log(`docker run --network host --read-only --tmpfs /tmp -v ${VOLUME}:/data on ${url}`)
  run('docker', ['run', '-d', '--name', CONTAINER, '--network', 'host', '--read-only', '--tmpfs', '/tmp', '-v', `${VOLUME}:/data`, ...envArgs, IMAGE], { env: { ...process.env, ...env } })
  cleanups.unshift(() => spawnSync('docker', ['rm', '-f', CONTAINER], { stdio: 'ignore' }))

  const auth = { authorization: `Token token="${apiToken}"` }
  console.log('smoke test of the image')
  await check('GET /healthcheck answers 200 ok', async () => {
    await waitFor('/healthcheck', async () => (await http(`${url}/healthcheck`)).status === 200, 90_000)
  })

  const documentId = `image-smoke-${RUN_ID}`
  await check('upload (POST /api/documents, application/pdf) creates the document', async () => {
    const res = await http(`${url}/api/documents?document_id=${documentId}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/pdf' },
      body: makePdf({ pages: [{ text: 'Hello from the container' }, { text: 'Page two' }] }),
    })
    assert(res.status === 200, `status ${res.status}: ${res.text.slice(0, 300)}`)
    assert(res.json?.data?.document_id === documentId, res.text.slice(0, 300))
  })

  await check('a page renders to PNG in the container (PDFium in a worker)', async () => {
    const res = await http(`${url}/api/documents/${documentId}/pages/0/image?width=200`, { headers: auth })
    assert(res.status === 200, `status ${res.status}: ${res.text.slice(0, 300)}`)
    assert(res.buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'not a PNG')
  })

  await check('the Build API runs in the container (qpdf and the Unicode fonts are in the image)', async () => {
    const res = await http(`${url}/api/build`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        parts: [{ document: { id: documentId } }],
        actions: [{ type: 'watermark', text: 'Привет 你好', width: { value: 200, unit: 'pt' }, height: { value: 50, unit: 'pt' } }],
      }),
    })
    assert(res.status === 200, `status ${res.status}: ${res.text.slice(0, 300)}`)
    assert(res.buf.subarray(0, 5).toString('latin1') === '%PDF-', 'not a PDF')
  })

  await check('a JWT signed for the document opens a client route; the API token does not', async () => {
    const jwt = signJwt(keys, { document_id: documentId, permissions: ['read-document'] })
    const res = await http(`${url}/i/d/${documentId}/document_info`, { headers: { authorization: `Bearer ${jwt}` } })
    assert(res.status === 200, `status ${res.status}: ${res.text.slice(0, 300)}`)
    assert(res.json?.data?.pageCount === 2, res.text.slice(0, 300))
    const other = await http(`${url}/i/d/${documentId}/document_info`, { headers: auth })
    assert(other.status === 401, `the API token on /i gave ${other.status}`)
  })

  await check('GET /viewer serves the viewer page (web/ is in the image)', async () => {
    const res = await http(`${url}/viewer`)
    assert(res.status === 200 && /<html/i.test(res.text), `status ${res.status}`)
  })

  await check('the dashboard answers 401 without and 200 with its credentials', async () => {
    const none = await http(`${url}/dashboard/`)
    assert(none.status === 401, `without credentials: ${none.status}`)
    const basic = { authorization: `Basic ${Buffer.from(`${dashUser}:${dashPassword}`).toString('base64')}` }
    const session = await http(`${url}/dashboard/session`, { headers: basic })
    assert(session.status === 200 && session.json?.data?.username === dashUser, `session: ${session.status}`)
    const page = await http(`${url}/dashboard/`, { headers: basic })
    assert(page.status === 200 && /<html/i.test(page.text), `page: ${page.status}`)
  })

  await check('the CLI runs inside the container: `folio secrets list jwt`, `folio revoke list`', async () => {
    const cli = (...args) =>
      run('docker', ['exec', '-e', `FOLIO_URL=${url}`, '-e', 'FOLIO_API_TOKEN', CONTAINER, 'folio', ...args], { env: { ...process.env, FOLIO_API_TOKEN: apiToken } })
    const secrets = cli('secrets', 'list', 'jwt', '--json')
    assert(Array.isArray(JSON.parse(secrets)) && JSON.parse(secrets).length >= 1, secrets)
    cli('revoke', 'jti', `smoke-${RUN_ID}`)
    assert(cli('revoke', 'list', '--json').includes(`smoke-${RUN_ID}`), 'the revocation is listed')
  })

  await check('the process runs as uid 1000 (node), not root', () => {
    const id = run('docker', ['exec', CONTAINER, 'id', '-u']).trim()
    assert(id === '1000', `uid ${id}`)
  })

  await check('the root file system is read-only; /data and /tmp are writable', () => {
    const r = spawnSync('docker', ['exec', CONTAINER, 'sh', '-c', 'touch /app/x'], { encoding: 'utf8' })
    assert(r.status !== 0 && /Read-only/i.test(r.stderr), `touch /app/x: ${r.status} ${r.stderr}`)
    run('docker', ['exec', CONTAINER, 'sh', '-c', 'touch /data/.probe /tmp/.probe && rm /data/.probe /tmp/.probe'])
  })

  await check('the image holds the runtime only (no sources, tests, dev dependencies or TypeScript)', () => {
    const ls = (dir) => run('docker', ['exec', CONTAINER, 'ls', '-A', dir]).split('\n').filter(Boolean)
    const app = ls('/app').sort().join(' ')
    assert(app === 'bin dist node_modules package.json web', `/app holds: ${app}`)
    assert(ls('/app/dist').join(' ') === 'src', `/app/dist holds: ${ls('/app/dist').join(' ')}`)
    const modules = ls('/app/node_modules')
    for (const dev of ['typescript', 'playwright-core', 's3rver', '@types', 'openapi-typescript']) assert(!modules.includes(dev), `${dev} is in the image`)
    for (const dep of ['fastify', 'sharp', '@hyzyla']) assert(modules.includes(dep), `${dep} is missing`)
  })

  await check("Docker's HEALTHCHECK reports the container healthy", async () => {
    await waitFor('health status healthy', () => containerHealth(CONTAINER) === 'healthy', 60_000)
  })

  await check('the logs hold neither the API token nor the dashboard password', () => {
    const r = spawnSync('docker', ['logs', CONTAINER], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    const logs = r.stdout + r.stderr
    assert(logs.length > 0, 'no logs')
    assert(!logs.includes(apiToken) && !logs.includes(dashPassword), 'a secret reached the logs')
  })

  await check('docker stop (SIGTERM to node as PID 1) ends the container with exit code 0', () => {
    run('docker', ['stop', '-t', '40', CONTAINER])
    const code = run('docker', ['inspect', '-f', '{{.State.ExitCode}}', CONTAINER]).trim()
    assert(code === '0', `exit code ${code}`)
  })

  await check('the data volume keeps the document across a restart', async () => {
    run('docker', ['start', CONTAINER])
    await waitFor('/healthcheck after restart', async () => (await http(`${url}/healthcheck`)).status === 200, 90_000)
    const res = await http(`${url}/api/documents/${documentId}/document_info`, { headers: auth })
    assert(res.status === 200, `status ${res.status}`)
  })
}

async function composeTest() {
  console.log('docker-compose.yml')
  const dir = mkdtempSync(join(tmpdir(), 'folio-compose-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  cpSync(join(root, 'docker-compose.yml'), join(dir, 'docker-compose.yml'))
  cpSync(join(root, 'deploy'), join(dir, 'deploy'), { recursive: true })
  const apiToken = randomBytes(32).toString('hex')
  writeFileSync(
    join(dir, '.env'),
    `FOLIO_SITE=folio.example.com\nPOSTGRES_PASSWORD=${randomBytes(8).toString('hex')}\nS3_ACCESS_KEY=a\nS3_SECRET_KEY=${randomBytes(8).toString('hex')}\n` +
      `API_AUTH_TOKEN=${apiToken}\nSECRET_KEY_BASE=${randomBytes(64).toString('hex')}\n`,
  )
  let config
  await check('docker-compose config accepts docker-compose.yml', () => {
    config = parse(run('docker-compose', ['config'], { cwd: dir }))
    assert(config.services?.folio1?.read_only === true, 'folio1 is read-only')
  })
  if (!config) return

  // The stack's own networks are private bridges; here the Folio service runs alone on the
  // host's network, against the machine's PostgreSQL when it runs, else the embedded database.
  const port = await freePort()
  const svc = structuredClone(config.services.folio1)
  delete svc.build
  delete svc.networks
  delete svc.depends_on
  svc.image = IMAGE
  svc.network_mode = 'host'
  svc.restart = 'no'
  const environment = { ...svc.environment }
  for (const k of Object.keys(environment)) if (k.startsWith('ASSET_STORAGE_')) delete environment[k]
  delete environment.TRUSTED_PROXIES
  environment.PORT = String(port)
  environment.HOST = '127.0.0.1'
  const pg = ok('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q'])
  const db = `folio_image_${RUN_ID}`
  if (pg) {
    run('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-qc', `create database ${db}`])
    cleanups.push(() => spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-qc', `drop database if exists ${db} with (force)`], { stdio: 'ignore' }))
    environment.DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${db}`
  } else {
    delete environment.DATABASE_URL
  }
  svc.environment = environment
  const volumes = Object.fromEntries((svc.volumes ?? []).map((v) => [String(typeof v === 'string' ? v.split(':')[0] : v.source), {}]))
  // JSON is YAML, and it keeps strings such as restart: "no" strings for compose's YAML 1.1 parser.
  writeFileSync(join(dir, 'folio-only.yml'), JSON.stringify({ version: config.version ?? '3.8', services: { folio: svc }, volumes }, null, 2))
  const compose = (...args) => run('docker-compose', ['-p', COMPOSE_PROJECT, '-f', 'folio-only.yml', ...args], { cwd: dir })
  cleanups.unshift(() => spawnSync('docker-compose', ['-p', COMPOSE_PROJECT, '-f', 'folio-only.yml', 'down', '-v', '--remove-orphans'], { cwd: dir, stdio: 'ignore' }))

  await check(`the compose Folio service starts from ${IMAGE} (host network, ${pg ? 'PostgreSQL at 127.0.0.1:5432' : 'embedded database'})`, async () => {
    compose('up', '-d', '--no-build')
    const url = `http://127.0.0.1:${port}`
    await waitFor('/healthcheck', async () => (await http(`${url}/healthcheck`)).status === 200, 90_000)
    const auth = { authorization: `Token token="${apiToken}"` }
    const up = await http(`${url}/api/documents?document_id=compose-${RUN_ID}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/pdf' }, body: makePdf() })
    assert(up.status === 200, `upload: ${up.status} ${up.text.slice(0, 200)}`)
    const list = await http(`${url}/api/documents`, { headers: auth })
    assert(list.status === 200 && list.text.includes(`compose-${RUN_ID}`), `list: ${list.status}`)
    const ro = run('docker', ['inspect', '-f', '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.NetworkMode}}', `${COMPOSE_PROJECT}_folio_1`]).trim()
    assert(ro === 'true host', ro)
    if (pg) {
      const n = run('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', db, '-tAc', `select count(*) from documents where id = 'compose-${RUN_ID}'`]).trim()
      assert(n === '1', `documents row in PostgreSQL: ${n}`)
    }
    compose('down', '-v')
  })
}

try {
  await main()
} catch (e) {
  failures++
  console.error(`test:image: ${e?.stack ?? e}`)
} finally {
  for (const c of cleanups) await c()
  await stopDaemon()
}
const seconds = ((Date.now() - started) / 1000).toFixed(0)
console.log(`test:image: ${seconds} s`)
console.log(`${passes} passed, ${failures} failed`)
process.exit(failures === 0 ? 0 : 1)
