import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { parseJson } from '../../core/json.ts';
import { verifyAuditLog } from '../../label/audit-verify.ts';
import { getProject } from '../../store/projects.ts';
import { act, makeOut, parseIntOption, withStore } from '../context.ts';

/** Exit code of `audit-log verify` when the chain is broken. */
export const EXIT_TAMPERED = 5;

export function registerAuditLog(program: Command) {
  const audit = program.command('audit-log').description('the append-only, hash-chained audit log');
  audit
    .command('verify')
    .description('check the whole hash chain; names the first bad event (exit 5 if tampered)')
    .option('--anchor <seq:hash>', 'a head recorded earlier (`audit-log head`): also catches events removed from the end')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { anchor?: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        let anchor: { seq: number; hash: string } | undefined;
        if (f.anchor !== undefined) {
          const m = /^(\d+):([0-9a-f]{64})$/.exec(f.anchor);
          if (!m) throw new UserError(`--anchor expects SEQ:HASH (as printed by \`tessera audit-log head\`), got "${f.anchor}"`);
          anchor = { seq: Number(m[1]), hash: m[2] };
        }
        return withStore(async (store) => {
          const r = await verifyAuditLog(store.db, { anchor });
          out.result(r, () =>
            r.ok
              ? `audit log intact: ${r.events} events${r.head ? `, head ${r.head.seq}:${r.head.hash}` : ''}`
              : `audit log TAMPERED at event ${r.firstBad!.seq} (${r.firstBad!.kind}): ${r.firstBad!.message}\n${r.verified} of ${r.events} events verified before it`,
          );
          return r.ok ? 0 : EXIT_TAMPERED;
        });
      }),
    );
  audit
    .command('head')
    .description('the last event (seq:hash): keep it elsewhere and pass it to `verify --anchor` later')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const r = await store.db.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
          out.result(r ? { seq: r.seq, hash: r.hash, anchor: `${r.seq}:${r.hash}` } : { seq: null, hash: null, anchor: null }, () => (r ? `${r.seq}:${r.hash}` : 'the audit log is empty'));
        });
      }),
    );
  audit
    .command('list')
    .description('events, oldest first')
    .option('--project <name>')
    .option('--after <seq>', 'events after this sequence number', parseIntOption('--after'))
    .option('--limit <n>', 'how many (default 100)', parseIntOption('--limit'))
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project?: string; after?: number; limit?: number; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          let q = store.db.selectFrom('audit_events').selectAll().where('seq', '>', f.after ?? 0).orderBy('seq').limit(Math.min(f.limit ?? 100, 10000));
          if (f.project) q = q.where('project_id', '=', (await getProject(store.db, f.project)).id);
          const events = (await q.execute()).map((e) => ({ seq: e.seq, projectId: e.project_id, at: e.at, actor: e.actor, action: e.action, subject: e.subject, payload: parseJson(e.payload, {}), hash: e.hash }));
          out.result({ events }, () => events.map((e) => `${e.seq}\t${e.at}\t${e.actor}\t${e.action}\t${e.subject}`).join('\n') || 'no events');
        });
      }),
    );
}
