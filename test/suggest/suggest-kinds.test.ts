// `tessera suggest` works for every kind of classifier the registry holds: a linear head on the
// frozen SSL encoder, a fine-tuned encoder + head, and a linear head on raw features — TF-IDF and
// tabular encodings, computed shard by shard with the featurizer stored at registration and equal
// to the features of the whole corpus — rows in today's format included (a raw head registered
// without its featurizer refits it on the project's corpus). Runs the suggest job in-process
// (what the CLI runs), three shards per project; one CLI run as a user would.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobHandlers } from '../../src/jobs/handlers.ts';
import { InProcessRunner } from '../../src/jobs/runner.ts';
import { runImport } from '../../src/ingest/import.ts';
import { loadModalityData } from '../../src/ssl/data.ts';
import { registerModel } from '../../src/store/models.ts';
import { getProject } from '../../src/store/projects.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { cliActor } from '../../src/store/context.ts';
import { applyRawFeaturizer, fitRawFeaturizer, rawFeatures } from '../../src/probe/raw.ts';
import { fitHead, headProba, type Head } from '../../src/train/linear-head.ts';
import { fineTune } from '../../src/train/fine-tune.ts';
import { adjustToPrior } from '../../src/train/prior-shift.ts';
import { headParams, registerClassifier } from '../../src/train/registry.ts';
import { promotedWithoutTest } from '../../src/loop/promotion.ts';
import type { Store } from '../../src/store/db.ts';
import type { Metrics } from '../../src/train/linear-head.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { REPO_ROOT } from '../helpers/datasets.ts';
import { tessera } from '../helpers/cli.ts';
import { smallClassifier, smallEncoder, tabularProject } from '../jobs/cluster-fixture.ts';

const ITEMS = 300;
const CLASSES = ['x', 'y', 'z'];
const promotion = promotedWithoutTest('the project has no model in use yet');
const metrics = (method: string) => ({ test: { accuracy: 0, macroF1: 0, perClassF1: {}, confusion: [], ece: 0 } satisfies Metrics, validation: { items: 0, linear: null, fineTune: null }, method, labelledItems: 60, round: 1, promoted: true });
const lineage = (projectId: number) => ({ projectId, pretext: null, parentId: null, datasetId: null, taxonomyVersion: 1, checkpointPath: null });

/** The suggest job as `tessera suggest` runs it; its suggestions by item. */
async function suggest(store: Store, project: string, projectId: number, model: number) {
  const job = await new InProcessRunner(store, jobHandlers(store)).submitAndRun('suggest', { project, model }, projectId);
  assert.equal(job.status, 'succeeded', job.error ?? '');
  const rows = await store.db.selectFrom('suggestions').select(['item_id', 'labels', 'source', 'confidence']).where('project_id', '=', projectId).where('source', '=', `model:${model}`).execute();
  return { result: job.result as { model: number; items: number; suggested: number; shards: number }, byItem: new Map(rows.map((r) => [r.item_id, { label: (JSON.parse(r.labels) as string[])[0], confidence: r.confidence ?? NaN }])) };
}

/** Every item's suggestion is the argmax of `p` (the whole corpus at once) with its probability. */
function assertMatches(itemIds: number[], p: Float64Array, classes: string[], byItem: Map<number, { label: string; confidence: number }>) {
  const C = classes.length;
  assert.equal(byItem.size, itemIds.length);
  const seen = new Set<string>();
  itemIds.forEach((id, i) => {
    const row = Array.from(p.subarray(i * C, i * C + C));
    const best = row.indexOf(Math.max(...row));
    const s = byItem.get(id)!;
    assert.equal(s.label, classes[best], `item ${id}`);
    assert.ok(Math.abs(s.confidence - row[best]) < 1e-9, `item ${id}: ${s.confidence} vs ${row[best]}`);
    seen.add(s.label);
  });
  assert.ok(seen.size >= 2, 'the classifier predicts more than one class');
}

/** A seeded text project of the demo's first `n` messages (ham / spam). */
async function textProject(store: Store, name: string, n: number): Promise<number> {
  const lines = readFileSync(join(REPO_ROOT, 'demo/sms-spam/SMSSpamCollection'), 'utf8').split('\n').filter(Boolean).slice(0, n);
  const file = join(mkdtempSync(join(tmpdir(), 'tessera-sms-')), 'sms.tsv');
  writeFileSync(file, lines.join('\n') + '\n');
  await runImport(store, { project: name, path: file, format: 'sms', options: {}, actor: 'cli:test' });
  const project = await getProject(store.db, name);
  await createTaxonomy(store, project, cliActor('cli:test'), { kind: 'single', labels: [{ name: 'ham' }, { name: 'spam' }] });
  return project.id;
}

/** A raw-feature head fitted on the first `labelled` items' source labels, as the loop fits one. */
async function rawHead(store: Store, projectId: number, modality: 'text' | 'tabular', classes: string[], labelOf: (i: number) => string, labelled = 60) {
  const loaded = await loadModalityData(store, projectId, modality);
  const featurizer = fitRawFeaturizer(loaded.data);
  const x = await applyRawFeaturizer(featurizer, loaded.data);
  const head = fitHead({ rows: labelled, dim: x.dim, data: x.data.slice(0, labelled * x.dim) }, Array.from({ length: labelled }, (_, i) => labelOf(i)), classes, 0);
  return { loaded, featurizer, head, x };
}

for (const kind of STORE_KINDS) {
  describe(`tessera suggest with every kind of registered classifier (${kind})`, () => {
    let t: TestStore;
    let projectId: number;
    let encoder: { modelId: number; dir: string };
    let rawTabular = 0;
    const prev = process.env.TESSERA_SHARD_ITEMS;

    before(async () => {
      process.env.TESSERA_SHARD_ITEMS = '100';
      t = await freshStore(kind);
      projectId = (await tabularProject(t.store, 'kinds', ITEMS)).projectId;
      encoder = await smallEncoder(t.store, projectId);
    });
    after(async () => {
      if (prev === undefined) delete process.env.TESSERA_SHARD_ITEMS;
      else process.env.TESSERA_SHARD_ITEMS = prev;
      await t.cleanup();
    });

    const kindOf = (data: { rows: Array<Array<number | string | null>>; columns: Array<{ name: string }> }) => {
      const at = data.columns.findIndex((c) => c.name === 'kind');
      return (i: number) => String(data.rows[i][at]);
    };

    test('a linear head on the frozen encoder, in today\'s row format', async () => {
      const id = await smallClassifier(t.store, projectId, encoder.modelId, encoder.dir);
      const { result, byItem } = await suggest(t.store, 'kinds', projectId, id);
      assert.deepEqual({ items: result.items, suggested: result.suggested, shards: result.shards }, { items: ITEMS, suggested: ITEMS, shards: 3 });
      assert.ok([...byItem.values()].every((s) => CLASSES.includes(s.label)));
    });

    test('a linear head on raw tabular features: the stored featurizer, shard by shard, equals the whole corpus; its prior shift applies', async () => {
      const loaded = await loadModalityData(t.store, projectId, 'tabular');
      if (loaded.data.modality !== 'tabular') throw new Error('tabular expected');
      const { featurizer, head, x } = await rawHead(t.store, projectId, 'tabular', CLASSES, kindOf(loaded.data));
      const priorShift = { labelPrior: [0.5, 0.3, 0.2], poolPrior: [0.2, 0.3, 0.5], applied: true, items: ITEMS, iterations: 3, converged: true, collapsed: [], validation: null };
      const id = (rawTabular = await registerClassifier(t.store.db, { ...lineage(projectId), params: { method: 'linear', classes: CLASSES, priorShift, promotion, head: 'linear (raw features)', features: 'raw', ...headParams(head), featurizer }, metrics: metrics('linear') }));
      const { result, byItem } = await suggest(t.store, 'kinds', projectId, id);
      assert.equal(result.shards, 3);
      assert.deepEqual(x.data, (await rawFeatures(loaded.data)).data, 'the featurizer gives the probe\'s raw features');
      assertMatches(loaded.itemIds, adjustToPrior(headProba(head, x), 3, priorShift.labelPrior, priorShift.poolPrior), CLASSES, byItem);
    });

    test('a fine-tuned encoder and its head, as the loop saves one', async () => {
      const { loadEncoder } = await import('../../src/ssl/index.ts');
      const loaded = await loadModalityData(t.store, projectId, 'tabular');
      if (loaded.data.modality !== 'tabular') throw new Error('tabular expected');
      const label = kindOf(loaded.data);
      const enc = await loadEncoder(encoder.dir);
      const idx = Array.from({ length: 60 }, (_, i) => i);
      const ft = await fineTune(enc, loaded.data, { idx, y: idx.map((i) => CLASSES.indexOf(label(i))) }, CLASSES, { seed: 0, epochs: 1, minSteps: 1 });
      const dir = join(mkdtempSync(join(tmpdir(), 'tessera-ft-')), 'classifier');
      await ft.model.save(dir, { encoder: encoder.modelId, round: 1 });
      const p = await ft.model.proba(loaded.data);
      ft.model.dispose();
      enc.dispose();
      const id = await registerClassifier(t.store.db, { ...lineage(projectId), parentId: encoder.modelId, checkpointPath: dir, params: { method: 'fine-tune', classes: CLASSES, promotion, head: 'fine-tuned encoder + linear head', features: 'encoder', temperature: ft.model.temperature }, metrics: metrics('fine-tune') });
      const { result, byItem } = await suggest(t.store, 'kinds', projectId, id);
      assert.equal(result.suggested, ITEMS);
      const C = CLASSES.length;
      loaded.itemIds.forEach((itemId, i) => {
        const row = Array.from(p.subarray(i * C, i * C + C));
        assert.ok(Math.abs(byItem.get(itemId)!.confidence - Math.max(...row)) < 1e-5, `item ${itemId}`);
      });
    });

    test('a raw-feature head on TF-IDF: the stored vocabulary and IDF give each shard the whole corpus\'s features; a row in today\'s format (no featurizer) refits it', async () => {
      const textId = await textProject(t.store, 'sms', 300);
      const loaded = await loadModalityData(t.store, textId, 'text');
      const { featurizer, head, x } = await rawHead(t.store, textId, 'text', ['ham', 'spam'], (i) => loaded.labels[i]!, 150);
      const p = headProba(head, x);
      const withFeaturizer = await registerClassifier(t.store.db, { ...lineage(textId), params: { method: 'linear', classes: ['ham', 'spam'], promotion, head: 'linear (raw features)', features: 'raw', ...headParams(head), featurizer }, metrics: metrics('linear') });
      assertMatches(loaded.itemIds, p, ['ham', 'spam'], (await suggest(t.store, 'sms', textId, withFeaturizer)).byItem);
      // Today's format: what the loop wrote before raw heads stored their featurizer.
      const { model, temperature, classes } = head;
      const today = await registerModel(t.store.db, {
        ...lineage(textId),
        kind: 'classifier',
        params: { method: 'linear', requested: 'auto', seed: 0, classes, validation: { rule: 'r', fraction: 0.2, items: [], linear: null, fineTune: null }, fineTune: null, promotion, head: 'linear (raw features; the probe found SSL does not help)', features: 'raw', lambda: model.lambda, temperature, W: Array.from(model.W), b: Array.from(model.b), mean: Array.from(model.mean), std: Array.from(model.std) },
        metrics: metrics('linear'),
      });
      assertMatches(loaded.itemIds, p, ['ham', 'spam'], (await suggest(t.store, 'sms', textId, today)).byItem);
    });

    test('a row that does not fit its kind is refused, naming the model and the field', async () => {
      const run = (model: number) => new InProcessRunner(t.store, jobHandlers(t.store)).submitAndRun('suggest', { project: 'kinds', model }, projectId);
      const noWeights = await registerModel(t.store.db, { ...lineage(projectId), kind: 'classifier', params: { features: 'raw', classes: CLASSES }, metrics: {} });
      const r1 = await run(noWeights);
      assert.equal(r1.status, 'failed');
      assert.match(r1.error ?? '', new RegExp(`classifier ${noWeights}: params\\.W: Expected required property`));
      const badShape = await registerModel(t.store.db, { ...lineage(projectId), kind: 'classifier', params: { features: 'raw', classes: CLASSES, W: [1, 2], b: [0, 0, 0], mean: [0], std: [1] }, metrics: {} });
      assert.match((await run(badShape)).error ?? '', new RegExp(`classifier ${badShape}: params\\.W has 2 values, a head of 1 inputs × 3 classes needs 3`));
      const unknown = await registerModel(t.store.db, { ...lineage(projectId), kind: 'classifier', params: { features: 'pixels' }, metrics: {} });
      assert.match((await run(unknown)).error ?? '', new RegExp(`classifier ${unknown}: params\\.features must be one of ssl, raw, encoder \\(got "pixels"\\)`));
      const badHead = (h: Head) => ({ ...headParams(h), temperature: 'warm' });
      const { head } = await rawHead(t.store, projectId, 'tabular', CLASSES, (i) => CLASSES[i % 3]);
      await assert.rejects(
        registerClassifier(t.store.db, { ...lineage(projectId), params: { features: 'raw', classes: CLASSES, ...badHead(head) } as never, metrics: metrics('linear') }),
        /classifier to register \(raw\): params\.temperature: Expected number/,
      );
    });

    if (kind === 'sqlite') {
      test('from the command line', () => {
        const r = tessera(['suggest', '--project', 'kinds', '--model', String(rawTabular), '--json'], t.env);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.json.items, ITEMS);
        assert.equal(r.json.suggested, ITEMS);
      });
    }
  });
}
