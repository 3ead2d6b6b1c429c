#!/usr/bin/env node
// `npx folio …`: the operators' command line for secrets and JWT revocation (issue #4 §7).
// It is a client of the server API like any other: it reads FOLIO_URL (default
// http://127.0.0.1:5000) and FOLIO_API_TOKEN from the environment and calls /api/secrets,
// /api/jwt/revocations, /api/revoke and /api/audit. Plain ESM with no dependencies, so it runs
// without a build.
//
// Secrets are never taken from the command line (it shows in `ps` and in shell history): they
// come from --secret-file, from stdin, or are generated with --generate and printed once.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const USAGE = `Usage: folio <command> [options]

  secrets list <type>
  secrets add <type> --expires-at <ISO time> [--algorithm <alg>] [--secret-file <path> | --generate]
  secrets rotate <type> [--previous-expires-at <ISO time>|now] [--algorithm <alg>] [--secret-file <path> | --generate]
  secrets expire <type> <id> [--at <ISO time>|now]          (default: now)

  revoke token <jwt|->                       revoke one token (- reads it from stdin)
  revoke jti <jti>
  revoke document <document_id> [--issued-before <ISO time>]
  revoke user <user_id> [--issued-before <ISO time>]
  revoke jwts <jwt|->...                     Document Engine's /api/revoke: by jti, else by token
  revoke list
  revoke lift <id>

  audit [--limit <n>] [--action <action>] [--type <secret type>]

  start                                      run the server (as npm start does, after a build)
  migrate-storage --to <backend> [--from <backend>] [--delete-source]
                                             copy blobs between asset backends, verified

Types: jwt, dashboard_password, secret_key_base, api_auth_token. Secrets are read from
--secret-file or stdin, never from the command line. --generate (api_auth_token,
secret_key_base, dashboard_password) makes a random one and prints it once.
Options: --json prints the server's JSON answer. Environment: FOLIO_URL (default
http://127.0.0.1:5000), FOLIO_API_TOKEN (required).`

class UsageError extends Error {}

const OPTIONS = {
  'expires-at': { type: 'string' },
  'previous-expires-at': { type: 'string' },
  at: { type: 'string' },
  algorithm: { type: 'string' },
  'secret-file': { type: 'string' },
  generate: { type: 'boolean' },
  'issued-before': { type: 'string' },
  limit: { type: 'string' },
  action: { type: 'string' },
  type: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
}

function readStdin() {
  if (process.stdin.isTTY) throw new UsageError('pipe the value on stdin, or use --secret-file')
  return readFileSync(0, 'utf8').replace(/\r?\n$/, '')
}

function readSecret(type, opts) {
  if (opts.generate) {
    const bytes = { api_auth_token: 32, secret_key_base: 64, dashboard_password: 18 }[type]
    if (!bytes) throw new UsageError(`--generate does not apply to ${type}`)
    return { secret: randomBytes(bytes).toString('base64url'), generated: true }
  }
  if (opts['secret-file']) return { secret: readFileSync(opts['secret-file'], 'utf8').replace(/\r?\n$/, ''), generated: false }
  return { secret: readStdin(), generated: false }
}

async function call(method, path, body) {
  const base = (process.env.FOLIO_URL || 'http://127.0.0.1:5000').replace(/\/+$/, '')
  const token = process.env.FOLIO_API_TOKEN
  if (!token) throw new UsageError('set FOLIO_API_TOKEN to the server API token')
  let res
  try {
    res = await fetch(`${base}/api${path}`, {
      method,
      headers: { authorization: `Token token="${token}"`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    })
  } catch (e) {
    throw new Error(`cannot reach ${base}: ${e.cause?.code ?? e.message}`)
  }
  const text = await res.text()
  let json
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  if (!res.ok) {
    const err = json?.error
    throw new Error(err ? `${res.status} ${err.code}: ${err.message}` : `${res.status} ${text.slice(0, 200)}`)
  }
  return json
}

const enc = encodeURIComponent

function printSecrets(items) {
  for (const s of items) {
    const extra = s.algorithm ? `  ${s.algorithm}  ${s.fingerprint}` : ''
    console.log(`${s.id}\t${s.expiresAt === null ? 'current' : `expires ${s.expiresAt}`}${extra}`)
  }
}

function printRevocation(r) {
  const what = r.tokenSha256 ? `token sha256 ${r.tokenSha256}`
    : r.jti !== undefined ? `jti ${r.jti}`
    : r.document_id !== undefined ? `document_id ${r.document_id}` : `user_id ${r.user_id}`
  console.log(`${r.id}\t${what}${r.issuedBefore ? ` issued before ${r.issuedBefore}` : ''}\tuntil ${r.expiresAt}`)
}

async function secrets(args, opts) {
  const [sub, type, id] = args
  if (!type) throw new UsageError('give a secret type')
  switch (sub) {
    case 'list': {
      const items = await call('GET', `/secrets/${enc(type)}`)
      return opts.json ? console.log(JSON.stringify(items, null, 2)) : printSecrets(items)
    }
    case 'add':
    case 'rotate': {
      if (sub === 'add' && !opts['expires-at']) throw new UsageError('secrets add needs --expires-at')
      const { secret, generated } = readSecret(type, opts)
      const body = { secret, ...(opts.algorithm ? { algorithm: opts.algorithm } : {}) }
      if (sub === 'add') body.expiresAt = opts['expires-at']
      if (sub === 'rotate' && opts['previous-expires-at']) body.previousExpiresAt = opts['previous-expires-at']
      const res = await call('POST', `/secrets/${enc(type)}${sub === 'rotate' ? '/rotate' : ''}`, body)
      if (opts.json) console.log(JSON.stringify(res, null, 2))
      else {
        printSecrets([res.data])
        if (res.data.previous) console.log(`previous ${res.data.previous.id} valid until ${res.data.previous.expiresAt}`)
      }
      if (generated) console.error(`\nGenerated ${type} (shown only now; store it safely):\n\n  ${secret}\n`)
      return
    }
    case 'expire': {
      if (!id) throw new UsageError('give the id of the secret to expire')
      const res = await call('PATCH', `/secrets/${enc(type)}/${enc(id)}`, { expiresAt: opts.at ?? 'now' })
      return opts.json ? console.log(JSON.stringify(res, null, 2)) : printSecrets([res.data])
    }
    default:
      throw new UsageError(`unknown command: secrets ${sub ?? ''}`)
  }
}

async function revoke(args, opts) {
  const [sub, ...rest] = args
  const value = rest[0] === '-' ? readStdin() : rest[0]
  const one = async (body) => {
    const res = await call('POST', '/jwt/revocations', body)
    return opts.json ? console.log(JSON.stringify(res, null, 2)) : printRevocation(res.data)
  }
  const need = (what) => {
    if (!value) throw new UsageError(`revoke ${sub} needs ${what}`)
    return value
  }
  const before = opts['issued-before'] ? { issuedBefore: opts['issued-before'] } : {}
  switch (sub) {
    case 'token':
      return one({ token: need('a token (or - for stdin)') })
    case 'jti':
      return one({ jti: need('a jti') })
    case 'document':
      return one({ document_id: need('a document id'), ...before })
    case 'user':
      return one({ user_id: need('a user id'), ...before })
    case 'jwts': {
      const jwts = rest[0] === '-' ? value.split(/\s+/).filter(Boolean) : rest
      if (jwts.length === 0) throw new UsageError('revoke jwts needs tokens (or - for stdin)')
      const res = await call('POST', '/revoke', { jwts })
      if (opts.json) return console.log(JSON.stringify(res, null, 2))
      console.log(`revoked ${res.data.length} of ${jwts.length} (${res.result})`)
      for (const p of res.failingPaths ?? []) console.log(`  ${p.path}: ${p.details}`)
      return
    }
    case 'list': {
      const res = await call('GET', '/jwt/revocations')
      return opts.json ? console.log(JSON.stringify(res, null, 2)) : res.data.revocations.forEach(printRevocation)
    }
    case 'lift': {
      await call('DELETE', `/jwt/revocations/${enc(need('an id'))}`)
      return opts.json ? console.log('{"data":{}}') : console.log(`lifted ${value}`)
    }
    default:
      throw new UsageError(`unknown command: revoke ${sub ?? ''}`)
  }
}

async function audit(opts) {
  const q = new URLSearchParams()
  for (const k of ['limit', 'action', 'type']) if (opts[k]) q.set(k, opts[k])
  const res = await call('GET', `/audit?${q}`)
  if (opts.json) return console.log(JSON.stringify(res, null, 2))
  for (const e of res.data) {
    const by = e.actor.type === 'api_auth_token' ? `api_auth_token ${e.actor.id} (${e.actor.fingerprint})` : `${e.actor.type}${e.actor.id ? ` ${e.actor.id}` : ''}`
    console.log(`${e.at}  ${e.action}${e.type ? ` ${e.type}` : ''}${e.targetId !== null ? ` #${e.targetId}` : ''}${e.fingerprint ? ` ${e.fingerprint}` : ''}  by ${by}`)
  }
}

async function main() {
  // Commands that run Folio itself (not API calls) live in the server's entry point, which
  // reads the same argv: `folio start` and `folio migrate-storage …` (issue #9; needs a build).
  if (['start', 'migrate-storage'].includes(process.argv[2])) {
    if (process.argv[2] === 'start') process.argv.splice(2, 1)
    await import('../dist/src/main.js')
    return
  }
  let parsed
  try {
    parsed = parseArgs({ args: process.argv.slice(2), options: OPTIONS, allowPositionals: true })
  } catch (e) {
    throw new UsageError(e.message)
  }
  const { values: opts, positionals } = parsed
  const [command, ...args] = positionals
  if (opts.help || !command) return console.log(USAGE)
  switch (command) {
    case 'secrets':
      return secrets(args, opts)
    case 'revoke':
      return revoke(args, opts)
    case 'audit':
      return audit(opts)
    default:
      throw new UsageError(`unknown command: ${command}`)
  }
}

main().catch((e) => {
  if (e instanceof UsageError) {
    console.error(`folio: ${e.message}\n\n${USAGE}`)
    process.exit(2)
  }
  console.error(`folio: ${e.message}`)
  process.exit(1)
})
