import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../src/core/json.ts';
import { refusalPayload } from '../../src/audit/residency.ts';

test('canonicalJson keeps keys named like Object.prototype members (a label "__proto__" is not dropped)', () => {
  const parsed = JSON.parse('{"b":1,"__proto__":{"x":2},"constructor":3,"a":{"toString":4}}');
  assert.equal(canonicalJson(parsed), '{"__proto__":{"x":2},"a":{"toString":4},"b":1,"constructor":3}');
  // Round trip: what was hashed is what was stored.
  assert.deepEqual(JSON.parse(canonicalJson(parsed)), parsed);
});

test('refusalPayload counts regions named like Object.prototype members as plain regions', () => {
  const policy = { home: 'eu', exportRegions: ['eu'] } as unknown as Parameters<typeof refusalPayload>[2];
  const p = refusalPayload('export', [{ id: 1, region: '__proto__' }, { id: 2, region: '__proto__' }, { id: 3, region: 'constructor' }], policy);
  assert.equal(JSON.stringify(p.regions), '{"__proto__":2,"constructor":1}');
});
