import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { MODALITIES, type Modality } from '../../core/modality.ts';
import { getItem, listItems, type ItemRow } from '../../store/items.ts';
import { getProject } from '../../store/projects.ts';
import { act, makeOut, parseIntOption, withStore } from '../context.ts';

export function registerItems(program: Command) {
  const items = program.command('items').description('list and show items');
  items
    .command('list')
    .requiredOption('--project <name>')
    .option('--after <id>', 'keyset pagination: items after this id', parseIntOption('--after'))
    .option('--limit <n>', 'page size (default 20, at most 10000)', parseIntOption('--limit'))
    .option('--modality <m>', MODALITIES.join('|'))
    .option('--label <label>', 'only items with this source label')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project: string; after?: number; limit?: number; modality?: string; label?: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        if (f.modality && !(MODALITIES as readonly string[]).includes(f.modality)) throw new UserError(`--modality expects ${MODALITIES.join('|')}, got "${f.modality}"`);
        const limit = Math.min(f.limit ?? 20, 10000);
        return withStore(async (store) => {
          const p = await getProject(store.db, f.project);
          const rows = await listItems(store.db, p.id, { after: f.after, limit, modality: f.modality as Modality | undefined, sourceLabel: f.label });
          const next = rows.length === limit ? rows[rows.length - 1].id : null;
          out.result({ items: rows, next }, () => rows.map(summary).join('\n') + (next ? `\n(more: --after ${next})` : ''));
        });
      }),
    );
  items
    .command('show')
    .argument('<id>', 'item id', parseIntOption('item id'))
    .requiredOption('--project <name>')
    .option('--json', 'print one JSON document')
    .action(
      act(async (id: number, f: { project: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const item = await getItem(store.db, (await getProject(store.db, f.project)).id, id);
          out.result(item, () => JSON.stringify(item, null, 2));
        });
      }),
    );
}

function summary(i: ItemRow): string {
  const body = i.text !== null ? JSON.stringify(i.text.slice(0, 70)) : i.values ? JSON.stringify(i.values).slice(0, 70) : `${i.blob?.mime} ${i.blob?.size} bytes`;
  return `${i.id}\t${i.modality}\t${i.sourceLabel ?? '-'}\t${i.locator}\t${body}`;
}
