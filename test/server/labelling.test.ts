// The labelling flow through the real HTTP API (fetch against 127.0.0.1), on SQLite and
// PostgreSQL: blind overlap, leases, disagreement → review → final label with provenance,
// taxonomy migration → review, gold checks, export and audit verification.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { OPERATOR, projectWithItems, sleep, startApi, type Api } from './helpers.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { updateSettings } from '../../src/label/results.ts';
import type { Project } from '../../src/store/projects.ts';
import { createUser, setRole } from '../../src/label/users.ts';

const TAXONOMY = {
  kind: 'single' as const,
  labels: [
    { name: 'cat', description: 'a cat', examples: ['meow'] },
    { name: 'dog', description: 'a dog' },
    { name: 'bird' },
  ],
  guidelines: 'Label the animal the text is about.',
};

for (const kind of STORE_KINDS) {
  describe(`labelling over HTTP (${kind})`, () => {
    let t: TestStore;
    let api: Api;
    let tok: Record<string, string>;
    let P = '';
    const ROLES_OF = { 'ann-a': 'annotator', 'ann-b': 'annotator', 'ann-c': 'annotator', 'ann-d': 'annotator', 'ann-e': 'annotator', 'ann-f': 'annotator', rev: 'reviewer', mgr: 'manager', adm: 'admin', view: 'viewer' } as const;
    let n = 0;

    /** A fresh project per test (same users, same roles): tests do not see each other's leases. */
    async function freshProject(): Promise<Project> {
      const name = `zoo${++n}`;
      const project = await projectWithItems(t.store, name, ['a purring thing', 'a barking thing', 'a tweeting thing', 'something', 'another thing', 'last thing']);
      await createTaxonomy(t.store, project, OPERATOR, TAXONOMY);
      await updateSettings(t.store, project, OPERATOR, { overlap: 2, leaseSeconds: 60 });
      for (const [user, role] of Object.entries(ROLES_OF)) await setRole(t.store, project, OPERATOR, user, role);
      P = `/api/projects/${name}`;
      return project;
    }

    before(async () => {
      t = await freshStore(kind);
      tok = {};
      for (const name of Object.keys(ROLES_OF)) tok[name] = (await createUser(t.store, OPERATOR, name)).token.token;
      await freshProject();
      api = await startApi(t.store);
    });
    after(async () => {
      await api.close();
      await t.cleanup();
    });

    test('blind overlap: B sees nothing of A by any route; each item is served to N annotators, never twice to one', async () => {
      const items = (await api.call('GET', `${P}/items?limit=10`, tok.mgr)).json.items;
      const first = items[0].id;
      const sug = await api.call('PUT', `${P}/suggestions`, tok.mgr, { items: [{ itemId: first, labels: ['cat'], source: 'model-SECRET-7', confidence: 0.9 }] });
      assert.equal(sug.status, 200, sug.text);

      const a = (await api.call('POST', `${P}/tasks/next`, tok['ann-a'])).json.task;
      assert.equal(a.item.id, first);
      assert.deepEqual(a.suggestion, { labels: ['cat'] });
      assert.deepEqual(Object.keys(a.item).sort(), ['content', 'id', 'modality', 'text', 'values']);
      assert.equal(a.taxonomy.version, 1);
      assert.equal(a.taxonomy.guidelines, TAXONOMY.guidelines);
      // Asking again gives back the live lease, not a second item.
      assert.equal((await api.call('POST', `${P}/tasks/next`, tok['ann-a'])).json.task.id, a.id);
      const submitted = await api.call('POST', `${P}/tasks/${a.id}/submit`, tok['ann-a'], { labels: ['cat'], taxonomyVersion: 1, timeMs: 4242, question: true, comment: 'SECRET-COMMENT-A' });
      assert.equal(submitted.status, 201, submitted.text);
      assert.deepEqual(Object.keys(submitted.json).sort(), ['annotationId', 'taskId']);

      // A is never served the same item again; B gets it (overlap 2).
      const a2 = (await api.call('POST', `${P}/tasks/next`, tok['ann-a'])).json.task;
      assert.notEqual(a2.item.id, first);
      await api.call('POST', `${P}/tasks/${a2.id}/release`, tok['ann-a']);
      const b = (await api.call('POST', `${P}/tasks/next`, tok['ann-b'])).json.task;
      assert.equal(b.item.id, first);

      // Every route, as B, with real ids filled in: A's name, comment, the suggestion's source,
      // the items' source labels and metadata never appear; label-bearing routes are refused.
      const secrets = ['ann-a', 'SECRET-COMMENT-A', 'model-SECRET-7', 'secret-0', 'secret-1', '"note"', 'posterior', '"confidence"', '4242'];
      const sweep = async () => {
        for (const r of api.app.apiRoutes) {
          const path = r.url.replace(':project', 'zoo').replace(':item', String(first)).replace(':task', String(a.id)).replace(':review', '1').replace(':webhook', '1').replace(':user', 'ann-a');
          const res = await api.call(r.method, path, tok['ann-b'], r.method === 'GET' || r.method === 'DELETE' ? undefined : {});
          for (const s of secrets) assert.ok(!res.text.includes(s), `${r.method} ${r.url} (${res.status}) reveals ${s}: ${res.text.slice(0, 300)}`);
          if (['results.read', 'annotations.read', 'review.read', 'export', 'audit.read', 'items.read', 'gold.read'].includes(r.permission)) assert.equal(res.status, 403, `${r.method} ${r.url}`);
        }
      };
      await sweep();
      const bSubmit = await api.call('POST', `${P}/tasks/${b.id}/submit`, tok['ann-b'], { labels: ['cat'], taxonomyVersion: 1 });
      assert.equal(bSubmit.status, 201, bSubmit.text);
      await sweep(); // after submitting too: B never learns the consensus or A's answer
      const leftover = (await api.call('POST', `${P}/tasks/next`, tok['ann-b'])).json.task;
      if (leftover) await api.call('POST', `${P}/tasks/${leftover.id}/release`, tok['ann-b']);
      // A third annotator is not served the item: it has its N answers.
      const c = (await api.call('POST', `${P}/tasks/next`, tok['ann-c'])).json.task;
      assert.notEqual(c.item.id, first);
      await api.call('POST', `${P}/tasks/${c.id}/release`, tok['ann-c']);

      // Unanimous → final by consensus, with provenance (who, when, version, suggestion shown).
      const label = (await api.call('GET', `${P}/labels/${first}`, tok.view)).json;
      assert.deepEqual(label.labels, ['cat']);
      assert.equal(label.source, 'consensus');
      assert.equal(label.provenance.consensus.method, 'majority');
      assert.deepEqual(label.provenance.annotations.map((x: { annotator: string }) => x.annotator), ['ann-a', 'ann-b']);
      assert.deepEqual(label.provenance.annotations[0].suggestion, { labels: ['cat'], source: 'model-SECRET-7', confidence: 0.9 });
      assert.equal(label.provenance.annotations[0].timeMs, 4242);
      const questions = (await api.call('GET', `${P}/annotations?question=true`, tok.rev)).json.annotations;
      assert.deepEqual(questions.map((q: { comment: string }) => q.comment), ['SECRET-COMMENT-A']);
    });

    test('a disagreement lands in review; the reviewer decision becomes the final label with provenance', async () => {
      await freshProject();
      const a = (await api.call('POST', `${P}/tasks/next`, tok['ann-a'])).json.task;
      const b = (await api.call('POST', `${P}/tasks/next`, tok['ann-b'])).json.task;
      assert.equal(a.item.id, b.item.id);
      const item = a.item.id;
      assert.equal((await api.call('POST', `${P}/tasks/${a.id}/submit`, tok['ann-a'], { labels: ['dog'], taxonomyVersion: 1 })).status, 201);
      assert.equal((await api.call('POST', `${P}/tasks/${b.id}/submit`, tok['ann-b'], { labels: ['bird'], taxonomyVersion: 1 })).status, 201);

      const queue = (await api.call('GET', `${P}/reviews`, tok.rev)).json.reviews;
      const entry = queue.find((r: { itemId: number }) => r.itemId === item);
      assert.ok(entry, JSON.stringify(queue));
      assert.equal(entry.reason, 'disagreement');
      assert.equal(entry.proposal, null); // a 1–1 tie: nothing to accept
      assert.equal((await api.call('GET', `${P}/labels/${item}`, tok.view)).json.status, 'review');
      const detail = (await api.call('GET', `${P}/reviews/${entry.id}`, tok.rev)).json;
      assert.deepEqual(detail.annotations.map((x: { annotator: string; labels: string[] }) => [x.annotator, x.labels]), [['ann-a', ['dog']], ['ann-b', ['bird']]]);

      const accept = await api.call('POST', `${P}/reviews/${entry.id}/decision`, tok.rev, { decision: 'accept' });
      assert.equal(accept.status, 409);
      assert.equal(accept.json.error.code, 'E_NO_PROPOSAL');
      const bad = await api.call('POST', `${P}/reviews/${entry.id}/decision`, tok.rev, { decision: 'fix', labels: ['fish'] });
      assert.equal(bad.status, 400);
      const fix = await api.call('POST', `${P}/reviews/${entry.id}/decision`, tok.rev, { decision: 'fix', labels: ['dog'], note: 'barks' });
      assert.equal(fix.status, 200, fix.text);
      assert.equal((await api.call('POST', `${P}/reviews/${entry.id}/decision`, tok.rev, { decision: 'fix', labels: ['cat'] })).status, 409);

      const label = (await api.call('GET', `${P}/labels/${item}`, tok.view)).json;
      assert.equal(label.status, 'done');
      assert.deepEqual(label.labels, ['dog']);
      assert.equal(label.source, 'review');
      assert.equal(label.provenance.review.reviewer, 'user:rev');
      assert.equal(label.provenance.review.decision, 'fix');
      assert.equal(label.provenance.review.reason, 'disagreement');
      assert.equal(label.provenance.review.note, 'barks');
      assert.equal(label.provenance.consensus.labels, null);
      assert.deepEqual(label.provenance.annotations.map((x: { annotator: string }) => x.annotator), ['ann-a', 'ann-b']);
    });

    test('reject sends an item back to labelling in a new round, open to the same annotators', async () => {
      await freshProject();
      const a = (await api.call('POST', `${P}/tasks/next`, tok['ann-a'])).json.task;
      const b = (await api.call('POST', `${P}/tasks/next`, tok['ann-b'])).json.task;
      await api.call('POST', `${P}/tasks/${a.id}/submit`, tok['ann-a'], { labels: ['dog'], taxonomyVersion: 1 });
      await api.call('POST', `${P}/tasks/${b.id}/submit`, tok['ann-b'], { labels: ['cat'], taxonomyVersion: 1 });
      const entry = (await api.call('GET', `${P}/reviews`, tok.rev)).json.reviews.find((r: { itemId: number }) => r.itemId === a.item.id);
      const rej = await api.call('POST', `${P}/reviews/${entry.id}/decision`, tok.mgr, { decision: 'reject', note: 'unclear' });
      assert.equal(rej.status, 200, rej.text);
      assert.equal(rej.json.round, 1);
      const again = (await api.call('POST', `${P}/tasks/next`, tok['ann-a'])).json.task;
      assert.equal(again.item.id, a.item.id);
      await api.call('POST', `${P}/tasks/${again.id}/release`, tok['ann-a']);
    });

    test('leases expire: the item returns to the queue, the late submit is refused, never served twice', async () => {
      await freshProject();
      await api.call('PATCH', `${P}/settings`, tok.mgr, { overlap: 1, leaseSeconds: 0.3 });
      try {
        const a = (await api.call('POST', `${P}/tasks/next`, tok['ann-a'])).json.task;
        const b = (await api.call('POST', `${P}/tasks/next`, tok['ann-b'])).json.task;
        assert.notEqual(b.item.id, a.item.id, 'overlap 1: a leased item is not served to a second annotator');
        await sleep(400);
        const c = (await api.call('POST', `${P}/tasks/next`, tok['ann-c'])).json.task;
        assert.equal(c.item.id, a.item.id, 'the expired lease freed the item');
        const late = await api.call('POST', `${P}/tasks/${a.id}/submit`, tok['ann-a'], { labels: ['cat'], taxonomyVersion: 1 });
        assert.equal(late.status, 409);
        assert.equal(late.json.error.code, 'E_LEASE_EXPIRED');
        const a2 = (await api.call('POST', `${P}/tasks/next`, tok['ann-a'])).json.task;
        assert.notEqual(a2.item.id, a.item.id, 'never the same item twice to one annotator');
        for (const [who, task] of [['ann-c', c], ['ann-a', a2]] as const) await api.call('POST', `${P}/tasks/${task.id}/release`, tok[who]);
        // Skips need a reason and free the slot.
        const s = (await api.call('POST', `${P}/tasks/next`, tok['ann-b'])).json.task;
        assert.equal((await api.call('POST', `${P}/tasks/${s.id}/skip`, tok['ann-b'], { reason: '' })).status, 400);
        assert.equal((await api.call('POST', `${P}/tasks/${s.id}/skip`, tok['ann-b'], { reason: 'unreadable' })).status, 201);
        const mine = (await api.call('GET', `${P}/annotations/mine`, tok['ann-b'])).json.annotations;
        assert.equal(mine.at(-1).skipReason, 'unreadable');
      } finally {
        await api.call('PATCH', `${P}/settings`, tok.mgr, { overlap: 2, leaseSeconds: 60 });
      }
    });

    /** A and B label the next item; returns its id. */
    async function pair(la: string[], lb: string[], version = 1): Promise<number> {
      const a = (await api.call('POST', `${P}/tasks/next`, tok['ann-a'])).json.task;
      const b = (await api.call('POST', `${P}/tasks/next`, tok['ann-b'])).json.task;
      assert.equal(a.item.id, b.item.id);
      assert.equal((await api.call('POST', `${P}/tasks/${a.id}/submit`, tok['ann-a'], { labels: la, taxonomyVersion: version })).status, 201);
      assert.equal((await api.call('POST', `${P}/tasks/${b.id}/submit`, tok['ann-b'], { labels: lb, taxonomyVersion: version })).status, 201);
      return a.item.id;
    }

    test('a taxonomy change (rename, merge, split) sends the items it touches to review; stale answers are refused', async () => {
      await freshProject();
      const cat = await pair(['cat'], ['cat']);
      const dog = await pair(['dog'], ['dog']);
      const bird = await pair(['bird'], ['bird']);
      const held = (await api.call('POST', `${P}/tasks/next`, tok['ann-c'])).json.task;
      const change = await api.call('POST', `${P}/taxonomy`, tok.mgr, {
        kind: 'single',
        labels: [{ name: 'pet' }, { name: 'songbird' }, { name: 'raptor' }, { name: 'fish' }],
        guidelines: 'v2',
        mapping: [
          { op: 'merge', from: ['cat', 'dog'], to: 'pet' },
          { op: 'split', from: 'bird', to: ['songbird', 'raptor'] },
        ],
      });
      assert.equal(change.status, 201, change.text);
      assert.equal(change.json.taxonomy.version, 2);
      assert.deepEqual(change.json.touched.sort(), ['bird', 'cat', 'dog']);
      assert.equal(change.json.sentToReview, 3);
      const stale = await api.call('POST', `${P}/tasks/${held.id}/submit`, tok['ann-c'], { labels: ['cat'], taxonomyVersion: 1 });
      assert.equal(stale.status, 409);
      assert.equal(stale.json.error.code, 'E_TAXONOMY_CHANGED');
      const reviews = (await api.call('GET', `${P}/reviews?reason=taxonomy_change`, tok.rev)).json.reviews;
      const of = (item: number) => reviews.find((r: { itemId: number }) => r.itemId === item);
      assert.deepEqual(of(cat).proposal, ['pet']);
      assert.deepEqual(of(dog).proposal, ['pet']);
      assert.equal(of(bird).proposal, null, 'a split needs a person to choose');
      assert.equal((await api.call('GET', `${P}/labels/${bird}`, tok.view)).json.status, 'review');
      assert.equal((await api.call('POST', `${P}/reviews/${of(cat).id}/decision`, tok.rev, { decision: 'accept' })).status, 200);
      assert.equal((await api.call('POST', `${P}/reviews/${of(bird).id}/decision`, tok.rev, { decision: 'fix', labels: ['raptor'] })).status, 200);
      const after = (await api.call('GET', `${P}/labels/${cat}`, tok.view)).json;
      assert.deepEqual(after.labels, ['pet']);
      assert.equal(after.taxonomyVersion, 2);
      assert.deepEqual((await api.call('GET', `${P}/labels/${bird}`, tok.view)).json.labels, ['raptor']);
      const versions = (await api.call('GET', `${P}/taxonomy/versions`, tok['ann-a'])).json.versions;
      assert.equal(versions[1].mapping.length, 2);
      const bad = await api.call('POST', `${P}/taxonomy`, tok.mgr, { kind: 'single', labels: [{ name: 'pet' }, { name: 'fish' }] });
      assert.equal(bad.status, 400, 'labels dropped without a mapping');
      assert.match(bad.json.error.message, /"songbird", "raptor"/);
      await api.call('POST', `${P}/tasks/${held.id}/release`, tok['ann-c']);
    });

    test('gold items at a set rate measure annotator accuracy; a failed gold check goes to review and alerts', async () => {
      await freshProject();
      const items = (await api.call('GET', `${P}/items?limit=10`, tok.mgr)).json.items;
      const goldItem = items[items.length - 1].id;
      const set = await api.call('PUT', `${P}/gold`, tok.mgr, { items: [{ itemId: goldItem, labels: ['bird'] }] });
      assert.equal(set.status, 200, set.text);
      await api.call('PATCH', `${P}/settings`, tok.mgr, { gold: { rate: 1, minAnswers: 1, threshold: 0.9 } });
      const g = (await api.call('POST', `${P}/tasks/next`, tok['ann-a'])).json.task;
      assert.equal(g.item.id, goldItem);
      assert.ok(!JSON.stringify(g).includes('gold'), 'annotators cannot tell gold items apart');
      assert.equal((await api.call('POST', `${P}/tasks/${g.id}/submit`, tok['ann-a'], { labels: ['dog'], taxonomyVersion: 1 })).status, 201);
      const gb = (await api.call('POST', `${P}/tasks/next`, tok['ann-b'])).json.task;
      assert.equal(gb.item.id, goldItem, 'every annotator meets each gold item once');
      assert.equal((await api.call('POST', `${P}/tasks/${gb.id}/submit`, tok['ann-b'], { labels: ['bird'], taxonomyVersion: 1 })).status, 201);
      const report = (await api.call('GET', `${P}/gold/report`, tok.mgr)).json;
      assert.deepEqual(report.annotators.map((x: { annotator: string; correct: number; total: number }) => [x.annotator, x.correct, x.total]), [['ann-a', 0, 1], ['ann-b', 1, 1]]);
      assert.deepEqual(report.alerts.map((x: { annotator: string }) => x.annotator), ['ann-a']);
      const entries = (await api.call('GET', `${P}/reviews?reason=gold_failed`, tok.rev)).json.reviews;
      assert.equal(entries.length, 1);
      assert.equal(entries[0].itemId, goldItem);
      assert.deepEqual(entries[0].proposal, ['bird']);
      assert.equal(entries[0].detail.annotator, 'ann-a');
      assert.equal((await api.call('POST', `${P}/reviews/${entries[0].id}/decision`, tok.rev, { decision: 'accept' })).status, 200);
      const events = (await api.call('GET', `${P}/audit?limit=1000`, tok.adm)).json.events;
      assert.deepEqual(events.filter((e: { action: string }) => e.action === 'gold.alert').map((e: { subject: string }) => e.subject), ['annotator:ann-a']);
      // Gold is served once per annotator; then regular items follow.
      const next = (await api.call('POST', `${P}/tasks/next`, tok['ann-a'])).json.task;
      assert.notEqual(next.item.id, goldItem);
      await api.call('POST', `${P}/tasks/${next.id}/release`, tok['ann-a']);
    });

    test('export (JSONL, CSV, Label Studio) carries provenance; agreement and audit verify answer', async () => {
      await freshProject();
      await pair(['cat'], ['cat']);
      const disputed = await pair(['dog'], ['bird']);
      const entry = (await api.call('GET', `${P}/reviews`, tok.rev)).json.reviews[0];
      await api.call('POST', `${P}/reviews/${entry.id}/decision`, tok.rev, { decision: 'fix', labels: ['bird'] });
      const s = (await api.call('POST', `${P}/tasks/next`, tok['ann-c'])).json.task;
      await api.call('POST', `${P}/tasks/${s.id}/skip`, tok['ann-c'], { reason: 'empty' });

      const jsonl = await api.call('GET', `${P}/export?format=jsonl`, tok.mgr);
      assert.equal(jsonl.status, 200);
      const rows = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(rows.length, 2);
      assert.ok(rows.every((r) => r.provenance && r.sha256 && r.labels && r.sourceKey));
      assert.equal(rows[1].item, disputed);
      assert.equal(rows[1].provenance.review.reviewer, 'user:rev');
      const csv = await api.call('GET', `${P}/export?format=csv`, tok.adm);
      const lines = csv.text.trim().split('\n');
      assert.equal(lines[0], 'item,source_key,labels,source,confidence,taxonomy_version,decided_at,method,annotators,annotator_labels,reviewer,review_decision,review_reason,sha256,modality,text,values,content_url,mime,meta');
      assert.equal(lines.length, 3);
      assert.match(lines[2], /,bird,review,,1,.*,majority,ann-a\|ann-b,dog\|bird,user:rev,fix,disagreement,[0-9a-f]{64},text,/);
      const ls = (await api.call('GET', `${P}/export?format=label-studio`, tok.mgr)).json;
      assert.equal(ls.length, 2);
      assert.equal(ls[1].annotations.length, 3);
      assert.deepEqual(ls[1].annotations.find((a: { ground_truth: boolean }) => a.ground_truth).result[0].value.choices, ['bird']);
      assert.equal((await api.call('GET', `${P}/export?format=xml`, tok.mgr)).status, 400);

      const agreement = await api.call('GET', `${P}/agreement`, tok.view);
      assert.equal(agreement.status, 200, agreement.text);
      assert.equal(agreement.json.items, 2);
      assert.equal(agreement.json.overall.percent, 0.5);
      assert.deepEqual(agreement.json.pairwise.annotators, ['ann-a', 'ann-b']);
      assert.deepEqual(agreement.json.pairwise.n, [[2, 2], [2, 2]]);
      const verify = (await api.call('GET', `${P}/audit/verify`, tok.adm)).json;
      assert.equal(verify.ok, true);
      assert.equal(verify.firstBad, null);
      const actions = new Set((await api.call('GET', `${P}/audit?limit=1000`, tok.adm)).json.events.map((e: { action: string }) => e.action));
      for (const a of ['import', 'taxonomy.create', 'member.set', 'settings.update', 'task.lease', 'annotation.create', 'annotation.skip', 'consensus.reached', 'review.queue', 'review.decide', 'export']) assert.ok(actions.has(a), a);
    });

    test('priority from a selection strategy orders the queue (higher first), then import order', async () => {
      await freshProject();
      const ids = (await api.call('GET', `${P}/items`, tok.mgr)).json.items.map((i: { id: number }) => i.id);
      const set = await api.call('PUT', `${P}/priorities`, tok.mgr, { items: [{ itemId: ids[4], priority: 0.2 }, { itemId: ids[2], priority: 0.9 }] });
      assert.equal(set.status, 200, set.text);
      const order: number[] = [];
      for (const w of ['ann-a', 'ann-c', 'ann-e']) {
        const t1 = (await api.call('POST', `${P}/tasks/next`, tok[w])).json.task;
        order.push(t1.item.id);
        await api.call('POST', `${P}/tasks/${t1.id}/submit`, tok[w], { labels: ['cat'], taxonomyVersion: 1, timeMs: 10 });
      }
      // Overlap 2: the top item takes two annotators, then the next priority.
      assert.deepEqual(order, [ids[2], ids[2], ids[4]]);
      const rest = (await api.call('POST', `${P}/tasks/next`, tok['ann-b'])).json.task;
      assert.equal(rest.item.id, ids[4]);
      await api.call('POST', `${P}/tasks/${rest.id}/release`, tok['ann-b']);
      const plain = (await api.call('POST', `${P}/tasks/next`, tok['ann-d'])).json.task;
      assert.equal(plain.item.id, ids[4], 'ann-d has not seen it: still the priority item');
      const after = (await api.call('POST', `${P}/tasks/next`, tok['ann-f'])).json.task;
      assert.equal(after.item.id, ids[0], 'then import order');
    });

    test('lowering the overlap settles items that already have enough answers', async () => {
      await freshProject();
      const a = (await api.call('POST', `${P}/tasks/next`, tok['ann-a'])).json.task;
      await api.call('POST', `${P}/tasks/${a.id}/submit`, tok['ann-a'], { labels: ['bird'], taxonomyVersion: 1 });
      assert.equal((await api.call('GET', `${P}/labels/${a.item.id}`, tok.view)).json.status, 'open');
      assert.equal((await api.call('PATCH', `${P}/settings`, tok.mgr, { overlap: 1 })).status, 200);
      const l = (await api.call('GET', `${P}/labels/${a.item.id}`, tok.view)).json;
      assert.deepEqual([l.status, l.labels, l.source], ['done', ['bird'], 'consensus']);
    });

    test('concurrent requests never over-serve an item: at most N live leases each', async () => {
      await freshProject();
      const who = ['ann-a', 'ann-b', 'ann-c', 'ann-d', 'ann-e', 'ann-f'];
      const tasks = await Promise.all(who.map(async (w) => (await api.call('POST', `${P}/tasks/next`, tok[w])).json.task));
      const perItem = new Map<number, number>();
      for (const t of tasks) perItem.set(t.item.id, (perItem.get(t.item.id) ?? 0) + 1);
      assert.deepEqual([...perItem.values()], [2, 2, 2]);
      await Promise.all(tasks.map((t, i) => api.call('POST', `${P}/tasks/${t.id}/release`, tok[who[i]])));
    });

    test('multi-label items and Dawid-Skene consensus', async () => {
      await freshProject();
      const mt = await api.call('POST', `${P}/taxonomy`, tok.mgr, { kind: 'multi', labels: [{ name: 'cat' }, { name: 'dog' }, { name: 'bird' }, { name: 'outdoor' }], guidelines: 'all that apply' });
      assert.equal(mt.status, 201, mt.text);
      assert.equal((await api.call('PATCH', `${P}/settings`, tok.mgr, { consensus: { method: 'dawid-skene' }, reviewThreshold: 0.5 })).status, 200);
      const both = await pair(['cat', 'outdoor'], ['outdoor', 'cat'], 2);
      const label = (await api.call('GET', `${P}/labels/${both}`, tok.view)).json;
      assert.deepEqual(label.labels.sort(), ['cat', 'outdoor']);
      assert.equal(label.provenance.consensus.method, 'dawid-skene');
      assert.ok(label.confidence > 0.5 && label.confidence <= 1);
      const split = await pair(['dog'], ['dog', 'outdoor'], 2);
      assert.equal((await api.call('GET', `${P}/labels/${split}`, tok.view)).json.status, 'review');
      const none = await api.call('POST', `${P}/tasks/next`, tok['ann-a']);
      assert.equal((await api.call('POST', `${P}/tasks/${none.json.task.id}/submit`, tok['ann-a'], { labels: [], taxonomyVersion: 2 })).status, 201, 'no label applies');
      const rerun = await api.call('POST', `${P}/consensus/run`, tok.mgr);
      assert.equal(rerun.status, 200, rerun.text);
      assert.equal(rerun.json.items, 1);
      const agreement = (await api.call('GET', `${P}/agreement`, tok.view)).json;
      assert.equal(agreement.kind, 'multi');
      assert.deepEqual(agreement.perLabel.map((l: { label: string }) => l.label), ['cat', 'dog', 'bird', 'outdoor']);
    });
  });
}
