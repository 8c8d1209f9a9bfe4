import type { Command } from 'commander';
import { storeConfigFromEnv, tesseraHome } from '../../core/config.ts';
import { bossSchema } from '../../jobs/boss.ts';
import { verifyAuditLog } from '../../label/audit-verify.ts';
import { backup, restore } from '../../store/backup.ts';
import { openStore, type Store } from '../../store/db.ts';
import { act, makeOut, withStore } from '../context.ts';
import { EXIT_TAMPERED } from './audit-log.ts';

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** pg-boss's schema for the configured store, without opening one. */
function bossSchemaFromEnv(): string | undefined {
  const config = storeConfigFromEnv();
  if (config.kind !== 'postgres') return undefined;
  return bossSchema({ connection: { url: config.location, schema: config.schema } } as Store);
}

/** `tessera backup` and `tessera restore` (src/store/backup.ts; docs/operations.md). */
export function registerBackup(program: Command) {
  program
    .command('backup')
    .description('write a consistent backup of the store and its model files to one .tar.gz (safe while serving)')
    .requiredOption('--out <file>', 'the archive to write (must not exist)')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { out: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const r = await backup(store, { out: f.out, home: tesseraHome(), bossSchema: store.dialect === 'postgres' ? bossSchema(store) : undefined });
          for (const w of r.warnings) out.log(`tessera: warning: ${w}`);
          out.result(r, () =>
            [
              `backup written: ${r.out} (${mb(r.bytes)}, ${r.seconds.toFixed(1)} s)`,
              `  ${r.kind} store, ${Object.keys(r.tables).length} tables, ${r.tables.items ?? 0} items, ${r.tables.annotations ?? 0} annotations`,
              `  audit head ${r.audit.head ? `${r.audit.head.seq}:${r.audit.head.hash}` : '(empty log)'}`,
              `  ${r.files} files (${r.models} registered models)`,
            ].join('\n'),
          );
        });
      }),
    );
  program
    .command('restore')
    .description('restore a backup into $TESSERA_HOME (and the configured PostgreSQL schema); refused if they hold a store')
    .argument('<file>', 'an archive written by `tessera backup`')
    .option('--force', 'replace the store (and model files) already there')
    .option('--json', 'print one JSON document')
    .action(
      act(async (file: string, f: { force?: boolean; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        const config = storeConfigFromEnv();
        const r = await restore(file, { config, home: tesseraHome(), force: Boolean(f.force), bossSchema: bossSchemaFromEnv() });
        // Opening the store applies any migration newer than the backup; then the whole chain is checked.
        const store = await openStore(config);
        try {
          const audit = await verifyAuditLog(store.db, { anchor: r.audit.head ?? undefined });
          const doc = { ...r, auditVerified: audit };
          out.result(doc, () =>
            [
              `restored ${r.restored} (taken ${r.backupCreatedAt}) into ${r.location}, home ${r.home} (${r.seconds.toFixed(1)} s)`,
              `  ${Object.keys(r.tables).length} tables, ${r.tables.items ?? 0} items, ${r.tables.annotations ?? 0} annotations; ${r.files} files, ${r.models} models`,
              audit.ok ? `  audit log intact: ${audit.events} events, head ${audit.head ? `${audit.head.seq}:${audit.head.hash}` : '(empty)'}` : `  audit log BROKEN at event ${audit.firstBad!.seq}: ${audit.firstBad!.message}`,
            ].join('\n'),
          );
          return audit.ok ? 0 : EXIT_TAMPERED;
        } finally {
          await store.close();
        }
      }),
    );
}
