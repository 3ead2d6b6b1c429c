/**
 * The one error catalog (HOUSE-STYLE §3). Services and stores throw `FolioError(code)`; only
 * `http/error-handler.ts` turns one into a response, using the status and message below.
 * Every code here is documented in docs/errors.md (a test walks this table and the doc).
 */
export const ERRORS = {
  // 400: the request itself is malformed
  bad_request: { status: 400, message: 'The request is malformed' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON' },
  invalid_document_id: { status: 400, message: 'A document id must match ^[A-Za-z0-9_-]{1,128}$' },
  invalid_cursor: { status: 400, message: 'The cursor is not one this server issued' },
  missing_filter: { status: 400, message: 'Bulk delete needs at least one filter' },
  empty_body: { status: 400, message: 'The request body is empty' },
  image_too_large: { status: 400, message: 'The requested image has more pixels than RENDER_MAX_PIXELS allows' },
  invalid_string: { status: 400, message: 'A string holds U+0000 or an unpaired surrogate' },
  json_too_deep: { status: 400, message: 'The JSON body nests deeper than 64 levels' },
  duplicate_header: { status: 400, message: 'A header that must appear once appears more than once' },
  invalid_value: { status: 400, message: 'A value is out of range or of the wrong form for the database' },
  // 401 / 403: credentials
  unauthorized: { status: 401, message: 'Missing or invalid API token' },
  invalid_token: { status: 401, message: 'The token was refused' },
  forbidden: { status: 403, message: 'The credential does not grant this' },
  invalid_csrf_token: { status: 403, message: 'Missing or wrong CSRF token; reload the dashboard' },
  origin_not_allowed: { status: 403, message: 'This Origin is not in ALLOWED_ORIGINS' },
  pdf_password_required: { status: 403, message: 'The PDF is encrypted: send its password (pspdfkit-pdf-password header, or the JWT password claim)' },
  pdf_password_incorrect: { status: 403, message: 'The password does not open this PDF' },
  remote_documents_disabled: {
    status: 403,
    message: 'Creating documents from a URL is disabled (ALLOW_REMOTE_DOCUMENTS=false)',
  },
  // 404 / 405 / 409
  not_found: { status: 404, message: 'No such route' },
  document_not_found: { status: 404, message: 'No such document' },
  page_not_found: { status: 404, message: 'The document has no page with this index' },
  method_not_allowed: { status: 405, message: 'Method not allowed on this route' },
  document_exists: {
    status: 409,
    message: 'A document with this id exists; pass overwrite_existing_document=true to replace it',
  },
  // 413 / 415 / 422
  payload_too_large: { status: 413, message: 'The upload exceeds the limit' },
  unsupported_media_type: { status: 415, message: 'Unsupported Content-Type' },
  range_not_satisfiable: { status: 416, message: 'The requested range is not satisfiable' },
  invalid_pdf: { status: 422, message: 'The file is not a PDF that can be read' },
  // Remote documents (spec §6): refusals and failures of a fetch, never Folio's own 404
  remote_fetch_refused: { status: 422, message: 'The URL may not be fetched (REMOTE_URL_FETCH_POLICY)' },
  remote_http_error: { status: 422, message: 'The remote server refused the document (4xx)' },
  remote_not_pdf: { status: 422, message: 'The remote response is not a PDF' },
  remote_too_large: { status: 422, message: 'The remote document exceeds MAX_UPLOAD_SIZE_BYTES' },
  hash_mismatch: { status: 422, message: 'The fetched document does not have the given sha256' },
  remote_fetch_failed: { status: 502, message: 'The remote document could not be fetched' },
  remote_fetch_timeout: { status: 502, message: 'The remote fetch took longer than REMOTE_URL_FETCH_TIMEOUT' },
  render_failed: { status: 422, message: 'The page could not be rendered' },
  pdf_too_complex: { status: 422, message: 'Reading the PDF exceeded a limit' },
  // annotations and layers
  invalid_xfdf: { status: 422, message: 'The XFDF could not be read' },
  invalid_search_query: { status: 400, message: 'The search query is not valid for its type' },
  search_timeout: { status: 422, message: 'The search ran past SEARCH_TIMEOUT_MS and was stopped' },
  // annotations and layers (issue #5)
  invalid_layer_name: { status: 400, message: 'A layer name has at most 256 characters and no "*"' },
  invalid_event_id: { status: 400, message: 'Last-Event-ID must be an event id this stream sent' },
  annotation_not_found: { status: 404, message: 'No such annotation' },
  layer_not_found: { status: 404, message: 'No such layer' },
  bookmark_not_found: { status: 404, message: 'No such bookmark' },
  attachment_not_found: { status: 404, message: 'No such attachment in this document' },
  bookmark_exists: { status: 409, message: 'A bookmark with this id exists in this layer' },
  invalid_bookmark: { status: 400, message: 'The bookmark is not a valid Instant JSON bookmark' },
  too_many_bookmarks: { status: 422, message: 'The layer has the most bookmarks it may have' },
  annotation_exists: { status: 409, message: 'An annotation with this id exists in this layer' },
  annotation_version_conflict: {
    status: 409,
    message: 'The annotation changed since the version this update is based on',
  },
  layer_exists: { status: 409, message: 'A layer with this name exists' },
  invalid_annotation: { status: 422, message: 'The annotation is not valid Instant JSON' },
  too_many_annotations: { status: 422, message: 'Too many annotations in one request' },
  invalid_instant_json: { status: 422, message: 'The body is not an Instant JSON document' },
  pdf_encrypted: {
    status: 422,
    message: 'Annotations cannot be written into an encrypted PDF; download the original with ?source=true',
  },
  // Document editing and the Build API (docs/build.md)
  invalid_instructions: { status: 400, message: 'The build instructions or document operations are not valid' },
  build_limit_exceeded: { status: 413, message: 'The build exceeds a limit (parts, pages or output size)' },
  unsupported_instruction: { status: 422, message: 'This part, action or output is not supported by Folio' },
  build_failed: { status: 422, message: 'The document could not be built from these instructions' },
  build_queue_full: { status: 429, message: 'Too many builds are waiting; retry shortly' },
  version_not_found: { status: 404, message: 'The document has no such version' },
  edit_conflict: { status: 409, message: 'The document changed while the edit was being built; retry it' },
  // 429 / 5xx
  too_many_requests: { status: 429, message: 'Too many requests' },
  too_many_streams: { status: 429, message: 'Too many open event streams; close one first' },
  render_queue_full: { status: 429, message: 'Too many pages are waiting to be rendered; retry shortly' },
  pdf_queue_full: { status: 429, message: 'Too many PDFs are waiting to be read; retry shortly' },
  search_queue_full: { status: 429, message: 'Too many searches are waiting; retry shortly' },
  request_timeout: { status: 408, message: 'The request took too long' },
  internal_error: { status: 500, message: 'Internal error' },
  service_unavailable: { status: 503, message: 'The service is not ready' },
  // Secrets and revocations (spec §4, §5)
  unknown_secret_type: { status: 404, message: 'Unknown secret type' },
  secret_not_found: { status: 404, message: 'No such valid secret of this type' },
  revocation_not_found: { status: 404, message: 'No such active revocation' },
  invalid_expires_at: { status: 400, message: 'The expiry is missing, malformed or in the past' },
  too_many_secrets: { status: 409, message: 'This type has SECRETS_MAX_VALID_PER_TYPE valid secrets; expire one first' },
  cannot_expire_current: { status: 400, message: 'The current secret never expires; rotate it instead' },
  invalid_revocation: { status: 400, message: 'The revocation request is not valid' },
  secret_too_short: { status: 422, message: 'The secret is too short' },
  common_password: { status: 422, message: 'This password is one of the most common passwords' },
  secret_invalid_characters: { status: 422, message: 'The secret contains characters it cannot have' },
  invalid_jwt_key: { status: 422, message: 'The secret is not a PEM public key of an allowed kind' },
  algorithm_not_allowed: { status: 422, message: 'The algorithm is not allowed' },
  algorithm_key_mismatch: { status: 422, message: 'The algorithm does not fit the key' },
  malformed_jwt: { status: 422, message: 'The token is not a compact JWT with a JSON payload' },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof ERRORS

/**
 * A refusal or failure with a stable code. `details` are public, structured facts that go into
 * the response body next to code and message (e.g. `{ limit: 104857600 }`); `cause` is internal
 * and goes to the log only.
 */
export class FolioError extends Error {
  readonly code: ErrorCode
  readonly details: Record<string, unknown>

  constructor(
    code: ErrorCode,
    details: Record<string, unknown> = {},
    options: { cause?: unknown; message?: string } = {},
  ) {
    super(options.message ?? ERRORS[code].message, { cause: options.cause })
    this.name = 'FolioError'
    this.code = code
    this.details = details
  }

  get status(): number {
    return ERRORS[this.code].status
  }
}
