import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { parseJson } from '../../core/json.ts';
import { verifyStore, type VerifyReport } from '../../label/audit-verify.ts';
import { GOVERNED_TABLES } from '../../label/row-digest.ts';
import { auditKeyFromEnv, readAuditKeyFile } from '../../store/audit-key.ts';
import { getProject } from '../../store/projects.ts';
import { act, makeOut, parseIntOption, withStore } from '../context.ts';

/** Exit code of `audit-log verify` when tampering is found (the chain, or a table against it). */
export const EXIT_TAMPERED = 5;
/** Exit code when nothing tampered was found but part of the log could not be verified (keyed, no key). */
export const EXIT_UNVERIFIED = 6;

export function registerAuditLog(program: Command) {
  const audit = program.command('audit-log').description('the append-only, hash-chained audit log');
  audit
    .command('verify')
    .description('check the whole hash chain, then replay it against the labelling tables; names the first bad event or row (exit 5 if tampered, 6 if a keyed part could not be verified)')
    .option('--anchor <seq:hash>', 'a head recorded earlier (`audit-log head`): also catches events removed from the end')
    .option('--key-file <path>', 'the audit key (default: TESSERA_AUDIT_KEY or TESSERA_AUDIT_KEY_FILE), to verify a keyed chain')
    .option('--project <name>', "replay only this project's events against its rows (the chain is always checked whole)")
    .option('--no-state', 'check the chain only, without replaying it against the tables')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { anchor?: string; keyFile?: string; project?: string; state: boolean; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        let anchor: { seq: number; hash: string } | undefined;
        if (f.anchor !== undefined) {
          const m = /^(\d+):([0-9a-f]{64})$/.exec(f.anchor);
          if (!m) throw new UserError(`--anchor expects SEQ:HASH (as printed by \`tessera audit-log head\`), got "${f.anchor}"`);
          anchor = { seq: Number(m[1]), hash: m[2] };
        }
        const key = f.keyFile !== undefined ? readAuditKeyFile(f.keyFile) : auditKeyFromEnv();
        return withStore(async (store) => {
          const project = f.project === undefined ? undefined : (await getProject(store.db, f.project)).id;
          const r = await verifyStore(store, { anchor, key, project, state: f.state });
          out.result(r, () => verifyText(r));
          return r.firstBad ? EXIT_TAMPERED : r.ok ? 0 : EXIT_UNVERIFIED;
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

const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
const perTable = (c: Record<string, number>) =>
  GOVERNED_TABLES.filter((t) => c[t] > 0)
    .map((t) => `${t} ${c[t]}`)
    .join(', ');

/** The human report of `audit-log verify`. */
export function verifyText(r: VerifyReport): string {
  const lines: string[] = [];
  if (r.firstBad && r.firstBad.kind === 'state-mismatch') {
    lines.push(`audit log TAMPERED: ${r.firstBad.message}`);
    lines.push(`the chain itself is intact (${r.verified} of ${r.events} events verified); rows differing from it: ${perTable(r.state!.mismatched)}`);
  } else if (r.firstBad) {
    lines.push(`audit log TAMPERED at event ${r.firstBad.seq} (${r.firstBad.kind}): ${r.firstBad.message}`);
    lines.push(`${r.verified} of ${r.events} events verified before it`);
  } else {
    lines.push(`audit log chain intact: ${r.events} events${r.head ? `, head ${r.head.seq}:${r.head.hash}` : ''}`);
  }
  if (r.keyed) lines.push(r.keyed.verified ? `keyed (HMAC-SHA256, key ${r.keyed.keyId}) from event ${r.keyed.from} on: verified with the key` : `NOT VERIFIED: ${r.keyed.message}`);
  if (r.state && !r.firstBad) {
    const s = r.state;
    lines.push(`tables match the log: ${sum(s.checked)} rows compared in full${sum(s.checked) ? ` (${perTable(s.checked)})` : ''}`);
    if (sum(s.partial)) lines.push(`${sum(s.partial)} rows compared only on the columns their older events record (${perTable(s.partial)}): events written before row digests do not cover every column`);
    if (sum(s.unverifiable)) lines.push(`${sum(s.unverifiable)} rows could not be compared (${perTable(s.unverifiable)}): the older events that made them name no row`);
  }
  return lines.join('\n');
}
