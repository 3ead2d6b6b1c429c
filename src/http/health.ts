/** /healthcheck (spec §8): unauthenticated, says only ok or not; no version, no configuration. */
import type { FastifyInstance } from 'fastify'
import { FolioError } from '../errors.js'
import { errors } from './reply.js'

export interface HealthDeps { checks: Array<() => Promise<void>> }

const CHECK_TIMEOUT_MS = 5000

export async function healthRoutes(app: FastifyInstance, deps: HealthDeps) {
  app.get('/healthcheck', {
    schema: {
      operationId: 'healthcheck',
      summary: 'Whether the database and the asset storage answer',
      tags: ['Health'],
      response: {
        200: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } },
        ...errors(503),
      },
    },
  }, async (req) => {
    try {
      await Promise.all(deps.checks.map((c) => withTimeout(c(), CHECK_TIMEOUT_MS)))
    } catch (e) {
      req.log.warn({ err: e }, 'health check failed')
      throw new FolioError('service_unavailable')
    }
    return { status: 'ok' }
  })
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error('health check timed out')), ms)
    }),
  ])
}
