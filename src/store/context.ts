import type { Dialect, Store } from './db.ts';
import { appendAudit } from './audit.ts';
import type { Project } from './projects.ts';
import { writeTx, type Conn } from './tx.ts';

/** Who makes a change: an API user (`user:NAME`) or a CLI operator (`cli:…`). */
export interface Actor {
  /** As written to the audit log. */
  name: string;
  userId: number | null;
}

export const userActor = (u: { id: number; name: string }): Actor => ({ name: `user:${u.name}`, userId: u.id });
export const cliActor = (name: string): Actor => ({ name, userId: null });

/** One labelling change in progress: its transaction, project and actor. */
export interface TxCtx {
  /** The store the transaction runs on (for per-store caches; query with `conn` only). */
  store: Store;
  conn: Conn;
  dialect: Dialect;
  project: Project;
  actor: Actor;
}

/** Runs a change to one project in a write transaction (see tx.ts). */
export function change<T>(store: Store, project: Project, actor: Actor, fn: (ctx: TxCtx) => Promise<T>): Promise<T> {
  return writeTx(store, project.id, (conn) => fn({ store, conn, dialect: store.dialect, project, actor }));
}

/** Appends the audit event of the change `ctx` is making (same transaction). */
export function record(ctx: TxCtx, action: string, subject: string, payload: Record<string, unknown>): Promise<string> {
  return appendAudit(ctx.conn, ctx.dialect, { projectId: ctx.project.id, actor: ctx.actor.name, action, subject, payload });
}
