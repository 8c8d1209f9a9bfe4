import { test } from 'node:test';
import assert from 'node:assert/strict';
import { methods } from '../../src/consensus/index.ts';
import { mulberry32 } from '../../src/core/rng.ts';
import type { Answer } from '../../src/consensus/types.ts';
import { bluebirds } from './crowd-data.ts';

// Every aggregation method honours the one contract in types.ts (like scikit-learn's
// estimator checks): same keys, distributions that sum to 1, order-independent results.
const data: Answer[] = bluebirds().answers.filter((a) => Number(a.annotator) % 3 === 0);

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  const rand = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

for (const [name, aggregate] of Object.entries(methods)) {
  test(`contract: ${name}`, () => {
    const r = aggregate(data);
    const items = new Set(data.map((a) => a.item));
    const annotators = new Set(data.map((a) => a.annotator));
    assert.deepEqual(new Set(r.labels.keys()), items);
    assert.deepEqual(new Set(r.confidence.keys()), items);
    assert.deepEqual(new Set(r.posteriors.keys()), items);
    assert.deepEqual(new Set(r.annotatorStats.keys()), annotators);
    assert.deepEqual(r.labelSet, ['0', '1']);
    for (const [item, post] of r.posteriors) {
      assert.deepEqual(Object.keys(post), r.labelSet);
      const total = Object.values(post).reduce((s, p) => s + p, 0);
      assert.ok(Math.abs(total - 1) < 1e-12, `${item}: posteriors sum to ${total}`);
      const label = r.labels.get(item);
      assert.equal(r.confidence.get(item), Math.max(...Object.values(post)));
      if (label !== null) assert.equal(post[label!], r.confidence.get(item));
    }
    let answered = 0;
    for (const s of r.annotatorStats.values()) {
      answered += s.answered;
      assert.ok(Number.isNaN(s.accuracy) || (s.accuracy >= 0 && s.accuracy <= 1));
    }
    assert.equal(answered, data.length);
    const again = aggregate(shuffled(data, 11));
    assert.deepEqual([...again.labels], [...r.labels]);
    assert.deepEqual([...again.posteriors], [...r.posteriors]);
    assert.deepEqual([...again.annotatorStats], [...r.annotatorStats]);
  });
}
