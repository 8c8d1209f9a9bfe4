// Shared setup for the end-to-end tests of question kinds (kinds-*.test.ts): a server on a fresh
// store, two annotators (blind overlap 2), a reviewer and a manager, and small HTTP helpers.
import assert from 'node:assert/strict';
import { createUser, setRole } from '../../src/label/users.ts';
import type { Store } from '../../src/store/db.ts';
import type { Project } from '../../src/store/projects.ts';
import { OPERATOR, startApi, type Api } from './helpers.ts';

export const PEOPLE = { 'ann-a': 'annotator', 'ann-b': 'annotator', rev: 'reviewer', mgr: 'manager' } as const;

export interface Kit {
  api: Api;
  tok: Record<string, string>;
  close(): Promise<void>;
}

export async function startKit(store: Store): Promise<Kit> {
  const tok: Record<string, string> = {};
  for (const name of Object.keys(PEOPLE)) tok[name] = (await createUser(store, OPERATOR, name)).token.token;
  const api = await startApi(store);
  return { api, tok, close: () => api.close() };
}

/** Members in their roles, the taxonomy over HTTP, overlap 2 with review on disagreement. */
export async function setUp(kit: Kit, store: Store, project: Project, taxonomy: unknown): Promise<string> {
  for (const [user, role] of Object.entries(PEOPLE)) await setRole(store, project, OPERATOR, user, role);
  const P = `/api/projects/${project.name}`;
  const tax = await kit.api.call('POST', `${P}/taxonomy`, kit.tok.mgr, taxonomy);
  assert.equal(tax.status, 201, tax.text);
  const s = await kit.api.call('PATCH', `${P}/settings`, kit.tok.mgr, { overlap: 2 });
  assert.equal(s.status, 200, s.text);
  return P;
}

export type Task = { id: number; item: { id: number; text: string | null; dimensions?: Record<string, number> }; taxonomy: { version: number; questions: Array<{ name: string }>; kind?: string }; suggestion: { labels: string[]; answers?: Record<string, unknown> } | null };

export async function next(kit: Kit, P: string, who: string): Promise<Task> {
  const r = await kit.api.call('POST', `${P}/tasks/next`, kit.tok[who]);
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.task, `${who} gets a task`);
  return r.json.task;
}

export async function submit(kit: Kit, P: string, who: string, task: Task, answers: Record<string, unknown>): Promise<void> {
  const r = await kit.api.call('POST', `${P}/tasks/${task.id}/submit`, kit.tok[who], { answers, taxonomyVersion: task.taxonomy.version, timeMs: 1000 });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(Object.keys(r.json).sort(), ['annotationId', 'taskId'], 'blind: a submit answers ids only');
}

/** ann-a and ann-b each take their next task — the same item (overlap 2) — and answer it. */
export async function labelBoth(kit: Kit, P: string, a: Record<string, unknown>, b: Record<string, unknown>): Promise<number> {
  const ta = await next(kit, P, 'ann-a');
  const tb = await next(kit, P, 'ann-b');
  assert.equal(ta.item.id, tb.item.id, 'overlap 2: both annotators get the same item');
  await submit(kit, P, 'ann-a', ta, a);
  await submit(kit, P, 'ann-b', tb, b);
  return ta.item.id;
}

/** The open review entry of an item (reviewer's view). */
export async function reviewOf(kit: Kit, P: string, itemId: number) {
  const r = await kit.api.call('GET', `${P}/reviews`, kit.tok.rev);
  assert.equal(r.status, 200, r.text);
  const e = r.json.reviews.find((x: { itemId: number }) => x.itemId === itemId);
  assert.ok(e, `item ${itemId} is in review`);
  return e as { id: number; reason: string; proposal: string[] | null; proposalAnswers: Record<string, unknown> | null; detail: Record<string, any> };
}

export async function finalOf(kit: Kit, P: string, itemId: number) {
  const r = await kit.api.call('GET', `${P}/labels/${itemId}`, kit.tok.rev);
  assert.equal(r.status, 200, r.text);
  return r.json as { status: string; labels: string[] | null; answers?: Record<string, unknown>; source: string; provenance: Record<string, any> };
}

export async function exportOf(kit: Kit, P: string, format: string, extra = ''): Promise<string> {
  const r = await kit.api.call('GET', `${P}/export?format=${format}${extra}`, kit.tok.mgr);
  assert.equal(r.status, 200, r.text);
  return r.text;
}

export async function importFile(kit: Kit, P: string, body: string, q: string): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${kit.api.base}${P}/annotations/import?${q}`, { method: 'POST', headers: { authorization: `Bearer ${kit.tok.mgr}`, 'content-type': 'application/octet-stream' }, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** Every audit event of the project with this action, oldest first. */
export async function auditEvents(kit: Kit, P: string, action: string): Promise<Array<{ payload: Record<string, any> }>> {
  const out: Array<{ payload: Record<string, any>; action: string }> = [];
  for (let after = 0; ; ) {
    const r = await kit.api.call('GET', `${P}/audit?after=${after}&limit=1000`, kit.tok.mgr);
    assert.equal(r.status, 200, r.text);
    const events = r.json.events as Array<{ seq: number; action: string; payload: Record<string, any> }>;
    out.push(...events);
    if (events.length < 1000) break;
    after = events[events.length - 1].seq;
  }
  return out.filter((e) => e.action === action);
}

/** Final answers per source key from a JSONL export (and each annotator's, by name). */
export function jsonlAnswers(body: string) {
  return new Map(
    body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .map((o) => [o.sourceKey as string, { answers: o.answers, annotators: Object.fromEntries((o.provenance.annotations as Array<{ annotator: string; answers: unknown }>).map((a) => [a.annotator, a.answers])) }]),
  );
}

/** Label Studio results per source key: the ground truth's and each annotator's (ids and meta left out). */
export function labelStudioResults(body: string) {
  const strip = (rs: Array<Record<string, unknown>>) => rs.map(({ id: _id, ...r }) => r);
  return new Map(
    (JSON.parse(body) as Array<{ meta: { sourceKey: string }; annotations: Array<{ ground_truth: boolean; result: Array<Record<string, unknown>>; meta: { annotator?: string } }> }>).map((t) => [
      t.meta.sourceKey,
      { truth: strip(t.annotations.find((a) => a.ground_truth)!.result), annotators: Object.fromEntries(t.annotations.filter((a) => !a.ground_truth).map((a) => [a.meta.annotator, strip(a.result)])) },
    ]),
  );
}

/** The audit log verifies: the chain, and the project's rows replayed from it (answers included in the row digests). */
export async function assertVerified(kit: Kit, P: string): Promise<void> {
  const r = await kit.api.call('GET', `${P}/audit/verify`, kit.tok.mgr);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.ok, true, r.text);
  assert.ok(r.json.state.checked.label_items > 0 && r.json.state.checked.taxonomies > 0, JSON.stringify(r.json.state));
}
