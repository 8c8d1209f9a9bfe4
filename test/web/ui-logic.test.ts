// The web UI's pure pieces, in Node: what changed between taxonomy versions (and how an answer
// carries over), the sentences for pages a role may not see, and sign-in links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PERMISSIONS, ROLES } from '../../src/label/roles.ts';
import { forbiddenFromApi, forbiddenSentence, PAGE_PERMISSION, whoMay } from '../../src/web/forbidden.ts';
import { takeLinkToken, tokenFromHash } from '../../src/web/signin-link.ts';
import { carryAnswer, describeChange, taxonomyChange, type VersionLike } from '../../src/web/taxonomy-change.ts';

const v = (version: number, names: string[], mapping: unknown[] | null = null, kind: 'single' | 'multi' = 'single'): VersionLike => ({ version, kind, labels: names.map((name) => ({ name })), mapping });

test('taxonomy change: a rename is a rename (not a removal and an addition), chained across versions', () => {
  const versions = [
    v(1, ['ham', 'spam']),
    v(2, ['ham', 'junk', 'unsure'], [{ op: 'rename', from: 'spam', to: 'junk' }]),
    v(3, ['ham', 'bulk', 'unsure'], [{ op: 'rename', from: 'junk', to: 'bulk' }]),
  ];
  const c12 = taxonomyChange(versions, 1, 2);
  assert.deepEqual([c12.renamed, c12.added, c12.removed, c12.kind], [[{ from: 'spam', to: 'junk' }], ['unsure'], [], null]);
  assert.deepEqual(describeChange(c12), ['renamed “spam” → “junk”', 'added “unsure”']);
  const c13 = taxonomyChange(versions, 1, 3);
  assert.deepEqual(c13.renamed, [{ from: 'spam', to: 'bulk' }]);
  assert.deepEqual(c13.added, ['unsure']);
  assert.deepEqual(taxonomyChange(versions, 2, 3).added, []);
});

test('taxonomy change: merges, splits, plain removals and a change of kind', () => {
  const versions = [
    v(1, ['a', 'b', 'c', 'd']),
    v(2, ['ab', 'c1', 'c2', 'e'], [{ op: 'merge', from: ['a', 'b'], to: 'ab' }, { op: 'split', from: 'c', to: ['c1', 'c2'] }, { op: 'rename', from: 'd', to: 'e' }], 'multi'),
  ];
  const c = taxonomyChange(versions, 1, 2);
  assert.deepEqual(c.merged, [{ from: ['a', 'b'], to: 'ab' }]);
  assert.deepEqual(c.split, [{ from: 'c', to: ['c1', 'c2'] }]);
  assert.deepEqual(c.renamed, [{ from: 'd', to: 'e' }]);
  assert.deepEqual([c.added, c.removed], [[], []]);
  assert.deepEqual(c.kind, { from: 'single', to: 'multi' });
  assert.deepEqual(describeChange(c), ['renamed “d” → “e”', 'merged “a” and “b” into “ab”', 'split “c” into “c1” and “c2”', 'several labels may now be chosen per item']);
  // Without mappings (the versions list could not be read): a plain comparison.
  const plain = taxonomyChange([v(1, ['x', 'y']), v(4, ['y', 'z'])], 1, 4);
  assert.deepEqual([plain.added, plain.removed, plain.renamed], [['z'], ['x'], []]);
  assert.deepEqual(describeChange(taxonomyChange([v(1, ['x']), v(2, ['x'])], 1, 2)), [], 'only the guidelines changed');
});

test('an answer carries over: renamed and merged labels follow, removed and split ones are dropped; single-label keeps exactly one', () => {
  const c = taxonomyChange([v(1, ['a', 'b', 'c', 'd', 'x']), v(2, ['ab', 'c1', 'c2', 'e', 'x'], [{ op: 'merge', from: ['a', 'b'], to: 'ab' }, { op: 'split', from: 'c', to: ['c1', 'c2'] }, { op: 'rename', from: 'd', to: 'e' }])], 1, 2);
  const now = { kind: 'multi' as const, labels: ['ab', 'c1', 'c2', 'e', 'x'] };
  assert.deepEqual(carryAnswer(['a', 'b', 'd', 'x'], c, now), ['ab', 'e', 'x']);
  assert.deepEqual(carryAnswer(['c'], c, now), []);
  assert.deepEqual(carryAnswer(['d'], c, { ...now, kind: 'single' }), ['e']);
  assert.deepEqual(carryAnswer(['d', 'x'], c, { ...now, kind: 'single' }), [], 'two labels cannot be one answer');
});

test('forbidden pages: one sentence naming the role, what it does, why the page is not for it, and whom it is for (from the role matrix)', () => {
  assert.equal(
    forbiddenSentence('X', 'annotator', 'dashboard'),
    "Your role in project X is annotator: you can label here, but the dashboard shows other people's labels, so it is for admins, managers, reviewers and viewers.",
  );
  assert.equal(forbiddenSentence('X', 'viewer', 'label'), "Your role in project X is viewer: you can read the results here, but labelling must be blind and your role can read other people's labels, so it is for annotators.");
  for (const page of Object.keys(PAGE_PERMISSION) as Array<keyof typeof PAGE_PERMISSION>) {
    for (const role of ROLES) assert.match(forbiddenSentence('p', role, page), /^Your role in project p is \w+: you can .+, but .+, so it is for .+\.$/);
  }
  assert.equal(whoMay('members.write'), 'admins');
  assert.equal(whoMay('instance.admin'), 'instance admins');
  assert.deepEqual(PERMISSIONS['items.read'], ['admin', 'manager', 'reviewer', 'viewer']);
});

test("an API refusal (the server's E_FORBIDDEN message) becomes the same kind of sentence; any other message is left alone", () => {
  assert.equal(
    forbiddenFromApi('role annotator may not do this (items.read) in project "news"'),
    'Your role in project news is annotator: you can label here, but listing the items with their labels is for admins, managers, reviewers and viewers.',
  );
  assert.equal(forbiddenFromApi('no access to project "news"'), null);
  assert.equal(forbiddenFromApi('role wizard may not do this (items.read) in project "news"'), null);
  assert.equal(forbiddenFromApi('role viewer may not do this (no.such) in project "news"'), null);
});

test('sign-in links: the token is read from #/signin?token= and taken out of the address (and this history entry)', () => {
  assert.equal(tokenFromHash('#/signin?token=tsr_abc'), 'tsr_abc');
  assert.equal(tokenFromHash('#/signin?token='), null);
  assert.equal(tokenFromHash('#/p/x/label?token=tsr_abc'), null, 'only the sign-in route takes a token');
  assert.equal(tokenFromHash('#/signin'), null);
  const calls: unknown[][] = [];
  const hist = { state: { k: 1 }, replaceState: (...a: unknown[]) => void calls.push(a) };
  assert.equal(takeLinkToken({ hash: '#/signin?token=tsr_abc&x=1', pathname: '/', search: '' }, hist as never), 'tsr_abc');
  assert.deepEqual(calls, [[{ k: 1 }, '', '/#/']]);
  calls.length = 0;
  assert.equal(takeLinkToken({ hash: '#/p/x', pathname: '/', search: '' }, hist as never), null);
  assert.deepEqual(calls, [], 'any other address is left alone');
  // A link with an empty token is still cleaned out of the address.
  assert.equal(takeLinkToken({ hash: '#/signin?token=', pathname: '/app', search: '?a=1' }, hist as never), null);
  assert.deepEqual(calls, [[{ k: 1 }, '', '/app?a=1#/']]);
});
