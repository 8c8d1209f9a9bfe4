import { parseJson } from '../core/json.ts';
import type { Modality } from '../core/modality.ts';
import type { Store } from '../store/db.ts';
import { inspectItem } from './content.ts';
import { shingleHashes } from './minhash.ts';
import { dHash, MIN_HASH_SIDE, pHash, type Hash64 } from './phash.ts';
import { PiiCounter, scanItem } from '../ingest/pii-fields.ts';
import type { AuditOptions, AuditReport, Finding } from './report.ts';

/**
 * The audit's one pass over every item of a project, a page at a time: content checks, hashes,
 * text shingles, sizes and PII. Rows are numbered in item order; every later check works on these
 * arrays, so the items are read once.
 */
export interface ItemScan {
  ids: number[];
  modality: Modality[];
  sha: string[];
  /** Source label per row. */
  label: Array<string | null>;
  size: Array<number | null>;
  /** `modality:sha256` → rows with that content. */
  groups: Map<string, number[]>;
  /** Representative row → shingles (text, once per distinct content). */
  textShingles: Map<number, Uint32Array>;
  imageHashes: Map<number, Hash64>;
  findings: Finding[];
  problems: AuditReport['problems'];
  pii: PiiCounter;
  byModality: AuditReport['byModality'];
  /** Rows that are empty, unreadable or truncated. */
  unusable: Set<number>;
  /** Distinct images too small for a perceptual hash. */
  smallImages: number;
}

const PAGE = 2000;

export async function scanItems(
  store: Store,
  projectId: number,
  opts: Pick<AuditOptions, 'imageHash'>,
  nEx: number,
  progress: (fraction: number | null, message: string) => void,
): Promise<ItemScan> {
  const count = store.db.selectFrom('items').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', projectId);
  const total = Number((await count.executeTakeFirstOrThrow()).n);
  const s: ItemScan = {
    ids: [],
    modality: [],
    sha: [],
    label: [],
    size: [],
    groups: new Map(),
    textShingles: new Map(),
    imageHashes: new Map(),
    findings: [],
    problems: { empty: 0, unreadable: 0, truncated: 0, hash_mismatch: 0, examples: [] },
    pii: new PiiCounter(),
    byModality: {},
    unusable: new Set(),
    smallImages: 0,
  };
  const { ids, problems, findings, unusable } = s;
  const hashFn = opts.imageHash === 'dhash' ? dHash : pHash;

  for (let after = 0; ; ) {
    const rows = await store.db
      .selectFrom('items')
      .leftJoin('blobs', 'blobs.sha256', 'items.blob_sha256')
      .select(['items.id', 'items.modality', 'items.sha256', 'items.text', 'items.data', 'blobs.bytes', 'blobs.mime', 'items.meta', 'items.source_label'])
      .where('items.project_id', '=', projectId)
      .where('items.id', '>', after)
      .orderBy('items.id')
      .limit(PAGE)
      .execute();
    for (const r of rows) {
      const row = ids.length;
      const meta = parseJson<Record<string, unknown>>(r.meta, {});
      const bytes = r.bytes ? (r.bytes instanceof Uint8Array ? r.bytes : new Uint8Array(r.bytes as ArrayBuffer)) : null;
      ids.push(r.id);
      s.modality.push(r.modality);
      s.sha.push(r.sha256);
      s.label.push(r.source_label);
      s.byModality[r.modality] = (s.byModality[r.modality] ?? 0) + 1;
      const facts = await inspectItem({ id: r.id, modality: r.modality, sha256: r.sha256, text: r.text, data: r.data, bytes, mime: r.mime, meta });
      s.size.push(facts.size);
      for (const p of facts.problems) {
        problems[p.kind]++;
        if (p.kind !== 'hash_mismatch') unusable.add(row);
        if (problems.examples.length < nEx) problems.examples.push({ itemId: r.id, kind: p.kind, message: p.message });
        findings.push({ itemId: r.id, kind: p.kind, action: 'exclude', groupKey: null, score: null, detail: { message: p.message } });
      }
      const key = `${r.modality}:${r.sha256}`;
      const g = s.groups.get(key);
      if (g) g.push(row);
      else {
        s.groups.set(key, [row]);
        // Near-duplicate material is computed once per distinct content.
        if (r.modality === 'text' && !unusable.has(row)) s.textShingles.set(row, shingleHashes(r.text ?? ''));
        if (facts.gray && !unusable.has(row)) {
          if (facts.gray.width >= MIN_HASH_SIDE && facts.gray.height >= MIN_HASH_SIDE) s.imageHashes.set(row, hashFn(facts.gray));
          else s.smallImages++;
        }
      }
      if (r.modality === 'text' || r.modality === 'tabular') {
        const found = scanItem({ text: r.text, values: (facts.values as Record<string, unknown> | null | undefined) ?? null, meta });
        s.pii.add(found);
        if (Object.keys(found).length) findings.push({ itemId: r.id, kind: 'pii', action: 'info', groupKey: null, score: null, detail: { fields: found } });
      }
    }
    progress(total ? (0.5 * ids.length) / total : null, `checked ${ids.length.toLocaleString('en')} of ${total.toLocaleString('en')} items`);
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1].id;
  }
  return s;
}
