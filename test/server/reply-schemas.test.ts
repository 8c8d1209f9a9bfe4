// The reply schemas (src/server/replies/*.ts), which the web UI's types are derived from, against
// real replies of a server over a seeded store, on SQLite and PostgreSQL: every listed field is
// there with its type, and (schemas closed for the check) nothing is sent that they do not list.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { OPERATOR, projectWithItems, startApi, type Api } from './helpers.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { updateSettings } from '../../src/label/results.ts';
import { createUser, setRole } from '../../src/label/users.ts';
import { AuditEvents, Taxonomy } from '../../src/server/replies/common.ts';
import { AuthConfig, IssuedToken, Me, Members, Users } from '../../src/server/replies/account.ts';
import { ImportOutcome, LabelSettings, NextTask, ProjectSummary, TaskAhead, TaxonomyChange, TaxonomyPreview, TaxonomyVersions } from '../../src/server/replies/labelling.ts';
import { Agreement, Annotations, BulkLabelled, Dashboard, FinalLabel, MapData, ReviewDetail, Reviews, VerifyResult } from '../../src/server/replies/results.ts';

/** A copy of a schema whose objects refuse properties they do not list (records and unknowns stay open). */
function closed<T>(s: T): T {
  if (Array.isArray(s)) return s.map(closed) as T;
  if (!s || typeof s !== 'object') return s;
  // Spreading keeps TypeBox's symbol keys (Kind, OptionalKind), which Value.Check reads.
  const out: Record<string | symbol, unknown> = { ...(s as object) };
  for (const k of Object.keys(out)) out[k] = closed(out[k]);
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out as T;
}

function fits(schema: TSchema, reply: { status: number; json: unknown; text: string }, what: string) {
  assert.ok(reply.status >= 200 && reply.status < 300, `${what}: ${reply.status} ${reply.text}`);
  const errors = [...Value.Errors(closed(schema), reply.json)].slice(0, 8).map((e) => `${e.path}: ${e.message} (${JSON.stringify(e.value)?.slice(0, 120)})`);
  assert.deepEqual(errors, [], `${what} does not fit its schema`);
}

const TAXONOMY = { kind: 'single' as const, labels: [{ name: 'cat', description: 'a cat', examples: ['meow'] }, { name: 'dog' }, { name: 'bird' }], guidelines: 'The animal.' };

for (const kind of STORE_KINDS) {
  describe(`reply schemas fit real replies (${kind})`, () => {
    let t: TestStore;
    let api: Api;
    const tok: Record<string, string> = {};
    const P = '/api/projects/shapes';
    const ROLES_OF = { 'ann-a': 'annotator', 'ann-b': 'annotator', rev: 'reviewer', mgr: 'manager' } as const;

    before(async () => {
      t = await freshStore(kind);
      const project = await projectWithItems(t.store, 'shapes', ['a purring thing', 'a barking thing', 'a tweeting thing', 'something else']);
      await createTaxonomy(t.store, project, OPERATOR, TAXONOMY);
      await updateSettings(t.store, project, OPERATOR, { overlap: 2, leaseSeconds: 60 });
      for (const [user, role] of Object.entries(ROLES_OF)) {
        tok[user] = (await createUser(t.store, OPERATOR, user)).token.token;
        await setRole(t.store, project, OPERATOR, user, role);
      }
      tok.root = (await createUser(t.store, OPERATOR, 'root', 'Root', { admin: true })).token.token;
      await setRole(t.store, project, OPERATOR, 'root', 'admin');
      api = await startApi(t.store);
    });
    after(async () => {
      await api?.close();
      await t.cleanup();
    });

    test('labelling: tasks, submits that disagree and agree, reviews, final labels, bulk labels', async () => {
      const items = (await api.call('GET', `${P}/items?limit=10`, tok.mgr)).json.items as Array<{ id: number }>;
      assert.equal((await api.call('PUT', `${P}/suggestions`, tok.mgr, { items: [{ itemId: items[0].id, labels: ['cat'], source: 'model-7', confidence: 0.9 }] })).status, 200);
      // a: cat, cat; b: dog, cat: the first item goes to review, the second is decided.
      for (const [user, answers] of [['ann-a', ['cat', 'cat']], ['ann-b', ['dog', 'cat']]] as const) {
        for (const [i, label] of answers.entries()) {
          const r = i === 0 ? await api.call('POST', `${P}/tasks/ahead`, tok[user], { holding: [] }) : await api.call('POST', `${P}/tasks/next`, tok[user], {});
          fits(i === 0 ? TaskAhead : NextTask, r, `${user}: task ${i}`);
          const task = r.json.task;
          assert.equal((await api.call('POST', `${P}/tasks/${task.id}/submit`, tok[user], { labels: [label], taxonomyVersion: task.taxonomy.version })).status, 201);
        }
      }
      const reviews = await api.call('GET', `${P}/reviews?limit=200`, tok.rev);
      fits(Reviews, reviews, 'reviews');
      assert.equal(reviews.json.reviews.length, 1);
      fits(ReviewDetail, await api.call('GET', `${P}/reviews/${reviews.json.reviews[0].id}`, tok.rev), 'review detail');
      for (const item of items.slice(0, 3)) {
        fits(FinalLabel, await api.call('GET', `${P}/labels/${item.id}`, tok.mgr), `final label of ${item.id}`);
        fits(Annotations, await api.call('GET', `${P}/items/${item.id}/annotations`, tok.mgr), `annotations of ${item.id}`);
      }
      fits(BulkLabelled, await api.call('POST', `${P}/labels/bulk`, tok.rev, { itemIds: [items[1].id, items[3].id], labels: ['bird'], note: 'lasso' }), 'bulk label');
    });

    test('results: dashboard, agreement, map, audit', async () => {
      fits(Dashboard, await api.call('GET', `${P}/dashboard`, tok.mgr), 'dashboard');
      fits(Agreement, await api.call('GET', `${P}/agreement`, tok.mgr), 'agreement');
      const map = await api.call('GET', `${P}/map?limit=100`, tok.mgr);
      fits(MapData, map, 'map');
      assert.equal(map.json.source.kind, 'raw');
      fits(AuditEvents, await api.call('GET', `${P}/audit/recent?limit=15`, tok.mgr), 'recent audit events');
      fits(AuditEvents, await api.call('GET', `${P}/audit?after=0&limit=50`, tok.mgr), 'audit events');
      fits(VerifyResult, await api.call('GET', `${P}/audit/verify`, tok.mgr), 'audit verification');
    });

    test('taxonomy: current, versions, preview, a new version', async () => {
      fits(Taxonomy, await api.call('GET', `${P}/taxonomy`, tok['ann-a']), 'taxonomy');
      const next = { ...TAXONOMY, labels: [{ name: 'feline' }, { name: 'dog' }, { name: 'bird' }], mapping: [{ op: 'rename', from: 'cat', to: 'feline' }] };
      const preview = await api.call('POST', `${P}/taxonomy/preview`, tok.mgr, next);
      fits(TaxonomyPreview, preview, 'taxonomy preview');
      assert.ok(preview.json.items.length > 0);
      fits(TaxonomyChange, await api.call('POST', `${P}/taxonomy`, tok.mgr, next), 'new taxonomy version');
      const versions = await api.call('GET', `${P}/taxonomy/versions`, tok.mgr);
      fits(TaxonomyVersions, versions, 'taxonomy versions');
      assert.equal(versions.json.versions.length, 2);
    });

    test('account and project: me, sign-in config, users, tokens, members, summary, settings', async () => {
      fits(Me, await api.call('GET', '/api/me', tok['ann-a']), 'me (annotator)');
      fits(Me, await api.call('GET', '/api/me', tok.root), 'me (instance admin)');
      fits(AuthConfig, await api.call('GET', '/auth/config'), 'auth config');
      fits(Users, await api.call('GET', '/api/users', tok.root), 'users');
      fits(IssuedToken, await api.call('POST', '/api/users', tok.root, { name: 'newcomer', displayName: 'New Comer' }), 'new user');
      fits(IssuedToken, await api.call('POST', '/api/users/newcomer/tokens', tok.root, {}), 'new token');
      fits(Members, await api.call('GET', `${P}/members`, tok.mgr), 'members');
      fits(ProjectSummary, await api.call('GET', P, tok.mgr), 'project summary (manager)');
      fits(ProjectSummary, await api.call('GET', P, tok['ann-a']), 'project summary (annotator)');
      fits(LabelSettings, await api.call('GET', `${P}/settings`, tok['ann-a']), 'settings');
    });

    test('a taxonomy of several questions: tasks with dimensions, answers in reviews, the dashboard by question', async () => {
      const project = await projectWithItems(t.store, 'shapes-q', ['a purring thing', 'a barking thing']);
      await createTaxonomy(t.store, project, OPERATOR, {
        questions: [
          { name: 'animal', kind: 'single', labels: [{ name: 'cat' }, { name: 'dog' }] },
          { name: 'mood', kind: 'rating', scale: { min: 1, max: 5 } },
        ],
        guidelines: 'The animal, and how happy it sounds.',
      });
      await updateSettings(t.store, project, OPERATOR, { overlap: 2, leaseSeconds: 60 });
      for (const user of Object.keys(ROLES_OF)) await setRole(t.store, project, OPERATOR, user, ROLES_OF[user as keyof typeof ROLES_OF]);
      const Q = '/api/projects/shapes-q';
      for (const [user, animal, mood] of [['ann-a', 'cat', 3], ['ann-b', 'dog', 4]] as const) {
        const r = await api.call('POST', `${Q}/tasks/next`, tok[user], {});
        fits(NextTask, r, `${user}: task of questions`);
        assert.ok(r.json.task.item.dimensions, 'a task beyond one legacy question carries the dimensions');
        const s = await api.call('POST', `${Q}/tasks/${r.json.task.id}/submit`, tok[user], { answers: { animal: [animal], mood }, taxonomyVersion: r.json.task.taxonomy.version });
        assert.equal(s.status, 201, s.text);
      }
      fits(Taxonomy, await api.call('GET', `${Q}/taxonomy`, tok.mgr), 'taxonomy of questions');
      const reviews = await api.call('GET', `${Q}/reviews`, tok.rev);
      fits(Reviews, reviews, 'reviews (questions)');
      assert.equal(reviews.json.reviews.length, 1);
      fits(ReviewDetail, await api.call('GET', `${Q}/reviews/${reviews.json.reviews[0].id}`, tok.rev), 'review detail (questions)');
      const item = reviews.json.reviews[0].itemId;
      fits(FinalLabel, await api.call('GET', `${Q}/labels/${item}`, tok.mgr), 'final label (questions)');
      fits(Annotations, await api.call('GET', `${Q}/items/${item}/annotations`, tok.mgr), 'annotations (questions)');
      const dash = await api.call('GET', `${Q}/dashboard`, tok.mgr);
      fits(Dashboard, dash, 'dashboard (questions)');
      assert.equal(dash.json.questions.length, 2);
      fits(Agreement, await api.call('GET', `${Q}/agreement`, tok.mgr), 'agreement (questions)');
    });

    test('imports: a success and a refusal carry the outcome', async () => {
      const upload = async (body: string) => {
        const res = await fetch(`${api.base}${P}/imports?name=more.jsonl&format=jsonl`, { method: 'POST', headers: { authorization: `Bearer ${tok.root}`, 'content-type': 'application/octet-stream' }, body });
        const text = await res.text();
        return { status: res.status, text, json: JSON.parse(text) as unknown };
      };
      fits(ImportOutcome, await upload(`${JSON.stringify({ text: 'one more thing' })}\n`), 'import');
      const refused = await upload(`${JSON.stringify({ text: 'fine' })}\n{not json\n`);
      assert.equal(refused.status, 400, refused.text);
      fits(ImportOutcome, { ...refused, status: 200 }, 'refused import');
    });
  });
}
