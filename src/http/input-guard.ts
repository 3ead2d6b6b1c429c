/**
 * Every request's path parameters, query and parsed JSON body are checked before validation and
 * before any route runs: strings PostgreSQL cannot store (U+0000, unpaired surrogates), also as
 * object keys, are 400 `invalid_string`; JSON nested deeper than MAX_JSON_DEPTH is 400
 * `json_too_deep`. One check at the boundary covers every route and every field a client names,
 * including unknown content properties that are stored as they came.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { findValueProblem, MAX_JSON_DEPTH, type ValueProblem } from '../db/text.js'
import { FolioError } from '../errors.js'

export function refuseUnstorable(found: ValueProblem | undefined): void {
  if (found === undefined) return
  // The path names where, never echoes the value (it may be a token).
  if (found.problem === 'too_deep') {
    throw new FolioError('json_too_deep', { limit: MAX_JSON_DEPTH, field: found.path }, {
      message: `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels at ${found.path}`,
    })
  }
  throw new FolioError('invalid_string', { field: found.path }, {
    message: `${found.path} holds U+0000 or an unpaired surrogate`,
  })
}

export function checkRequestStrings(req: FastifyRequest): void {
  refuseUnstorable(findValueProblem(req.params, 'params'))
  refuseUnstorable(findValueProblem(req.query, 'querystring'))
  refuseUnstorable(findValueProblem(req.body, 'body'))
}

export function applyInputGuard(app: FastifyInstance): void {
  // A callback hook: it runs on every request, and an async hook costs a promise and a microtask.
  app.addHook('preValidation', (req, _reply, done) => {
    try {
      checkRequestStrings(req)
    } catch (e) {
      return done(e as Error)
    }
    done()
  })
}
