/**
 * Roles and what they may do, per project. Deny by default: a permission lists the roles that
 * have it, and a user without a membership in the project has none.
 *
 * Blindness is part of the matrix: only annotators annotate, and annotators hold no permission
 * that reveals another person's label, a suggestion's source or a consensus. Anyone who can read
 * labels (reviewer, manager, admin, viewer) therefore never annotates in that project.
 */
export const ROLES = ['admin', 'manager', 'annotator', 'reviewer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

const ALL: readonly Role[] = ROLES;
const STAFF: readonly Role[] = ['admin', 'manager'];

export const PERMISSIONS = {
  /** Project summary, settings, taxonomy (labels and guidelines), items an annotator holds. */
  'project.read': ALL,
  'settings.write': STAFF,
  'members.read': STAFF,
  'members.write': ['admin'],
  'taxonomy.write': STAFF,
  /** Lease, submit, skip, release tasks; read one's own annotations. */
  'task.annotate': ['annotator'],
  /** Item list with status and source labels. */
  'items.read': ['admin', 'manager', 'reviewer', 'viewer'],
  /** Raw annotations, with who gave them. */
  'annotations.read': ['admin', 'manager', 'reviewer'],
  /** Final labels, consensus, agreement. */
  'results.read': ['admin', 'manager', 'reviewer', 'viewer'],
  'consensus.run': STAFF,
  'review.read': ['admin', 'manager', 'reviewer'],
  'review.decide': ['admin', 'manager', 'reviewer'],
  'gold.read': STAFF,
  'gold.write': STAFF,
  'suggestions.write': STAFF,
  'priorities.write': STAFF,
  export: STAFF,
  'audit.read': STAFF,
  'webhooks.manage': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function isRole(x: unknown): x is Role {
  return typeof x === 'string' && (ROLES as readonly string[]).includes(x);
}

export function can(role: Role | null | undefined, permission: Permission): boolean {
  return role != null && (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
