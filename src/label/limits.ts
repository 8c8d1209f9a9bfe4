/**
 * Live leases one annotator may hold at once through the preloading route (POST …/tasks/ahead):
 * the server refuses more, and the labelling view (src/web/label-session.ts) stops asking at it.
 */
export const MAX_HELD = 3;
