// Pure labelling logic: taxonomy validation and migration mapping, consensus per item
// (single- and multi-label) and the review rule, settings validation, tokens, webhook signing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { UserError } from '../../src/core/errors.ts';
import { checkLabels, checkTaxonomy, mapLabels, type TaxonomyLike } from '../../src/label/taxonomy.ts';
import { consensusFor, judge } from '../../src/label/consensus.ts';
import { DEFAULT_LABEL_SETTINGS, mergeSettings } from '../../src/label/settings.ts';
import { digestsEqual, generateToken, hashToken, hashTokenScrypt, looksLikeToken, verifyToken, wrapLegacyHash } from '../../src/label/tokens.ts';
import { backoffMs, checkWebhookUrl, signPayload } from '../../src/label/webhooks.ts';
import { can, PERMISSIONS, ROLES } from '../../src/label/roles.ts';
import { agreementReport } from '../../src/label/agreement.ts';
import { drawGold } from '../../src/label/gold.ts';

const v1: TaxonomyLike & { guidelines: string; mapping: null; createdAt: string; createdBy: null } = { version: 1, kind: 'single', labels: [{ name: 'cat' }, { name: 'dog' }, { name: 'bird' }], guidelines: '', mapping: null, createdAt: '', createdBy: null };
const rejects = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof UserError && re.test(e.message), String(re));

test('taxonomy: a first version has no mapping; names are unique; single-label needs two labels', () => {
  assert.equal(checkTaxonomy({ kind: 'single', labels: [{ name: 'a' }, { name: 'b', examples: ['x'] }] }).touched.size, 0);
  rejects(() => checkTaxonomy({ kind: 'single', labels: [{ name: 'a' }, { name: 'a' }] }), /"a" appears twice/);
  rejects(() => checkTaxonomy({ kind: 'single', labels: [{ name: 'a' }] }), /at least two labels/);
  assert.ok(checkTaxonomy({ kind: 'multi', labels: [{ name: 'a' }] }));
  rejects(() => checkTaxonomy({ kind: 'single', labels: [{ name: 'a' }, { name: 'b' }], mapping: [{ op: 'rename', from: 'a', to: 'b' }] }), /first version/);
});

test('taxonomy mapping: checked step by step', () => {
  rejects(
    () => checkTaxonomy({ kind: 'single', labels: [{ name: 'feline' }, { name: 'animal' }], mapping: [{ op: 'rename', from: 'cat', to: 'feline' }, { op: 'merge', from: ['dog', 'cat'], to: 'animal' }] }, v1),
    /mapping\[1\]\.from\[1\]: "cat" is mapped twice/,
  );
  const c = checkTaxonomy({ kind: 'single', labels: [{ name: 'pet' }, { name: 'songbird' }, { name: 'raptor' }], mapping: [{ op: 'merge', from: ['cat', 'dog'], to: 'pet' }, { op: 'split', from: 'bird', to: ['songbird', 'raptor'] }] }, v1);
  assert.deepEqual([...c.touched].sort(), ['bird', 'cat', 'dog']);
  assert.deepEqual(mapLabels(['cat'], c.map), ['pet']);
  assert.deepEqual(mapLabels(['cat', 'dog'], c.map), ['pet']);
  assert.equal(mapLabels(['bird'], c.map), null);
  const added = checkTaxonomy({ kind: 'single', labels: [{ name: 'cat' }, { name: 'dog' }, { name: 'bird' }, { name: 'fish' }] }, v1);
  assert.equal(added.touched.size, 0, 'adding a label touches nothing');
  rejects(() => checkTaxonomy({ kind: 'single', labels: [{ name: 'cat' }, { name: 'dog' }] }, v1), /labels "bird" of version 1 are gone without a mapping/);
  rejects(() => checkTaxonomy({ kind: 'single', labels: [{ name: 'cat' }, { name: 'dog' }, { name: 'b' }], mapping: [{ op: 'rename', from: 'bird', to: 'x' }] }, v1), /"x" is not a label of the new version/);
  rejects(() => checkTaxonomy({ kind: 'single', labels: [{ name: 'cat' }, { name: 'dog' }, { name: 'x' }], mapping: [{ op: 'rename', from: 'fish', to: 'x' }] }, v1), /"fish" is not a label of version 1/);
  rejects(() => checkTaxonomy({ kind: 'single', labels: [{ name: 'a' }, { name: 'b' }] }, { ...v1, kind: 'multi' }), /cannot become single-label/);
  rejects(() => checkLabels(v1, ['cat', 'dog']), /single-label: give exactly one label/);
  rejects(() => checkLabels(v1, ['fish']), /"fish" is not a label of taxonomy version 1/);
  assert.deepEqual(checkLabels({ ...v1, kind: 'multi' }, []), []);
});

test('consensus per item: single-label majority with the tie rule; multi-label as one yes/no question per label', () => {
  const s = { method: 'majority' as const, tie: 'unresolved' as const, seed: 0 };
  const single = consensusFor(
    [
      { item: '1', annotator: 'a', labels: ['cat'] },
      { item: '1', annotator: 'b', labels: ['dog'] },
      { item: '2', annotator: 'a', labels: ['cat'] },
      { item: '2', annotator: 'b', labels: ['cat'] },
      { item: '2', annotator: 'c', labels: ['dog'] },
    ],
    { kind: 'single', labels: ['cat', 'dog', 'bird'] },
    s,
  );
  assert.equal(single.get('1')!.labels, null);
  assert.deepEqual(single.get('2')!.labels, ['cat']);
  assert.ok(Math.abs(single.get('2')!.confidence - 2 / 3) < 1e-12);
  const first = consensusFor([{ item: '1', annotator: 'a', labels: ['dog'] }, { item: '1', annotator: 'b', labels: ['cat'] }], { kind: 'single', labels: ['cat', 'dog', 'bird'] }, { ...s, tie: 'first' });
  assert.deepEqual(first.get('1')!.labels, ['cat'], "'first' follows the taxonomy order");

  const multi = consensusFor(
    [
      { item: '1', annotator: 'a', labels: ['x', 'y'] },
      { item: '1', annotator: 'b', labels: ['x', 'y'] },
      { item: '1', annotator: 'c', labels: ['x'] },
      { item: '2', annotator: 'a', labels: [] },
      { item: '2', annotator: 'b', labels: ['z'] },
    ],
    { kind: 'multi', labels: ['x', 'y', 'z'] },
    s,
  );
  assert.deepEqual(multi.get('1')!.labels, ['x', 'y']);
  assert.ok(Math.abs(multi.get('1')!.confidence - 2 / 3) < 1e-12);
  assert.equal(multi.get('2')!.labels, null, 'z: one yes, one no → unresolved');
  const ds = consensusFor([{ item: '1', annotator: 'a', labels: ['x'] }, { item: '1', annotator: 'b', labels: ['x'] }], { kind: 'multi', labels: ['x', 'y'] }, { method: 'dawid-skene', tie: 'unresolved', seed: 0 });
  assert.deepEqual(ds.get('1')!.labels, ['x']);
});

test('judge: ties and (optionally) any disagreement go to review; low confidence goes to review; else final', () => {
  const rules = { reviewThreshold: 0.75, reviewOnDisagreement: true };
  const ans = (...ls: string[][]) => ls.map((labels, i) => ({ item: '1', annotator: `a${i}`, labels }));
  assert.deepEqual(judge(ans(['a'], ['b']), { labels: null, confidence: 0.5, posterior: {} }, rules), { kind: 'review', reason: 'disagreement', proposal: null, confidence: 0.5 });
  assert.equal(judge(ans(['a'], ['a'], ['b']), { labels: ['a'], confidence: 2 / 3, posterior: {} }, rules).kind, 'review');
  const lenient = { ...rules, reviewOnDisagreement: false };
  assert.deepEqual(judge(ans(['a'], ['a'], ['b']), { labels: ['a'], confidence: 2 / 3, posterior: {} }, lenient), { kind: 'review', reason: 'low_confidence', proposal: ['a'], confidence: 2 / 3 });
  assert.deepEqual(judge(ans(['a'], ['a'], ['a'], ['b']), { labels: ['a'], confidence: 0.75, posterior: {} }, lenient), { kind: 'final', labels: ['a'], confidence: 0.75 });
  assert.equal(judge(ans(['x', 'y'], ['y', 'x']), { labels: ['x', 'y'], confidence: 1, posterior: {} }, rules).kind, 'final', 'label sets compare as sets');
});

test('settings: partial updates are checked field by field', () => {
  const s = mergeSettings(DEFAULT_LABEL_SETTINGS, { overlap: 3, consensus: { method: 'dawid-skene' }, gold: { rate: 0.1 } });
  assert.deepEqual([s.overlap, s.consensus.method, s.consensus.tie, s.gold.rate, s.gold.threshold], [3, 'dawid-skene', 'unresolved', 0.1, 0.7]);
  rejects(() => mergeSettings(s, { overlap: 0 }), /settings\.overlap: expected a whole number from 1 to 100/);
  rejects(() => mergeSettings(s, { consensus: { method: 'vote' as never } }), /settings\.consensus\.method/);
  rejects(() => mergeSettings(s, { gold: { rate: 2 } }), /settings\.gold\.rate/);
  rejects(() => mergeSettings(s, { leaseSeconds: 0 }), /settings\.leaseSeconds/);
});

test('tokens: 256-bit, prefixed, stored as salted scrypt with a public lookup key, compared in constant time', async () => {
  const a = await generateToken();
  const b = await generateToken();
  assert.notEqual(a.token, b.token);
  assert.ok(looksLikeToken(a.token));
  assert.match(a.hash, /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.equal(a.lookup, a.token.slice(4, 20));
  assert.ok(!a.hash.includes(a.token.slice(4)) && !a.hash.includes(hashToken(a.token)));
  assert.ok(await verifyToken(a.token, a.hash));
  assert.ok(!(await verifyToken(b.token, a.hash)));
  assert.ok(!(await verifyToken(a.token.slice(0, -1) + (a.token.endsWith('A') ? 'B' : 'A'), a.hash)));
  // Same token, fresh salt: a different stored hash, both verify.
  const again = await hashTokenScrypt(a.token);
  assert.notEqual(again, a.hash);
  assert.ok(await verifyToken(a.token, again));
  // Legacy forms: a bare sha256 (pre-005) and the migration's scrypt wrap of it.
  const legacy = hashToken(a.token);
  assert.match(legacy, /^[0-9a-f]{64}$/);
  assert.ok(await verifyToken(a.token, legacy));
  assert.ok(await verifyToken(a.token, await wrapLegacyHash(legacy)));
  assert.ok(!(await verifyToken(b.token, await wrapLegacyHash(legacy))));
  // Garbage or an excessive cost never matches (and never throws).
  for (const bad of ['', 'scrypt$', 'scrypt$1048576$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA', 'md5$x', a.hash.replace('$8$', '$99$')]) assert.equal(await verifyToken(a.token, bad), false);
  assert.ok(digestsEqual(legacy, hashToken(a.token)));
  assert.ok(!digestsEqual(legacy, hashToken(b.token)));
  assert.ok(!digestsEqual(legacy, legacy.slice(1)));
  assert.ok(!looksLikeToken('Bearer x'));
});

test('roles: deny by default, annotators hold no label-reading permission', () => {
  assert.equal(can(null, 'project.read'), false);
  for (const p of Object.keys(PERMISSIONS) as Array<keyof typeof PERMISSIONS>) {
    if (['results.read', 'annotations.read', 'review.read', 'export', 'audit.read', 'gold.read', 'items.read', 'webhooks.manage'].includes(p)) assert.equal(can('annotator', p), false, p);
    if (p === 'task.annotate') for (const r of ROLES) assert.equal(can(r, p), r === 'annotator', 'only annotators annotate');
  }
});

test('webhooks: HMAC-SHA256 over "timestamp.body"; exponential back-off; http(s) URLs only', () => {
  const sig = signPayload('k'.repeat(20), '1700000000', '{"a":1}');
  assert.equal(sig, 'sha256=' + createHmac('sha256', 'k'.repeat(20)).update('1700000000.{"a":1}').digest('hex'));
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffMs(n, 1000)), [1000, 2000, 4000, 8000]);
  assert.equal(backoffMs(30, 1000), 600_000);
  rejects(() => checkWebhookUrl('ftp://x'), /expected http/);
  rejects(() => checkWebhookUrl('http://u:p@x/'), /credentials/);
  assert.equal(checkWebhookUrl('http://127.0.0.1:8080/h'), 'http://127.0.0.1:8080/h');
});

test('gold draw: seeded, at the set rate', () => {
  let n = 0;
  for (let i = 0; i < 10000; i++) if (drawGold(0.1, 1, 7, i)) n++;
  assert.ok(n > 900 && n < 1100, String(n));
  assert.equal(drawGold(0.1, 1, 7, 42), drawGold(0.1, 1, 7, 42));
  assert.equal(drawGold(0, 1, 1, 0), false);
  assert.equal(drawGold(1, 1, 1, 0), true);
});

test('project agreement report: per project, per label, per pair; multi-label units are (item, label)', () => {
  const r = agreementReport(
    [
      { item: '1', annotator: 'a', labels: ['x'] },
      { item: '1', annotator: 'b', labels: ['x'] },
      { item: '2', annotator: 'a', labels: ['y'] },
      { item: '2', annotator: 'b', labels: ['x'] },
    ],
    { kind: 'single', labels: [{ name: 'x' }, { name: 'y' }] },
  );
  assert.equal(r.overall!.percent, 0.5);
  assert.deepEqual(r.perLabel.map((l) => l.label), ['x', 'y']);
  assert.deepEqual(r.pairwise.n, [[2, 2], [2, 2]]);
  const m = agreementReport(
    [
      { item: '1', annotator: 'a', labels: ['x', 'y'] },
      { item: '1', annotator: 'b', labels: ['x'] },
    ],
    { kind: 'multi', labels: [{ name: 'x' }, { name: 'y' }] },
  );
  assert.equal(m.overall!.percent, 0.5);
  assert.equal(m.items, 1);
});
