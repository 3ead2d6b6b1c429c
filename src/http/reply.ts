/** Response helpers shared by the surfaces: the `{"data": ...}` envelope and schema pieces. */
export function data<T>(payload: T): { data: T } {
  return { data: payload }
}

/** JSON schema of the error envelope, for the OpenAPI document. */
export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      additionalProperties: true,
    },
  },
} as const

/** Standard error responses for a route's schema (statuses it can answer with). */
export function errors(...statuses: number[]): Record<number, typeof errorSchema> {
  return Object.fromEntries(statuses.map((s) => [s, errorSchema]))
}

/** Wraps a payload schema in the data envelope. */
export function dataSchema(inner: object): object {
  return { type: 'object', required: ['data'], properties: { data: inner } }
}
