import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.ts';

/**
 * Blindness across role changes, held-out items, solo labelling:
 * - `role_periods`: each role a user held in a project, from when until when (null: still held).
 *   Assignment never serves a user blind an item that existed while they held a role that reads
 *   labels (src/label/eligibility.ts). Filled here from the current memberships and from the
 *   audit log's `member.set` / `member.remove` events, so a demotion made before this migration
 *   still counts; a period that began before the audit log knew of it has `from_at` null.
 * - `datasets.held_out`: 'test' (never served, queued, labelled in bulk, made gold or trained on)
 *   or 'evaluation' (served to annotators, never trained on); the loop's `loop-test` splits
 *   become 'test'. `dataset_items_item`: the held-out check looks items up by id;
 *   `items_project_created`: where a demoted annotator's servable items begin.
 * - `annotations.blind`: 0 for an answer given without blindness (solo labelling by an admin or
 *   manager); every earlier answer came from an annotator, blind.
 */
export function up010(dialect: Dialect) {
  const id = dialect === 'postgres' ? 'serial' : 'integer';
  return async (db: Kysely<any>) => {
    await db.schema
      .createTable('role_periods')
      .addColumn('id', id as 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('from_at', 'text')
      .addColumn('to_at', 'text')
      .execute();
    await db.schema.createIndex('role_periods_user').on('role_periods').columns(['project_id', 'user_id']).execute();
    await db.schema.alterTable('datasets').addColumn('held_out', 'text').execute();
    await db.schema.createIndex('dataset_items_item').on('dataset_items').column('item_id').execute();
    await db.schema.createIndex('items_project_created').on('items').columns(['project_id', 'created_at']).execute();
    await db.schema.alterTable('annotations').addColumn('blind', 'integer', (c) => c.notNull().defaultTo(1)).execute();

    await db.updateTable('datasets').set({ held_out: 'test' }).where('kind', '=', 'split').where('name', '=', 'loop-test').execute();

    // Periods the audit log recorded, replayed in order per (project, user); then the current ones.
    const events = (await db.selectFrom('audit_events').select(['project_id', 'at', 'action', 'subject', 'payload']).where('action', 'in', ['member.set', 'member.remove']).orderBy('seq').execute()) as Array<{
      project_id: number | null;
      at: string;
      action: string;
      subject: string;
      payload: string;
    }>;
    const open = new Map<string, { project_id: number; user_id: number; role: string; from_at: string | null }>();
    const rows: Array<{ project_id: number; user_id: number; role: string; from_at: string | null; to_at: string | null }> = [];
    for (const e of events) {
      const m = /^user:(\d+)$/.exec(e.subject);
      if (e.project_id === null || !m) continue;
      let p: { role?: unknown; previous?: unknown };
      try {
        p = JSON.parse(e.payload) as typeof p;
      } catch {
        continue;
      }
      const userId = Number(m[1]);
      const key = `${e.project_id}/${userId}`;
      const was = open.get(key) ?? (typeof p.previous === 'string' ? { project_id: e.project_id, user_id: userId, role: p.previous, from_at: null } : undefined);
      if (was && (e.action === 'member.remove' || was.role !== p.role)) {
        rows.push({ ...was, to_at: e.at });
        open.delete(key);
      }
      if (e.action === 'member.set' && typeof p.role === 'string' && (!was || was.role !== p.role)) open.set(key, { project_id: e.project_id, user_id: userId, role: p.role, from_at: e.at });
    }
    const members = (await db.selectFrom('memberships').select(['project_id', 'user_id', 'role']).execute()) as Array<{ project_id: number; user_id: number; role: string }>;
    for (const m of members) {
      const key = `${m.project_id}/${m.user_id}`;
      const o = open.get(key);
      rows.push({ project_id: m.project_id, user_id: m.user_id, role: m.role, from_at: o && o.role === m.role ? o.from_at : null, to_at: null });
      if (o && o.role === m.role) open.delete(key);
    }
    // A role the log shows as held but the membership no longer has: ended some time before now.
    const now = new Date().toISOString();
    for (const o of open.values()) rows.push({ ...o, to_at: now });
    for (let i = 0; i < rows.length; i += 500) await db.insertInto('role_periods').values(rows.slice(i, i + 500)).execute();
  };
}
