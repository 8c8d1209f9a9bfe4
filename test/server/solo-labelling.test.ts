// Solo labelling: with the project setting `soloLabelling` on, an admin or a manager labels in
// that project with their own account — not blind, and recorded so (`blind: false` on the
// annotation, in provenance, in the export, and counted by the agreement report). Off (the
// default), the role matrix holds: only annotators reach the task routes.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { updateSettings } from '../../src/label/results.ts';
import { tessera } from '../helpers/cli.ts';
import { freshStore, type TestStore } from '../helpers/stores.ts';
import { OPERATOR, projectWithItems, startApi, usersWithRoles, type Api } from './helpers.ts';

const P = '/api/projects/solo';
const TASK_ROUTES = (task: number) => [
  ['POST', `${P}/tasks/next`, undefined],
  ['POST', `${P}/tasks/ahead`, { holding: [] }],
  ['POST', `${P}/tasks/${task}/submit`, { labels: ['a'], taxonomyVersion: 1 }],
  ['POST', `${P}/tasks/${task}/skip`, { reason: 'x' }],
  ['POST', `${P}/tasks/${task}/release`, undefined],
  ['GET', `${P}/annotations/mine`, undefined],
] as const;

describe('solo labelling (SQLite)', () => {
  let t: TestStore;
  let api: Api;
  let tok: Record<string, string>;

  before(async () => {
    t = await freshStore('sqlite');
    const p = await projectWithItems(t.store, 'solo', ['one', 'two', 'three', 'four', 'five']);
    await createTaxonomy(t.store, p, OPERATOR, { kind: 'single', labels: [{ name: 'a' }, { name: 'b' }] });
    await updateSettings(t.store, p, OPERATOR, { overlap: 2 });
    tok = await usersWithRoles(t.store, p, { boss: 'admin', mgr: 'manager', rev: 'reviewer', vw: 'viewer', ann: 'annotator' });
    api = await startApi(t.store);
  });
  after(async () => {
    await api?.close();
    await t.cleanup();
  });

  test('off by default: GET settings shows soloLabelling and servePrioritisedOnly false; only annotators reach the task routes', async () => {
    const s = (await api.call('GET', `${P}/settings`, tok.ann)).json;
    assert.equal(s.soloLabelling, false);
    assert.equal(s.servePrioritisedOnly, false);
    for (const who of ['boss', 'mgr', 'rev', 'vw']) {
      for (const [method, path, body] of TASK_ROUTES(999999)) {
        const res = await api.call(method, path, tok[who], body);
        assert.equal(res.status, 403, `${method} ${path} as ${who}: ${res.text}`);
      }
    }
  });

  test('on: an admin and a manager label (not blind), reviewers and viewers still may not', async () => {
    const patched = await api.call('PATCH', `${P}/settings`, tok.mgr, { soloLabelling: true });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.soloLabelling, true);
    assert.equal((await api.call('GET', `${P}/settings`, tok.vw)).json.soloLabelling, true);
    for (const who of ['rev', 'vw']) assert.equal((await api.call('POST', `${P}/tasks/next`, tok[who])).status, 403, who);
    // The first item gets a blind answer (the annotator) and a solo one (the admin): overlap 2 → final.
    const byAnn = (await api.call('POST', `${P}/tasks/next`, tok.ann)).json.task;
    assert.equal((await api.call('POST', `${P}/tasks/${byAnn.id}/submit`, tok.ann, { labels: ['a'], taxonomyVersion: 1 })).status, 201);
    const byBoss = (await api.call('POST', `${P}/tasks/next`, tok.boss)).json.task;
    assert.equal(byBoss.item.id, byAnn.item.id);
    const submitted = await api.call('POST', `${P}/tasks/${byBoss.id}/submit`, tok.boss, { labels: ['a'], taxonomyVersion: 1 });
    assert.equal(submitted.status, 201, submitted.text);
    const byMgr = (await api.call('POST', `${P}/tasks/next`, tok.mgr)).json.task;
    assert.notEqual(byMgr.item.id, byAnn.item.id, 'the first item has its two answers');
    assert.equal((await api.call('POST', `${P}/tasks/${byMgr.id}/skip`, tok.mgr, { reason: 'unsure' })).status, 201);
    assert.equal((await api.call('GET', `${P}/annotations/mine`, tok.boss)).json.annotations.length, 1);

    // Stored: blind 0 for the admin's answer and the manager's skip, 1 for the annotator's.
    const rows = await t.store.db.selectFrom('annotations').innerJoin('users', 'users.id', 'annotations.user_id').select(['users.name', 'annotations.blind']).orderBy('annotations.id').execute();
    assert.deepEqual(rows.map((r) => [r.name, r.blind]), [['ann', 1], ['boss', 0], ['mgr', 0]]);
    // Raw annotations, provenance of the final label, the export and the agreement report say so.
    const raw = (await api.call('GET', `${P}/annotations`, tok.rev)).json.annotations;
    assert.deepEqual(raw.map((a: { annotator: string; blind: boolean }) => [a.annotator, a.blind]), [['ann', true], ['boss', false], ['mgr', false]]);
    const final = (await api.call('GET', `${P}/labels/${byAnn.item.id}`, tok.vw)).json;
    assert.equal(final.source, 'consensus');
    assert.deepEqual(final.provenance.annotations.map((a: { annotator: string; blind?: boolean }) => [a.annotator, a.blind]), [['ann', undefined], ['boss', false]]);
    const exported = await api.call('GET', `${P}/export?format=jsonl`, tok.boss);
    assert.equal(exported.status, 200, exported.text);
    const line = JSON.parse(exported.text.trim().split('\n')[0]);
    assert.deepEqual(line.provenance.annotations.map((a: { annotator: string; blind?: boolean }) => [a.annotator, a.blind ?? true]), [['ann', true], ['boss', false]]);
    const agreement = (await api.call('GET', `${P}/agreement`, tok.vw)).json;
    assert.equal(agreement.answers, 2);
    assert.equal(agreement.nonBlindAnswers, 1);
    assert.match(agreement.note, /1 of the current answers were given without blindness/);
    // The audit log marks the solo lease and answer.
    const audit = await t.store.db.selectFrom('audit_events').select(['action', 'payload']).where('actor', '=', 'user:boss').where('action', 'in', ['task.lease', 'annotation.create']).execute();
    assert.deepEqual(audit.map((e) => [e.action, JSON.parse(e.payload).blind]), [['task.lease', false], ['annotation.create', false]]);
  });

  test('switched off again, the admin is refused at once (403); the role matrix holds', async () => {
    assert.equal((await api.call('PATCH', `${P}/settings`, tok.boss, { soloLabelling: false })).status, 200);
    for (const [method, path, body] of TASK_ROUTES(999999)) assert.equal((await api.call(method, path, tok.boss, body)).status, 403, `${method} ${path}`);
    assert.equal((await api.call('POST', `${P}/tasks/next`, tok.ann)).status, 200);
  });

  test('tessera label settings --solo-labelling and --serve-prioritised-only set both; the API shows them', () => {
    const r = tessera(['label', 'settings', '--project', 'solo', '--solo-labelling', 'true', '--serve-prioritised-only', 'true', '--json'], t.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.soloLabelling, true);
    assert.equal(r.json.servePrioritisedOnly, true);
    const shown = tessera(['label', 'settings', '--project', 'solo', '--json'], t.env);
    assert.equal(shown.json.soloLabelling, true);
    assert.equal(shown.json.servePrioritisedOnly, true);
    const off = tessera(['label', 'settings', '--project', 'solo', '--solo-labelling', 'false', '--serve-prioritised-only', 'false', '--json'], t.env);
    assert.equal(off.json.soloLabelling, false);
    assert.equal(off.json.servePrioritisedOnly, false);
    const bad = tessera(['label', 'settings', '--project', 'solo', '--solo-labelling', 'maybe'], t.env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--solo-labelling/);
  });

  test('PATCH settings refuses a soloLabelling that is not a boolean (400 naming it)', async () => {
    const res = await api.call('PATCH', `${P}/settings`, tok.boss, { soloLabelling: 'yes' });
    assert.equal(res.status, 400);
    assert.match(res.json.error.message, /soloLabelling/);
  });
});
