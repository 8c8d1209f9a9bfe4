import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.ts';

/**
 * Corpus audit and drift monitoring (src/audit/, src/monitor/): audit runs with their findings
 * (what the loop excludes from selection or flags for review), drift monitors that run on every
 * new import, the result of every drift check, and alerts the UI shows until acknowledged.
 */
export function up004(dialect: Dialect) {
  const id = dialect === 'postgres' ? 'serial' : 'integer';
  const float = (dialect === 'postgres' ? 'double precision' : 'real') as 'real';
  return async (db: Kysely<any>) => {
    const table = (name: string) =>
      db.schema.createTable(name).addColumn('id', id as 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()));

    await table('audit_runs')
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('job_id', 'integer')
      .addColumn('params', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('summary', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('items', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_runs_project').on('audit_runs').columns(['project_id', 'id']).execute();

    await table('audit_findings')
      .addColumn('run_id', 'integer', (c) => c.notNull().references('audit_runs.id'))
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('item_id', 'integer', (c) => c.notNull().references('items.id'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('group_key', 'text')
      .addColumn('score', float)
      .addColumn('detail', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();
    await db.schema.createIndex('audit_findings_run').on('audit_findings').columns(['run_id', 'kind', 'item_id']).execute();
    await db.schema.createIndex('audit_findings_item').on('audit_findings').columns(['project_id', 'item_id']).execute();

    await table('drift_monitors')
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('reference_dataset_id', 'integer', (c) => c.notNull().references('datasets.id'))
      .addColumn('features', 'text', (c) => c.notNull())
      .addColumn('model_id', 'integer', (c) => c.references('models.id'))
      .addColumn('tests', 'text', (c) => c.notNull())
      .addColumn('alpha', float, (c) => c.notNull())
      .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();

    await table('drift_checks')
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('monitor_id', 'integer', (c) => c.references('drift_monitors.id'))
      .addColumn('reference_dataset_id', 'integer', (c) => c.notNull())
      .addColumn('import_source_id', 'integer', (c) => c.notNull())
      .addColumn('model_id', 'integer')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('drift', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('result', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('drift_checks_project').on('drift_checks').columns(['project_id', 'id']).execute();

    await table('alerts')
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('acknowledged_at', 'text')
      .addColumn('acknowledged_by', 'text')
      .execute();
    await db.schema.createIndex('alerts_open').on('alerts').columns(['project_id', 'acknowledged_at', 'id']).execute();
  };
}
