/**
 * What a verified client JWT grants (spec §2): exactly one document, exactly the listed
 * permissions, the annotation layer it sees and writes, and the user it acts for.
 */

/** spec §2 `permissions`; any other value makes the whole token invalid (`unknown_permission`). */
export const PERMISSIONS = ['read-document', 'write', 'download', 'cover-image'] as const
export type Permission = (typeof PERMISSIONS)[number]

export interface Grant {
  readonly documentId: string
  readonly permissions: readonly Permission[]
  /** The annotation layer; `""` is the default layer (spec §3) and what a token without `layer` gets. */
  readonly layer: string
  /** `user_id`, recorded as createdBy/updatedBy on annotations (spec §2). */
  readonly userId?: string
  /** The JWT's `password` claim: opens an encrypted PDF. Never stored or logged. */
  readonly password?: string
}

export function isPermission(s: unknown): s is Permission {
  return typeof s === 'string' && (PERMISSIONS as readonly string[]).includes(s)
}

/** Whether the grant holds `permission`. Permissions do not imply each other (spec §7 table). */
export function can(grant: Grant, permission: Permission): boolean {
  return grant.permissions.includes(permission)
}
