/**
 * Environment seeding at start (seed 001, spec §4):
 *  - REPLACE_SECRETS_FROM_ENV=true (default): a value in JWT_PUBLIC_KEY (+JWT_ALGORITHM),
 *    SECRET_KEY_BASE, DASHBOARD_PASSWORD or API_AUTH_TOKEN replaces the stored current secret of
 *    its type at every start (unless it is already the current one). The replaced one stops being
 *    valid at once: the operator changed the variable on purpose.
 *  - REPLACE_SECRETS_FROM_ENV=false: a value only fills a type that has no current secret yet;
 *    what the API set survives restarts.
 * Either way, api_auth_token and secret_key_base are generated once when neither the environment
 * nor the database has one (spec §1); the generated API token is returned to be printed once.
 * Env values obey the same rules as the API; a bad one stops the start naming its variable.
 */
import { randomBytes } from 'node:crypto'
import { recordAudit, type AuditInput } from '../audit/service.js'
import type { JwtAlgorithm } from '../auth/jwt-key.js'
import { ConfigError } from '../config.js'
import type { Queryable } from '../db/db.js'
import { FolioError } from '../errors.js'
import { sha256Hex } from '../tools/digest.js'
import { prepareSecret } from './material.js'
import { verifyPassword } from './password.js'
import { findCurrent, findRecentlyExpired, replaceCurrent, type NewSecret, type SecretRow, type SecretType } from './store.js'

export interface SeedEnv {
  jwtPublicKey?: string
  jwtAlgorithm: JwtAlgorithm
  secretKeyBase?: string
  dashboardPassword?: string
  apiAuthToken?: string
}

const VARIABLE: Record<SecretType, string> = {
  jwt: 'JWT_PUBLIC_KEY',
  secret_key_base: 'SECRET_KEY_BASE',
  dashboard_password: 'DASHBOARD_PASSWORD',
  api_auth_token: 'API_AUTH_TOKEN',
}

async function prepareFromEnv(type: SecretType, value: string, algorithm: JwtAlgorithm): Promise<NewSecret> {
  try {
    if (type !== 'jwt') return await prepareSecret(type, value, { rsaDefault: algorithm })
    try {
      return await prepareSecret(type, value, { algorithm, rsaDefault: algorithm })
    } catch (e) {
      // JWT_ALGORITHM defaults to RS256; with a non-RSA key and the default, derive instead.
      if (e instanceof FolioError && e.code === 'algorithm_key_mismatch' && algorithm === 'RS256') {
        return await prepareSecret(type, value, { rsaDefault: algorithm })
      }
      throw e
    }
  } catch (e) {
    if (e instanceof FolioError) {
      const variable = type === 'jwt' && e.code.startsWith('algorithm') ? 'JWT_ALGORITHM' : VARIABLE[type]
      throw new ConfigError([`${variable}: ${e.message}`])
    }
    throw e
  }
}

/** Expired secrets compared with an env value (each dashboard password costs one scrypt). */
const REVIVAL_CHECK_ROWS = 5

async function isCurrentValue(type: SecretType, current: SecretRow, value: string, prepared: () => Promise<NewSecret>): Promise<boolean> {
  switch (type) {
    case 'api_auth_token':
      return current.material === sha256Hex(value)
    case 'secret_key_base':
      return current.material === value
    case 'dashboard_password':
      return verifyPassword(value, current.material)
    case 'jwt': {
      const p = await prepared() // the normalised PEM: PKCS#1 and SPKI forms of one key compare equal
      return current.material === p.material && current.algorithm === p.algorithm
    }
  }
}

/**
 * Runs in the caller's transaction, which holds the secrets lock. Returns the audit entries
 * written (empty when nothing changed) and the generated API token, if one was generated.
 */
export async function seedSecrets(
  tx: Queryable,
  env: SeedEnv,
  replace: boolean,
  now: Date,
): Promise<{ changes: AuditInput[]; generatedApiToken?: string; revived: Array<{ type: SecretType; variable: string; expiredId: number }> }> {
  const values: Record<SecretType, string | undefined> = {
    jwt: env.jwtPublicKey,
    secret_key_base: env.secretKeyBase,
    dashboard_password: env.dashboardPassword,
    api_auth_token: env.apiAuthToken,
  }
  const changes: AuditInput[] = []
  // Env values that were stored before and expired through the API (e.g. cut after a leak):
  // the start makes them valid again, which the operator must hear about.
  const revived: Array<{ type: SecretType; variable: string; expiredId: number }> = []
  let generatedApiToken: string | undefined
  for (const type of Object.keys(values) as SecretType[]) {
    const current = await findCurrent(tx, type)
    let value = values[type]
    let action: AuditInput['action'] = 'secret.seed'
    if (value === undefined) {
      if (current || (type !== 'api_auth_token' && type !== 'secret_key_base')) continue
      value = randomBytes(type === 'api_auth_token' ? 32 : 64).toString('base64url')
      if (type === 'api_auth_token') generatedApiToken = value
      action = 'secret.generate'
    } else if (current && !replace) {
      continue
    }
    let prepared: NewSecret | undefined
    const prepare = async () => (prepared ??= await prepareFromEnv(type, value!, env.jwtAlgorithm))
    if (current && (await isCurrentValue(type, current, value, prepare))) continue
    if (action === 'secret.seed') {
      for (const old of await findRecentlyExpired(tx, type, now, REVIVAL_CHECK_ROWS)) {
        if (await isCurrentValue(type, old, value, prepare)) {
          revived.push({ type, variable: VARIABLE[type], expiredId: Number(old.id) })
          break
        }
      }
    }
    const row = await prepare()
    const { current: created, previous } = await replaceCurrent(tx, row, now, now)
    changes.push({
      action,
      secretType: type,
      targetId: Number(created.id),
      fingerprint: created.fingerprint,
      actor: action === 'secret.generate' ? { type: 'system' } : { type: 'env', variable: VARIABLE[type] },
      details: previous ? { previousId: Number(previous.id), previousExpiresAt: now.toISOString() } : {},
    })
  }
  await recordAudit(tx, now, changes)
  return { changes, generatedApiToken, revived }
}
