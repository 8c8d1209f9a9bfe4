/**
 * Noisy-student self-training (src/train/noisy-student.ts, run by trainClassifier): pseudo-labels
 * are class-balanced (at most k per predicted class, most confident first), above τ, taken only
 * from the unlabelled pool given (never labelled, validation or test positions), deterministic;
 * the student replaces the teacher only when it validates strictly better, and the encoder ends
 * holding the kept model's weights.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/ml/engine.ts';
import { randomEncoder } from '../../src/ssl/index.ts';
import type { ModalityData } from '../../src/ssl/types.ts';
import { Rng } from '../../src/ssl/rng.ts';
import type { Features } from '../../src/probe/features.ts';
import { limitPool, selectPseudoLabels } from '../../src/train/noisy-student.ts';
import { trainClassifier } from '../../src/train/train-classifier.ts';
import { unlabelledCandidates } from '../../bench/label-efficiency/select.ts';

before(async () => {
  await initEngine();
});

test('selectPseudoLabels: top-k per predicted class above τ, most confident first, excluded positions never', () => {
  // 3 classes; candidates are positions 10..18.
  const candidates = [10, 11, 12, 13, 14, 15, 16, 17, 18];
  const probs = [
    [0.95, 0.03, 0.02], // 10 → 0 (.95)
    [0.99, 0.005, 0.005], // 11 → 0 (.99)
    [0.97, 0.02, 0.01], // 12 → 0 (.97)
    [0.5, 0.4, 0.1], // 13 → 0 but below τ
    [0.05, 0.92, 0.03], // 14 → 1 (.92)
    [0.02, 0.02, 0.96], // 15 → 2 (.96) but excluded (e.g. a test position)
    [0.01, 0.01, 0.98], // 16 → 2 (.98)
    [0.3, 0.3, 0.4], // 17 → 2 below τ
    [0.97, 0.02, 0.01], // 18 → 0 (.97), ties with 12: the lower position first
  ].flat();
  const r = selectPseudoLabels(probs, 3, candidates, { tau: 0.9, perClass: 2, exclude: new Set([15]) });
  // Class 0 passes τ at 10, 11, 12, 18 → the two most confident: 11 (.99), then 12 (.97, before 18 on the tie).
  assert.deepEqual(r.idx, [11, 12, 14, 16]);
  assert.deepEqual(r.y, [0, 0, 1, 2]);
  assert.deepEqual(r.perClass, [2, 1, 1]);
  assert.equal(r.passed, 6, '10, 11, 12, 14, 16, 18 passed τ (15 excluded before counting)');
  assert.ok(r.perClass.every((n) => n <= 2), 'class-balanced: no class over k');
  // τ above every probability → none; k = 0 → none.
  assert.deepEqual(selectPseudoLabels(probs, 3, candidates, { tau: 0.999, perClass: 5 }).idx, []);
  assert.deepEqual(selectPseudoLabels(probs, 3, candidates, { tau: 0, perClass: 0 }).idx, []);
  assert.throws(() => selectPseudoLabels(probs.slice(3), 3, candidates, { tau: 0.9, perClass: 2 }), /probabilities/);
});

test('limitPool: a seeded subset in the original order; unlabelledCandidates never holds test or labelled positions', () => {
  const pool = Array.from({ length: 100 }, (_, i) => 1000 + i);
  const a = limitPool(pool, 30, 7);
  assert.equal(a.length, 30);
  assert.deepEqual(a, limitPool(pool, 30, 7), 'deterministic');
  assert.deepEqual(a, [...a].sort((x, y) => x - y));
  assert.ok(a.every((p) => pool.includes(p)));
  assert.notDeepEqual(a, limitPool(pool, 30, 8));
  assert.deepEqual(limitPool(pool.slice(0, 5), 30, 7), pool.slice(0, 5));

  const train = [0, 1, 2, 3, 5, 8];
  const test = [4, 6, 7];
  assert.deepEqual(unlabelledCandidates(train, [1, 5], test), [0, 2, 3, 8]);
  assert.throws(() => unlabelledCandidates([0, 1, 4], [1], test), /both a training and a test item/);
});

// Two informative tabular columns; the class is the sign of a + 0.3·b.
const N = 500;
const r = new Rng(21);
const hidden = Array.from({ length: N }, () => [r.normal(), r.normal()]);
const y = hidden.map(([a, b]) => (a + 0.3 * b > 0 ? 1 : 0));
const data: ModalityData = { modality: 'tabular', rows: hidden.map((h) => h.slice()), columns: [{ name: 'a', type: 'num' }, { name: 'b', type: 'num' }] };
const labelled = Array.from({ length: 40 }, (_, i) => i);
const unlabelled = Array.from({ length: 300 }, (_, i) => 40 + i);
const testPos = Array.from({ length: 160 }, (_, i) => 340 + i);

async function run(opts: { tau: number; perClass: number }) {
  const encoder = await randomEncoder(data, { pretext: 'scarf', seed: 0, config: { encoder: { widths: [16] } } });
  const emb = await encoder.embed(data);
  const features: Features = { rows: N, dim: encoder.dim, data: emb };
  try {
    const t = await trainClassifier(
      { features, labelled, y: labelled.map((i) => y[i]), classes: ['neg', 'pos'], encoder, data },
      { method: 'auto', seed: 0, epochs: 4, minSteps: 40, encoderLr: 3e-3, noisyStudent: { unlabelled, ...opts, steps: 60 }, alsoPredict: testPos },
    );
    // Whatever was kept, the encoder now holds its weights: its predictions are reproducible from the encoder.
    const p1 = await t.proba(testPos);
    const p2 = await t.proba(testPos);
    assert.deepEqual(p1, p2);
    const m = await t.evaluate(testPos, testPos.map((i) => y[i]));
    t.dispose();
    return { t, accuracy: m.accuracy };
  } finally {
    encoder.dispose();
  }
}

test('trainClassifier + noisyStudent: pseudo-labels only from the pool, class-balanced, above τ; the student is kept only when it validates better', async () => {
  const { t, accuracy } = await run({ tau: 0.7, perClass: 60 });
  const ns = t.noisyStudentInfo!;
  assert.ok(ns, 'the noisy-student step ran');
  const pool = new Set(unlabelled);
  const val = new Set(t.valPositions);
  assert.equal(t.valPositions.length, 8, '20% of the 40 labels validate');
  assert.ok(ns.pseudo.idx.length > 0, 'some pseudo-labels');
  for (const p of ns.pseudo.idx) {
    assert.ok(pool.has(p), `pseudo-labelled position ${p} is in the unlabelled pool`);
    assert.ok(!val.has(p) && !labelled.includes(p) && !testPos.includes(p));
  }
  assert.equal(new Set(ns.pseudo.idx).size, ns.pseudo.idx.length, 'no item twice');
  assert.ok(ns.pseudo.perClass.every((n) => n <= 60), `per class ${ns.pseudo.perClass}`);
  assert.deepEqual(ns.pseudo.perClass, [0, 1].map((c) => ns.pseudo.y.filter((v) => v === c).length));
  assert.equal(ns.predicted, 300);
  assert.ok(ns.teacherProba && ns.teacherProba.length === testPos.length * 2, 'the teacher’s test predictions are reported');
  // Pseudo-label accuracy on this easy problem (the method never saw these labels).
  const right = ns.pseudo.idx.filter((p, i) => y[p] === ns.pseudo.y[i]).length / ns.pseudo.idx.length;
  assert.ok(right > 0.8, `pseudo-labels ${right} right`);
  // The choice follows validation only.
  assert.ok(ns.valStudent !== null && ns.valTeacher !== null);
  assert.equal(ns.won, ns.valStudent > ns.valTeacher);
  assert.equal(t.method, ns.won ? 'noisy-student' : ns.teacher);
  if (ns.won) assert.equal(t.trainCount, 32 + ns.pseudo.idx.length);
  assert.ok(accuracy > 0.8, `test accuracy ${accuracy}`);

  // Deterministic: the same pseudo-labels and validation scores again.
  const again = await run({ tau: 0.7, perClass: 60 });
  const ns2 = again.t.noisyStudentInfo!;
  assert.deepEqual(ns2.pseudo, ns.pseudo);
  assert.equal(ns2.valStudent, ns.valStudent);
  assert.equal(again.accuracy, accuracy);
});

test('trainClassifier + noisyStudent: no pseudo-label passes τ → no student, the teacher is kept as it was', async () => {
  const { t, accuracy } = await run({ tau: 1.01, perClass: 60 });
  const ns = t.noisyStudentInfo!;
  assert.deepEqual(ns.pseudo.idx, []);
  assert.equal(ns.won, false);
  assert.equal(ns.valStudent, null);
  assert.equal(t.method, ns.teacher);
  // The kept model is the teacher: its test predictions are the ones reported for the teacher.
  const teacherAcc = (() => {
    const p = ns.teacherProba!;
    let ok = 0;
    testPos.forEach((pos, i) => {
      if ((p[i * 2 + 1] > p[i * 2] ? 1 : 0) === y[pos]) ok++;
    });
    return ok / testPos.length;
  })();
  assert.equal(teacherAcc, accuracy, 'the reported "without noisy student" predictions are the kept model’s');
});
