/**
 * Request validation. Two Ajv instances, because the parts differ:
 *  - bodies (JSON) are validated strictly: no type coercion (`{"title": 5}` is a 400, not "5"),
 *    and unknown properties are errors where a schema says `additionalProperties: false`;
 *  - params, querystring and headers arrive as strings, so numbers and booleans are coerced.
 * Neither removes properties silently (fastify's default `removeAdditional: true` would).
 */
import { Ajv, type Options } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

function make(opts: Options): Ajv {
  const ajv = new Ajv({ allErrors: false, useDefaults: true, removeAdditional: false, strict: false, ...opts })
  addFormats(ajv)
  return ajv
}

const strict = make({ coerceTypes: false })
const coercing = make({ coerceTypes: 'array' })

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? strict : coercing).compile(schema)
