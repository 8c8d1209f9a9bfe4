/**
 * Roles and what they may do, per project. Deny by default: a permission lists the roles that
 * have it, and a user without a membership in the project has none.
 *
 * Blindness is part of the matrix: only annotators annotate, and annotators hold no permission
 * that reveals another person's label, a suggestion's source or a consensus. Anyone who can read
 * labels (reviewer, manager, admin, viewer) therefore never annotates blind in that project: an
 * admin or manager labels only where the project's `soloLabelling` setting is on, and such
 * answers are recorded as not blind. A user who held a label-reading role is never served blind
 * an item that existed meanwhile (src/label/eligibility.ts).
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
  /** Upload a file into the project (the web UI's import). */
  'items.import': STAFF,
  /**
   * Create projects and users, issue users' tokens: no project role grants it. Instance admins
   * hold it (a user flag, `tessera users add NAME --admin`), checked in src/server/auth.ts.
   */
  'instance.admin': [],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function isRole(x: unknown): x is Role {
  return typeof x === 'string' && (ROLES as readonly string[]).includes(x);
}

export function can(role: Role | null | undefined, permission: Permission): boolean {
  return role != null && (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

/** What shows a label, an annotation, a suggestion's source, a consensus or a review. */
const LABEL_READING: readonly Permission[] = ['items.read', 'annotations.read', 'results.read', 'review.read', 'gold.read', 'export', 'audit.read'];

/** Whether the role sees labels in its project (so it cannot annotate blind there). */
export function readsLabels(role: Role): boolean {
  return LABEL_READING.some((p) => can(role, p));
}

/** Roles that may label, not blind, in a project whose `soloLabelling` setting is on. */
export const SOLO_ROLES: readonly Role[] = ['admin', 'manager'];

/**
 * `can`, with the project's solo-labelling setting: an admin or manager also holds
 * `task.annotate` there (the routes behind it record their answers as not blind).
 */
export function canIn(role: Role | null | undefined, permission: Permission, settings: { soloLabelling: boolean }): boolean {
  return can(role, permission) || (permission === 'task.annotate' && settings.soloLabelling && role != null && SOLO_ROLES.includes(role));
}
