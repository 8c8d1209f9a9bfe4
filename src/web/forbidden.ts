import { PERMISSIONS, type Permission, type Role } from './roles.ts';

/**
 * Plain sentences for "you may not see this": which role the person has in the project, what
 * that role does, why the page is not for it, and whom it is for (from the server's role matrix).
 * Pure functions: the shell shows them instead of a raw `E_FORBIDDEN (items.read)`.
 */
export type GuardedPage = 'dashboard' | 'label' | 'review' | 'map' | 'admin';

export const PAGE_PERMISSION: Record<GuardedPage, Permission> = {
  dashboard: 'results.read',
  label: 'task.annotate',
  review: 'review.read',
  map: 'items.read',
  admin: 'members.read',
};

const PAGE_WHY: Record<GuardedPage, string> = {
  dashboard: "the dashboard shows other people's labels",
  label: "labelling must be blind and your role can read other people's labels",
  review: "the review queue shows other people's answers side by side",
  map: 'the map shows every item with its labels and suggestions',
  admin: "administration changes the project's taxonomy, members and settings",
};

/** What a permission lets one do, for the sentences about API refusals. */
const PERMISSION_WHAT: Partial<Record<Permission, string>> = {
  'project.read': 'reading the project',
  'settings.write': 'changing the labelling settings',
  'members.read': 'seeing the members',
  'members.write': 'changing who has which role',
  'taxonomy.write': 'writing the taxonomy',
  'task.annotate': 'labelling',
  'items.read': 'listing the items with their labels',
  'annotations.read': "reading other people's answers",
  'results.read': 'reading the results',
  'consensus.run': 'running consensus',
  'review.read': 'reading the review queue',
  'review.decide': 'deciding reviews',
  'gold.read': 'reading the gold items',
  'gold.write': 'changing the gold items',
  'suggestions.write': 'storing suggestions',
  'priorities.write': 'queueing items first',
  export: 'exporting labels',
  'audit.read': 'reading the audit log',
  'webhooks.manage': 'managing webhooks',
  'items.import': 'importing data',
};

const DOES: Record<Role, string> = {
  admin: 'run this project',
  manager: 'run the labelling here',
  annotator: 'label here',
  reviewer: 'review answers here',
  viewer: 'read the results here',
};

const PLURAL: Record<Role, string> = { admin: 'admins', manager: 'managers', annotator: 'annotators', reviewer: 'reviewers', viewer: 'viewers' };

/** "reviewers, managers and admins" */
export function whoMay(permission: Permission): string {
  const names = (PERMISSIONS[permission] as readonly Role[]).map((r) => PLURAL[r]);
  if (names.length === 0) return 'instance admins';
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** Why `role` does not see `page` in `project`, in one sentence. */
export function forbiddenSentence(project: string, role: Role, page: GuardedPage): string {
  return `Your role in project ${project} is ${role}: you can ${DOES[role]}, but ${PAGE_WHY[page]}, so it is for ${whoMay(PAGE_PERMISSION[page])}.`;
}

/**
 * The sentence for an API refusal (`role R may not do this (PERMISSION) in project "P"`), or
 * null when the message is not one.
 */
export function forbiddenFromApi(message: string): string | null {
  const m = /^role (\w+) may not do this \(([\w.]+)\) in project "(.*)"$/.exec(message);
  if (!m || !(m[1] in DOES) || !(m[2] in PERMISSIONS)) return null;
  const [, role, permission, project] = m as unknown as [string, Role, Permission, string];
  const what = PERMISSION_WHAT[permission] ?? permission;
  return `Your role in project ${project} is ${role}: you can ${DOES[role]}, but ${what} is for ${whoMay(permission)}.`;
}
