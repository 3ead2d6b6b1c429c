/** JSON schemas of the annotation routes (OpenAPI; responses are serialised through them). */
import { mediaResponse } from '../openapi.js'
import { dataSchema } from '../reply.js'

const nullableString = { type: ['string', 'null'] } as const

export const recordSchema = {
  type: 'object',
  required: ['id', 'content', 'createdBy', 'updatedBy', 'group', 'createdAt', 'updatedAt', 'version'],
  properties: {
    id: { type: 'string' },
    content: { type: 'object', additionalProperties: true, description: 'Instant JSON annotation (v2)' },
    createdBy: nullableString,
    updatedBy: nullableString,
    group: nullableString,
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    version: { type: 'integer', description: 'Folio: grows by one per update; send it back as If-Match or `version`' },
  },
} as const

export const listSchema = dataSchema({
  type: 'object',
  required: ['annotations', 'truncated'],
  properties: { annotations: { type: 'array', items: recordSchema }, truncated: { type: 'boolean' } },
})

/** The list as JSON (first 1000), or every record as NDJSON with `Accept: application/x-ndjson`. */
export const listResponse = mediaResponse('the annotations of the layer', {
  'application/json': listSchema,
  'application/x-ndjson': { type: 'string', description: 'one annotation record (as in `annotations`) per line' },
})

export const recordsSchema = dataSchema({ type: 'array', items: recordSchema })
export const recordResponse = dataSchema(recordSchema)
export const createdResponse = dataSchema({
  type: 'object',
  properties: { annotation_id: { type: 'string' }, ...recordSchema.properties },
})
export const deletedSchema = dataSchema({
  type: 'object',
  required: ['annotationIds'],
  properties: { annotationIds: { type: 'array', items: { type: 'string' } } },
})
export const emptySchema = dataSchema({ type: 'object', additionalProperties: false })

const item = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    content: { type: 'object', additionalProperties: true },
    user_id: nullableString,
    group: nullableString,
    version: { type: 'integer', description: 'Folio: the version this update is based on' },
  },
} as const

export const createBody = {
  description: 'One annotation (`content`, `id`?, `user_id`?, `group`?) or many (`{"annotations": [...]}`, at most 1000)',
  type: 'object',
  properties: { ...item.properties, annotations: { type: 'array', items: item } },
} as const

export const replaceManyBody = {
  type: 'object',
  required: ['annotations'],
  properties: { annotations: { type: 'array', items: { ...item, required: ['id', 'content'] } } },
} as const

export const replaceOneBody = { ...item, required: ['content'] } as const

export const deleteBody = {
  type: 'object',
  required: ['annotationIds'],
  properties: { annotationIds: { oneOf: [{ type: 'string', enum: ['all'] }, { type: 'array', items: { type: 'string' } }] } },
} as const

export const instantJsonSchema = {
  type: 'object',
  required: ['format'],
  properties: {
    format: { type: 'string', enum: ['https://pspdfkit.com/instant-json/v1'] },
    annotations: { type: 'array', items: { type: 'object', additionalProperties: true } },
    skippedPdfObjectIds: { type: 'array', items: { type: 'integer' } },
  },
  additionalProperties: true,
} as const
