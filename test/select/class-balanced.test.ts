import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classBalancedMargin } from '../../src/select/class-balanced.ts';

test('class-balanced margin fills the classes with the fewest labels first, least-confident first within a class', () => {
  // Predicted classes: rows 0–3 → class 0 (margins 0.8, 0.1, 0.4, 0.2), rows 4–5 → class 1, row 6 → class 2.
  const rows = [
    [0.9, 0.1, 0],
    [0.55, 0.45, 0],
    [0.7, 0.3, 0],
    [0.6, 0.4, 0],
    [0.2, 0.8, 0],
    [0.3, 0.7, 0],
    [0.1, 0.2, 0.7],
  ];
  const pool = { ids: [10, 11, 12, 13, 14, 15, 16], probs: { rows: 7, classes: 3, data: Float64Array.from(rows.flat()) } };
  // Class 1 has 5 labels, class 2 has 5, class 0 none: the first picks all come from class 0, by margin.
  assert.deepEqual(classBalancedMargin(pool, 3, { seed: 0 }, [0, 5, 5]), [11, 13, 12]);
  // Equal counts: round-robin over classes 0, 1, 2, then class 0 again.
  assert.deepEqual(classBalancedMargin(pool, 4, { seed: 0 }, [0, 0, 0]), [11, 15, 16, 13]);
});
