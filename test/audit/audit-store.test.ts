// The corpus audit against a real store (SQLite and PostgreSQL): exact duplicates of the SMS Spam
// Collection (counted independently below), FSDD without duplicates, corrupt / empty / changed
// items, label conflicts, PII per field, perceptual near-duplicates, embedding neighbours through
// both ANN backends, findings stored for the loop, and redaction at import (original never stored).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runImport } from '../../src/ingest/import.ts';
import { runAudit } from '../../src/audit/run.ts';
import { auditExclusions, latestAuditReport } from '../../src/audit/exclusions.ts';
import { verifyAuditLog } from '../../src/label/audit-verify.ts';
import { registerModel, writeEmbeddings } from '../../src/store/models.ts';
import { getProject } from '../../src/store/projects.ts';
import { mulberry32 } from '../../src/core/rng.ts';
import { dataset } from '../helpers/datasets.ts';
import { loadDigits } from '../helpers/digits.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { tessera } from '../helpers/cli.ts';

const SMS = dataset('text', 'sms-spam', 'SMSSpamCollection');

/** Exact-duplicate messages of the SMS Spam Collection, counted straight from the file. */
function smsDuplicatesFromFile() {
  const counts = new Map<string, number>();
  for (const line of readFileSync(SMS, 'utf8').split('\n')) {
    if (!line) continue;
    const text = line.slice(line.indexOf('\t') + 1);
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  const groups = [...counts.values()].filter((n) => n > 1);
  return { groups: groups.length, items: groups.reduce((s, n) => s + n, 0), redundant: groups.reduce((s, n) => s + n - 1, 0) };
}

const tmp = mkdtempSync(join(tmpdir(), 'tessera-audit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function blobImage(size: number, seed: number): Uint8Array {
  const r = mulberry32(seed);
  const blobs = Array.from({ length: 6 }, () => ({ x: r() * size, y: r() * size, s: 4 + r() * size * 0.3, v: r() * 255 }));
  const px = new Uint8Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let v = 0;
      for (const b of blobs) v += b.v * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.s * b.s));
      px[y * size + x] = Math.min(255, v);
    }
  return px;
}

async function imageFolder(): Promise<string> {
  const dir = join(tmp, 'images');
  if (existsSync(dir)) return dir;
  mkdirSync(dir);
  const png = (px: Uint8Array, size: number) => sharp(px, { raw: { width: size, height: size, channels: 1 } }).png().toBuffer();
  for (let i = 0; i < 6; i++) writeFileSync(join(dir, `img${i}.png`), await png(blobImage(64, i + 1), 64));
  // A near-duplicate of img0: brighter and re-encoded as JPEG.
  writeFileSync(join(dir, 'img0-copy.jpg'), await sharp(Buffer.from(blobImage(64, 1).map((v) => Math.min(255, v * 0.9 + 20))), { raw: { width: 64, height: 64, channels: 1 } }).jpeg({ quality: 85 }).toBuffer());
  writeFileSync(join(dir, 'blank.png'), await png(new Uint8Array(64 * 64).fill(128), 64));
  return dir;
}

for (const kind of STORE_KINDS) {
  describe(`corpus audit (${kind})`, () => {
    let t: TestStore;
    before(async () => (t = await freshStore(kind)));
    after(async () => t.cleanup());

    test('SMS Spam Collection: every exact-duplicate message reported (403 extra copies of 281 messages), stored, excluded after the first', async () => {
      await runImport(t.store, { project: 'sms', path: SMS, options: {}, actor: 'test' });
      const r = await runAudit(t.store, { project: 'sms', actor: 'test' });
      const fromFile = smsDuplicatesFromFile();
      assert.deepEqual(fromFile, { groups: 281, items: 684, redundant: 403 });
      assert.deepEqual([r.exactDuplicates.groups, r.exactDuplicates.items, r.exactDuplicates.redundant], [281, 684, 403]);
      assert.equal(r.items, 5574);
      assert.equal(r.labelConflicts.groups, 0, 'no message appears as both ham and spam');
      assert.deepEqual(r.classBalance.source.counts, { ham: 4827, spam: 747 });
      assert.deepEqual(Object.keys(r.pii.byField), ['text']);
      assert.ok(r.nearDuplicates.text!.pairs > 0);
      assert.equal(r.embeddings.skipped !== undefined, true);

      const project = await getProject(t.store.db, 'sms');
      const ex = await auditExclusions(t.store, project.id);
      assert.equal(ex.run, r.run);
      const dupRows = await t.store.db.selectFrom('audit_findings').select(['item_id', 'group_key', 'detail']).where('run_id', '=', r.run).where('kind', '=', 'exact_duplicate').execute();
      assert.equal(dupRows.length, 403);
      // The first item of each group stays selectable; every later copy is excluded.
      const items = await t.store.db.selectFrom('items').select(['id', 'sha256']).where('project_id', '=', project.id).orderBy('id').execute();
      const first = new Map<string, number>();
      for (const it of items) if (!first.has(it.sha256)) first.set(it.sha256, it.id);
      const excluded = new Set(ex.exclude);
      for (const d of dupRows) {
        assert.ok(excluded.has(d.item_id));
        assert.equal(JSON.parse(d.detail).canonical, first.get(d.group_key!));
        assert.ok(!excluded.has(first.get(d.group_key!)!) || ex.reasons[first.get(d.group_key!)!].includes('near_duplicate'));
      }
      assert.equal((await latestAuditReport(t.store.db, project.id))!.run, r.run);
      assert.equal((await verifyAuditLog(t.store.db)).ok, true);
      const ev = await t.store.db.selectFrom('audit_events').select(['action', 'subject']).where('action', '=', 'audit.run').execute();
      assert.deepEqual(ev, [{ action: 'audit.run', subject: `audit_run:${r.run}` }]);
    });

    test('FSDD: no exact duplicates among 3,000 recordings; all decode, none silent', async () => {
      await runImport(t.store, { project: 'fsdd', path: dataset('audio', 'fsdd', 'recordings'), options: { labelPattern: '{label}_{speaker}_{index}.wav' }, actor: 'test', projectSettings: { sampleRate: 8000 } });
      const r = await runAudit(t.store, { project: 'fsdd', actor: 'test' });
      assert.deepEqual(r.byModality, { audio: 3000 });
      assert.deepEqual([r.exactDuplicates.groups, r.exactDuplicates.redundant], [0, 0]);
      assert.deepEqual([r.problems.empty, r.problems.unreadable, r.problems.truncated, r.problems.hash_mismatch], [0, 0, 0, 0]);
      assert.equal(r.sizeOutliers.audio!.metric, 'seconds');
      assert.ok(r.sizeOutliers.audio!.median > 0.3 && r.sizeOutliers.audio!.median < 0.6);
      assert.deepEqual(Object.values(r.classBalance.source.counts), Array(10).fill(300));
    });

    test('text: empty items, conflicting labels on identical content, PII per field, changed content', async () => {
      const file = join(tmp, `${kind}-texts.jsonl`);
      const rows = [
        { id: 'a', text: 'Meeting moved to 3pm', label: 'ham', author: 'jo@example.com' },
        { id: 'b', text: 'Meeting moved to 3pm', label: 'spam', author: 'kim' },
        { id: 'c', text: '   ', label: 'ham', author: 'kim' },
        { id: 'd', text: 'Call 0412 345 678 or mail x@y.org', label: 'spam', author: 'kim' },
        { id: 'e', text: 'TFN 123 456 782 but not 123 456 789', label: 'ham', author: 'kim' },
        { id: 'f', text: 'An ordinary message about the weekend plans and the weather', label: 'ham', author: 'kim' },
      ];
      writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      await runImport(t.store, { project: 'texts', path: file, options: { idColumn: 'id' }, actor: 'test' });
      const project = await getProject(t.store.db, 'texts');
      // Corruption after import: the stored text no longer matches its hash.
      await t.store.db.updateTable('items').set({ text: 'An ordinary message about the weekend plans and the weathe' }).where('project_id', '=', project.id).where('source_key', '=', 'id:f').execute();
      const r = await runAudit(t.store, { project: 'texts', actor: 'test' });
      const idOf = async (k: string) => (await t.store.db.selectFrom('items').select('id').where('project_id', '=', project.id).where('source_key', '=', `id:${k}`).executeTakeFirstOrThrow()).id;
      assert.deepEqual([r.problems.empty, r.problems.hash_mismatch], [1, 1]);
      assert.deepEqual(r.problems.examples.map((e) => [e.itemId, e.kind]), [[await idOf('c'), 'empty'], [await idOf('f'), 'hash_mismatch']]);
      assert.equal(r.labelConflicts.groups, 1);
      assert.deepEqual(r.labelConflicts.examples[0].labels, { ham: 1, spam: 1 });
      assert.deepEqual(r.pii, {
        items: 3,
        byField: { 'fields.author': { items: 1, matches: { email: 1 } }, text: { items: 2, matches: { email: 1, phone: 1, tfn: 1 } } },
        byKind: { email: 2, phone: 1, tfn: 1 },
      });
      const ex = await auditExclusions(t.store, project.id);
      assert.deepEqual(ex.exclude.sort((x, y) => x - y), [await idOf('b'), await idOf('c'), await idOf('f')].sort((x, y) => x - y));
      assert.deepEqual(ex.flag, [await idOf('a')], 'the kept copy of a conflicting pair goes to review');
      assert.deepEqual(ex.reasons[await idOf('b')].sort(), ['exact_duplicate', 'label_conflict']);
      assert.deepEqual(ex.pii.sort((x, y) => x - y), [await idOf('a'), await idOf('d'), await idOf('e')].sort((x, y) => x - y));
    });

    test('images: perceptual near-duplicate (brighter JPEG copy), blank image, truncated blob', async () => {
      const dir = await imageFolder();
      await runImport(t.store, { project: 'imgs', path: dir, format: 'images', options: {}, actor: 'test' });
      const project = await getProject(t.store.db, 'imgs');
      const item = async (key: string) => t.store.db.selectFrom('items').select(['id', 'blob_sha256']).where('project_id', '=', project.id).where('source_key', '=', key).executeTakeFirstOrThrow();
      // Damage one stored PNG: keep only its first 200 bytes.
      const victim = await item('img3.png');
      const bytes = (await t.store.db.selectFrom('blobs').select('bytes').where('sha256', '=', victim.blob_sha256!).executeTakeFirstOrThrow()).bytes;
      await t.store.db.updateTable('blobs').set({ bytes: Buffer.from(bytes).subarray(0, 200) }).where('sha256', '=', victim.blob_sha256!).execute();
      const r = await runAudit(t.store, { project: 'imgs', actor: 'test' });
      const img0 = (await item('img0.png')).id;
      const copy = (await item('img0-copy.jpg')).id;
      const blank = (await item('blank.png')).id;
      assert.equal(r.nearDuplicates.image!.pairs, 1);
      assert.deepEqual(r.nearDuplicates.image!.examples![0].itemIds.sort((a, b) => a - b), [copy, img0].sort((a, b) => a - b));
      assert.equal(r.problems.empty, 1);
      assert.equal(r.problems.hash_mismatch, 1);
      assert.equal(r.problems.truncated + r.problems.unreadable, 1);
      const kinds = new Map<number, string[]>();
      for (const e of r.problems.examples) kinds.set(e.itemId, [...(kinds.get(e.itemId) ?? []), e.kind]);
      assert.deepEqual(kinds.get(blank), ['empty']);
      assert.deepEqual(kinds.get(victim.id)!.sort(), ['hash_mismatch', r.problems.truncated ? 'truncated' : 'unreadable'].sort());
      const ex = await auditExclusions(t.store, project.id);
      assert.deepEqual(ex.reasons[Math.max(img0, copy)], ['near_duplicate']);
      assert.ok(!ex.exclude.includes(Math.min(img0, copy)));
    });

    test('embeddings: near-duplicates, kNN-distance outliers and coverage, the same through usearch and hnswlib', async () => {
      await runImport(t.store, { project: 'digits', path: dataset('images', 'digits', 'digits.csv.gz'), options: {}, actor: 'test' });
      const project = await getProject(t.store.db, 'digits');
      const ids = (await t.store.db.selectFrom('items').select('id').where('project_id', '=', project.id).orderBy('id').execute()).map((r) => r.id);
      // Pixels as the "embedding"; plant a near-copy of item 0 and one far-away vector.
      const d = loadDigits();
      const v = Float32Array.from(d.x, (x) => x + 0.01);
      for (let j = 0; j < 64; j++) v[5 * 64 + j] = v[j] * 1.001;
      for (let j = 0; j < 64; j++) v[9 * 64 + j] = j === 63 ? 50 : 0.01;
      const model = await registerModel(t.store.db, { projectId: project.id, kind: 'encoder', pretext: 'pixels', parentId: null, datasetId: null, taxonomyVersion: null, checkpointPath: null, params: {}, metrics: {} });
      await writeEmbeddings(t.store, model, ids, v, 64);
      const runs = [];
      for (const ann of ['usearch', 'hnswlib'] as const) runs.push(await runAudit(t.store, { project: 'digits', actor: 'test', ann, embeddingThreshold: 0.999, coverageLabels: 'human', clusters: 10 }));
      for (const r of runs) {
        assert.equal(r.embeddings.model, model);
        assert.equal(r.embeddings.items, 1797);
        assert.ok(r.nearDuplicates.image!.skipped, '8×8 images are too small for a perceptual hash');
        assert.deepEqual(r.nearDuplicates.embedding!.examples[0].itemIds, [ids[0], ids[5]]);
        assert.equal(r.embeddingOutliers!.examples[0].itemId, ids[9], 'the planted far-away vector is the top outlier');
        assert.equal(r.coverage!.clusters, 10);
        assert.equal(r.coverage!.uncovered.length, 10, 'no human labels yet: every cluster is uncovered');
      }
      assert.deepEqual(runs[0].nearDuplicates.embedding!.examples, runs[1].nearDuplicates.embedding!.examples);
      // HNSW is approximate: the two backends may differ on a borderline item or two, not more.
      const flagged = async (run: number) => new Set((await t.store.db.selectFrom('audit_findings').select('item_id').where('run_id', '=', run).where('kind', '=', 'embedding_outlier').execute()).map((r) => r.item_id));
      const [a, b] = [await flagged(runs[0].run), await flagged(runs[1].run)];
      const common = [...a].filter((x) => b.has(x)).length;
      assert.ok(common / Math.max(a.size, b.size) >= 0.9, `outliers agree: ${common} of ${a.size} / ${b.size}`);
      const withSource = await runAudit(t.store, { project: 'digits', actor: 'test', clusters: 10 });
      assert.equal(withSource.coverage!.uncovered.length, 0, 'source labels cover every cluster');
      const ex = await auditExclusions(t.store, project.id);
      assert.ok(ex.flag.includes(ids[9]));
      assert.deepEqual(ex.reasons[ids[5]], ['near_duplicate']);
    });

    test('redaction at import: PII replaced before hashing; the original is never stored', async () => {
      const file = join(tmp, `${kind}-pii.jsonl`);
      writeFileSync(file, [{ id: 1, text: 'write to zq.redact@example.com.au today', label: 'x' }, { id: 2, text: 'card 4111-1111-1111-1111 please', label: 'y', from: '0498 765 432' }, { id: 3, text: 'nothing to hide', label: 'x' }].map((r) => JSON.stringify(r)).join('\n') + '\n');
      const rep = await runImport(t.store, { project: 'redacted', path: file, options: { idColumn: 'id' }, actor: 'test', redactPii: true });
      assert.deepEqual(rep, { imported: 3, unchanged: 0, rejected: 0, errors: [], redacted: 2 });
      const project = await getProject(t.store.db, 'redacted');
      const stored = await t.store.db.selectFrom('items').select(['text', 'meta']).where('project_id', '=', project.id).orderBy('id').execute();
      assert.deepEqual(stored.map((s) => s.text), ['write to [EMAIL] today', 'card [CREDIT_CARD] please', 'nothing to hide']);
      assert.deepEqual(JSON.parse(stored[1].meta).fields, { from: '[PHONE]' });
      assert.deepEqual(JSON.parse(stored[1].meta).piiRedacted, { text: ['credit_card'], 'fields.from': ['phone'] });
      const again = await runImport(t.store, { project: 'redacted', path: file, options: { idColumn: 'id' }, actor: 'test', redactPii: true });
      assert.equal(again.unchanged, 3, 'idempotent: the hash is of the redacted content');
      const audit = await runAudit(t.store, { project: 'redacted', actor: 'test' });
      assert.equal(audit.pii.items, 0, 'nothing left to find');
      if (kind === 'sqlite') {
        await t.store.close();
        const files = readdirSync(t.env.TESSERA_HOME).filter((f) => f.startsWith('tessera.db'));
        for (const f of files) {
          const raw = readFileSync(join(t.env.TESSERA_HOME, f));
          for (const secret of ['zq.redact@example.com.au', '4111-1111-1111-1111', '0498 765 432']) assert.equal(raw.includes(secret), false, `${secret} found in ${f}`);
        }
        const { openStore } = await import('../../src/store/db.ts');
        (t as { store: unknown }).store = await openStore({ kind: 'sqlite', location: join(t.env.TESSERA_HOME, 'tessera.db') });
      } else {
        for (const secret of ['zq.redact', '4111-1111', '0498 765']) {
          const hits = await t.store.db.selectFrom('items').select('id').where('project_id', '=', project.id).where((e) => e.or([e('text', 'like', `%${secret}%`), e('meta', 'like', `%${secret}%`)])).execute();
          assert.deepEqual(hits, [], secret);
        }
      }
    });

    if (kind === 'sqlite') {
      test('CLI: `tessera audit --json` runs the audit job and prints the stored report', async () => {
        const r = tessera(['audit', '--project', 'sms', '--json'], t.env);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual([r.json.exactDuplicates.groups, r.json.exactDuplicates.redundant], [281, 403]);
        const job = await t.store.db.selectFrom('jobs').select(['type', 'status', 'result']).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
        assert.deepEqual([job.type, job.status, JSON.parse(job.result!).run], ['audit', 'succeeded', r.json.run]);
        const ex = tessera(['audit-findings', '--project', 'sms', '--exclusions', '--json'], t.env);
        assert.equal(ex.json.run, r.json.run);
        assert.equal(ex.json.exclude.length, r.json.exclusions.exclude);
      });
    }
  });
}
