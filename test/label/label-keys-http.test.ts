// Labels named like Object.prototype's members (`__proto__`, `constructor`, `toString`,
// `hasOwnProperty`, `valueOf`) next to an ordinary one, through the whole path on SQLite and
// PostgreSQL: the taxonomy over HTTP, annotators labelling over HTTP, consensus by majority vote,
// Dawid-Skene and GLAD (posteriors stored and read back with every label), a review fix, agreement
// per label, gold, the dashboard, the labels routes, every export format, the audit log; source
// labels in project stats, the corpus audit and drift; and the file CLIs `tessera agreement` and
// `tessera consensus`.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImport } from '../../src/ingest/import.ts';
import { agreementReport } from '../../src/label/agreement.ts';
import type { LabelAnswer } from '../../src/label/consensus.ts';
import { createUser, setRole } from '../../src/label/users.ts';
import { runAudit } from '../../src/audit/run.ts';
import { projectDrift } from '../../src/monitor/project.ts';
import { createSnapshot } from '../../src/store/models.ts';
import { getProject, projectStats } from '../../src/store/projects.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { tessera } from '../helpers/cli.ts';
import { OPERATOR, projectWithItems, startApi, type Api } from '../server/helpers.ts';

const L = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'cat'];
const ODD = L.slice(0, 5);
/** Plain names in the same code-unit order (so every result must be the same, label for label). */
const plain = (l: string) => `p${[...L].sort().indexOf(l)}`;
/** Counts as an object with own keys (a literal `{ __proto__: 1 }` would set the prototype instead). */
const counts = (entries: Array<[string, number]>) => Object.fromEntries(entries) as Record<string, number>;
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

const dir = mkdtempSync(join(tmpdir(), 'tessera-label-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A stored posterior, read back: every label an own key, in taxonomy order, numbers that sum to 1. */
function assertPosterior(posterior: Record<string, number>, where: string, kind: 'single' | 'multi' = 'single') {
  assert.deepEqual(Object.keys(posterior), L, `${where}: every label is in the posterior`);
  for (const l of L) assert.ok(Object.hasOwn(posterior, l) && typeof posterior[l] === 'number', `${where}: P(${l}) = ${String(posterior[l])}`);
  if (kind === 'single') assert.ok(Math.abs(sum(posterior) - 1) < 1e-9, `${where}: sums to ${sum(posterior)}`);
}

for (const kind of STORE_KINDS) {
  describe(`labels named __proto__, constructor, toString, hasOwnProperty, valueOf end to end (${kind})`, () => {
    let t: TestStore;
    let api: Api;
    const tok: Record<string, string> = {};
    const ROLES_OF = { 'ann-a': 'annotator', 'ann-b': 'annotator', 'ann-c': 'annotator', rev: 'reviewer', mgr: 'manager', adm: 'admin', view: 'viewer' } as const;

    before(async () => {
      t = await freshStore(kind);
      for (const name of Object.keys(ROLES_OF)) tok[name] = (await createUser(t.store, OPERATOR, name)).token.token;
      api = await startApi(t.store);
    });
    after(async () => {
      await api.close();
      await t.cleanup();
    });

    /** A project with `n` text items, the users in their roles, and a taxonomy created over HTTP. */
    async function oddProject(name: string, taxonomyKind: 'single' | 'multi', n: number): Promise<{ P: string; ids: number[] }> {
      const project = await projectWithItems(t.store, name, Array.from({ length: n }, (_, i) => `text number ${i}`));
      for (const [user, role] of Object.entries(ROLES_OF)) await setRole(t.store, project, OPERATOR, user, role);
      const P = `/api/projects/${name}`;
      const tax = await api.call('POST', `${P}/taxonomy`, tok.mgr, { kind: taxonomyKind, labels: L.map((l) => ({ name: l, description: `the ${l} class` })) });
      assert.equal(tax.status, 201, tax.text);
      assert.deepEqual(tax.json.taxonomy.labels.map((l: { name: string }) => l.name), L);
      const s = await api.call('PATCH', `${P}/settings`, tok.mgr, { overlap: 3, reviewThreshold: 0.5, reviewOnDisagreement: false });
      assert.equal(s.status, 200, s.text);
      const items = (await api.call('GET', `${P}/items?limit=100`, tok.mgr)).json.items.map((i: { id: number }) => i.id);
      return { P, ids: items };
    }

    /** ann-a, ann-b and ann-c each take the next task (the same item) and answer it; returns the item. */
    async function label3(P: string, a: string[], b: string[], c: string[]): Promise<number> {
      const tasks: Array<{ id: number; item: { id: number }; taxonomy: { labels: Array<{ name: string }> } }> = [];
      for (const w of ['ann-a', 'ann-b', 'ann-c']) tasks.push((await api.call('POST', `${P}/tasks/next`, tok[w])).json.task);
      assert.ok(tasks.every((x) => x.item.id === tasks[0].item.id), 'overlap 3: the three annotators get the same item');
      assert.deepEqual(tasks[0].taxonomy.labels.map((l) => l.name), L, 'the task shows every label');
      for (const [k, [w, labels]] of ([['ann-a', a], ['ann-b', b], ['ann-c', c]] as const).entries()) {
        const r = await api.call('POST', `${P}/tasks/${tasks[k].id}/submit`, tok[w], { labels, taxonomyVersion: 1, timeMs: 100 });
        assert.equal(r.status, 201, r.text);
      }
      return tasks[0].item.id;
    }

    test('single-label: majority and Dawid-Skene posteriors hold every label; review fix, agreement, gold, dashboard, labels routes, export, audit', async () => {
      const { P, ids } = await oddProject('odd', 'single', 10);
      // Items 0–5: ann-a and ann-b give label i, ann-c label i+1 (so every label is decided once, 2:1).
      const given: LabelAnswer[] = [];
      for (let i = 0; i < 6; i++) {
        const item = await label3(P, [L[i]], [L[i]], [L[(i + 1) % 6]]);
        assert.equal(item, ids[i]);
        for (const [w, l] of [['ann-a', L[i]], ['ann-b', L[i]], ['ann-c', L[(i + 1) % 6]]]) given.push({ item: String(item), annotator: w, labels: [l] });
      }
      for (let i = 0; i < 6; i++) {
        const r = (await api.call('GET', `${P}/labels/${ids[i]}`, tok.view)).json;
        assert.deepEqual([r.labels, r.source, r.provenance.consensus.method], [[L[i]], 'consensus', 'majority'], `item ${i}`);
        const post = r.provenance.consensus.posterior;
        assertPosterior(post, `majority, item ${i} (${L[i]})`);
        assert.deepEqual(L.map((l) => post[l]), L.map((l) => (l === L[i] ? 2 / 3 : l === L[(i + 1) % 6] ? 1 / 3 : 0)), `majority, item ${i}`);
      }
      const listed = (await api.call('GET', `${P}/labels?limit=100`, tok.view)).json.labels;
      assert.deepEqual(listed.map((l: { labels: string[] }) => l.labels[0]), L);
      for (const l of listed) assertPosterior(l.provenance.consensus.posterior, `GET labels, item ${l.itemId}`);

      // Item 6: three different answers, a tie: review; the reviewer fixes it to `constructor`.
      const tied = await label3(P, ['__proto__'], ['toString'], ['valueOf']);
      given.push(...[['ann-a', '__proto__'], ['ann-b', 'toString'], ['ann-c', 'valueOf']].map(([w, l]) => ({ item: String(tied), annotator: w, labels: [l] })));
      const entry = (await api.call('GET', `${P}/reviews`, tok.rev)).json.reviews.find((r: { itemId: number }) => r.itemId === tied);
      assert.deepEqual([entry.reason, entry.proposal], ['disagreement', null]);
      assertPosterior(entry.detail.consensus.posterior, 'review entry');
      assert.deepEqual(L.map((l) => entry.detail.consensus.posterior[l]), [1 / 3, 0, 1 / 3, 0, 1 / 3, 0]);
      const fix = await api.call('POST', `${P}/reviews/${entry.id}/decision`, tok.rev, { decision: 'fix', labels: ['constructor'], note: 'it is a constructor' });
      assert.equal(fix.status, 200, fix.text);
      const fixed = (await api.call('GET', `${P}/labels/${tied}`, tok.view)).json;
      assert.deepEqual([fixed.labels, fixed.source, fixed.provenance.review.decision], [['constructor'], 'review', 'fix']);
      assertPosterior(fixed.provenance.consensus.posterior, 'review fix provenance');

      // Agreement per label: κ for every label, the same numbers as with plain label names.
      const agreement = await api.call('GET', `${P}/agreement`, tok.view);
      assert.equal(agreement.status, 200, agreement.text);
      assert.deepEqual(agreement.json.perLabel.map((p: { label: string }) => p.label), L);
      for (const p of agreement.json.perLabel) assert.equal(typeof p.kappa, 'number', `κ(${p.label})`);
      const plainReport = agreementReport(given.map((a) => ({ ...a, labels: a.labels.map(plain) })), { kind: 'single', labels: L.map((l) => ({ name: plain(l) })) });
      assert.deepEqual({ ...agreement.json, perLabel: agreement.json.perLabel.map((p: { label: string }) => ({ ...p, label: plain(p.label) })) }, JSON.parse(JSON.stringify(plainReport)));

      // The dashboard counts final labels per label (constructor twice: consensus and review).
      const dash = (await api.call('GET', `${P}/dashboard`, tok.mgr)).json;
      assert.deepEqual(dash.taxonomy.labels, L);
      assert.deepEqual(dash.labels, L.map((l) => ({ label: l, count: l === 'constructor' ? 2 : 1, current: true })));

      // Dawid-Skene: the re-run replaces every consensus decision; its posteriors hold every label.
      assert.equal((await api.call('PATCH', `${P}/settings`, tok.mgr, { consensus: { method: 'dawid-skene' } })).status, 200);
      const rerun = await api.call('POST', `${P}/consensus/run`, tok.mgr);
      assert.equal(rerun.status, 200, rerun.text);
      assert.equal(rerun.json.items, 6);
      for (let i = 0; i < 6; i++) {
        const r = (await api.call('GET', `${P}/labels/${ids[i]}`, tok.view)).json;
        assert.equal(r.provenance.consensus.method, 'dawid-skene', `item ${i}`);
        assert.deepEqual(r.labels, [L[i]], `Dawid-Skene, item ${i}`);
        assertPosterior(r.provenance.consensus.posterior, `Dawid-Skene re-run, item ${i}`);
        assert.equal(Math.max(...Object.values(r.provenance.consensus.posterior as Record<string, number>)), r.provenance.consensus.posterior[L[i]]);
      }
      // A new item decided by the fitted model (settle → consensusByFit → recompute.ts).
      const late = await label3(P, ['__proto__'], ['__proto__'], ['constructor']);
      const lateLabel = (await api.call('GET', `${P}/labels/${late}`, tok.view)).json;
      assert.deepEqual([lateLabel.labels, lateLabel.provenance.consensus.method, lateLabel.provenance.consensus.fit.mode], [['__proto__'], 'dawid-skene', 'exact']);
      assertPosterior(lateLabel.provenance.consensus.posterior, 'Dawid-Skene, new item');
      assert.ok(lateLabel.provenance.consensus.posterior.__proto__ > 0.5);

      // Gold labelled `__proto__`: a right and a wrong answer, the report, the review of the wrong one.
      const goldItem = ids[9];
      assert.equal((await api.call('PUT', `${P}/gold`, tok.mgr, { items: [{ itemId: goldItem, labels: ['__proto__'] }] })).status, 200);
      assert.equal((await api.call('PATCH', `${P}/settings`, tok.mgr, { gold: { rate: 1, minAnswers: 1, threshold: 0.9 } })).status, 200);
      for (const [w, l] of [['ann-a', '__proto__'], ['ann-b', 'toString']]) {
        const g = (await api.call('POST', `${P}/tasks/next`, tok[w])).json.task;
        assert.equal(g.item.id, goldItem);
        assert.equal((await api.call('POST', `${P}/tasks/${g.id}/submit`, tok[w], { labels: [l], taxonomyVersion: 1 })).status, 201);
      }
      const report = (await api.call('GET', `${P}/gold/report`, tok.mgr)).json;
      assert.deepEqual(report.annotators.map((x: { annotator: string; correct: number; total: number }) => [x.annotator, x.correct, x.total]), [['ann-a', 1, 1], ['ann-b', 0, 1]]);
      const failed = (await api.call('GET', `${P}/reviews?reason=gold_failed`, tok.rev)).json.reviews;
      assert.deepEqual(failed.map((r: { proposal: string[]; detail: { answer: string[] } }) => [r.proposal, r.detail.answer]), [[['__proto__'], ['toString']]]);
      assert.equal((await api.call('POST', `${P}/reviews/${failed[0].id}/decision`, tok.rev, { decision: 'accept' })).status, 200);
      assert.deepEqual((await api.call('GET', `${P}/gold`, tok.mgr)).json.gold.map((g: { labels: string[] }) => g.labels), [['__proto__']]);

      // Export: JSONL keeps each posterior whole; CSV and Label Studio carry the labels.
      const jsonl = await api.call('GET', `${P}/export?format=jsonl`, tok.mgr);
      assert.equal(jsonl.status, 200, jsonl.text);
      const rows = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(rows.map((r) => r.labels[0]), [...L, 'constructor', '__proto__']);
      for (const r of rows) assertPosterior(r.provenance.consensus.posterior, `JSONL export, item ${r.item}`);
      assert.ok(Object.hasOwn(rows[0].provenance.consensus.posterior, '__proto__') && rows[0].provenance.consensus.posterior.__proto__ > 0.5);
      const csv = (await api.call('GET', `${P}/export?format=csv`, tok.mgr)).text.trim().split('\n');
      assert.deepEqual(csv.slice(1).map((l) => l.split(',')[2]), [...L, 'constructor', '__proto__']);
      const ls = (await api.call('GET', `${P}/export?format=label-studio`, tok.mgr)).json;
      assert.deepEqual(ls.map((x: { annotations: Array<{ ground_truth: boolean; result: Array<{ value: { choices: string[] } }> }> }) => x.annotations.find((a) => a.ground_truth)!.result[0].value.choices[0]), [...L, 'constructor', '__proto__']);

      const verify = (await api.call('GET', `${P}/audit/verify`, tok.adm)).json;
      assert.equal(verify.ok, true, JSON.stringify(verify));
    });

    test('multi-label: P(label applies) for every label, by majority vote and after a GLAD re-run', async () => {
      const { P } = await oddProject('oddm', 'multi', 3);
      const item = await label3(P, ['__proto__', 'constructor'], ['__proto__', 'constructor', 'valueOf'], ['__proto__', 'toString']);
      const r = (await api.call('GET', `${P}/labels/${item}`, tok.view)).json;
      assert.deepEqual([r.labels, r.source, r.confidence], [['__proto__', 'constructor'], 'consensus', 2 / 3]);
      assertPosterior(r.provenance.consensus.posterior, 'multi-label majority', 'multi');
      assert.deepEqual(L.map((l) => r.provenance.consensus.posterior[l]), [1, 2 / 3, 1 / 3, 0, 1 / 3, 0]);
      assert.equal((await api.call('PATCH', `${P}/settings`, tok.mgr, { consensus: { method: 'glad' } })).status, 200);
      assert.equal((await api.call('POST', `${P}/consensus/run`, tok.mgr)).status, 200);
      const g = (await api.call('GET', `${P}/labels/${item}`, tok.view)).json;
      assert.equal(g.provenance.consensus.method, 'glad');
      assertPosterior(g.provenance.consensus.posterior, 'multi-label GLAD', 'multi');
      const rows = (await api.call('GET', `${P}/export?format=jsonl`, tok.mgr)).text.trim().split('\n').map((l) => JSON.parse(l));
      assertPosterior(rows[0].provenance.consensus.posterior, 'multi-label JSONL export', 'multi');
    });

    test('source labels with those names: project stats, the corpus audit (class balance, conflicts) and drift (label shift)', async () => {
      const write = (name: string, recs: Array<[string, string]>) => {
        const p = join(dir, `${kind}-${name}.jsonl`);
        writeFileSync(p, recs.map(([text, label], i) => JSON.stringify({ id: `${name}-${i}`, text, label })).join('\n') + '\n');
        return p;
      };
      // 18 distinct texts, three of each label; two identical texts labelled __proto__ and constructor.
      const first: Array<[string, string]> = Array.from({ length: 18 }, (_, i) => [`reference sentence ${i} about ${['ships', 'trains', 'birds'][i % 3]} and the weather number ${i * 7}`, L[i % 6]]);
      first.push(['the very same words twice', '__proto__'], ['the very same words twice', 'constructor']);
      await runImport(t.store, { project: 'oddsrc', path: write('ref', first), format: 'jsonl', options: { idColumn: 'id' }, actor: 'cli:test' });
      const second: Array<[string, string]> = Array.from({ length: 12 }, (_, i) => [`a later sentence ${i} on ${['cars', 'rivers'][i % 2]} with count ${i * 3}`, i < 8 ? '__proto__' : 'valueOf']);
      await runImport(t.store, { project: 'oddsrc', path: write('cur', second), format: 'jsonl', options: { idColumn: 'id' }, actor: 'cli:test' });
      const project = await getProject(t.store.db, 'oddsrc');
      const reference = counts(L.map((l) => [l, 3 + (l === '__proto__' || l === 'constructor' ? 1 : 0)]));

      const stats = await projectStats(t.store.db, project.id);
      assert.deepEqual(stats.sourceLabels, counts(L.map((l) => [l, reference[l] + (l === '__proto__' ? 8 : l === 'valueOf' ? 4 : 0)])));

      const audit = await runAudit(t.store, { project: 'oddsrc', actor: 'cli:test', model: 'none' });
      assert.deepEqual(audit.classBalance.source.counts, stats.sourceLabels);
      assert.equal(audit.classBalance.source.total, 32);
      assert.equal(audit.labelConflicts.groups, 1, 'the identical texts labelled __proto__ and constructor conflict');
      assert.deepEqual(audit.labelConflicts.examples[0].labels, counts([['__proto__', 1], ['constructor', 1]]));

      const sources = (await t.store.db.selectFrom('import_sources').select('id').where('project_id', '=', project.id).orderBy('id').execute()).map((r) => r.id);
      const refIds = (await t.store.db.selectFrom('items').select('id').where('source_id', '=', sources[0]).orderBy('id').execute()).map((r) => r.id);
      const snapshot = await createSnapshot(t.store.db, project.id, 'reference', refIds, {});
      const drift = await projectDrift(t.store, project, { reference: snapshot, current: sources[1], features: { kind: 'raw' }, tests: ['ks'] });
      assert.deepEqual(drift.labels!.reference, reference);
      assert.deepEqual(drift.labels!.current, counts([['__proto__', 8], ['valueOf', 4]]));
      assert.equal(drift.labels!.chiSquare.dof, 5, 'six labels: five degrees of freedom');
    });
  });
}

test('the file CLIs: `tessera agreement` and `tessera consensus` with labels named __proto__, constructor, …', () => {
  const rows: string[] = [];
  for (let i = 0; i < 12; i++) for (const [w, k] of [['a', i], ['b', i], ['c', i + 1]] as const) rows.push(`${i},${w},${L[k % 6]}`);
  const file = (name: string, f: (l: string) => string) => {
    const p = join(dir, name);
    writeFileSync(p, 'item,annotator,label\n' + rows.map((r) => r.replace(/[^,]+$/, (l) => f(l))).join('\n') + '\n');
    return p;
  };
  const odd = file('odd.csv', (l) => l);
  const same = file('plain.csv', plain);
  for (const metric of ['fleiss', 'krippendorff', 'gwet', 'percent']) {
    const a = tessera(['agreement', odd, '--metric', metric, '--json'], {});
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(a.json, tessera(['agreement', same, '--metric', metric, '--json'], {}).json, metric);
    assert.equal(typeof a.json.value, 'number');
  }
  for (const method of ['mv', 'ds', 'one-coin', 'glad']) {
    const c = tessera(['consensus', odd, '--method', method, '--json'], {});
    assert.equal(c.code, 0, c.stderr);
    const p = tessera(['consensus', same, '--method', method, '--json'], {}).json;
    assert.deepEqual(c.json.labels.map((x: { label: string }) => plain(x.label)), p.labels.map((x: { label: string }) => x.label), method);
    assert.deepEqual(c.json.labels.map((x: { label: string }) => x.label), Array.from({ length: 12 }, (_, i) => L[i % 6]), method);
  }
  const csv = tessera(['consensus', odd, '--method', 'mv'], {});
  assert.equal(csv.code, 0, csv.stderr);
  assert.deepEqual(csv.stdout.trim().split('\n').slice(1, 7).map((l) => l.split(',')[1]), L);
  const bad = tessera(['consensus', odd, '--method', 'constructor', '--json'], {});
  assert.equal(bad.code, 2);
  assert.match(bad.json.error.message, /--method: expected mv\|dawid-skene\|one-coin\|glad, got "constructor"/);
  assert.ok(ODD.every((l) => csv.stdout.includes(`,${l},`)));
});
