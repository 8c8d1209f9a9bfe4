import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abnValid, luhnValid, medicareValid, tfnValid } from '../../src/audit/checksums.ts';
import { findPii, redactPii } from '../../src/audit/pii.ts';

test('check digits: published valid examples pass, one-digit changes fail', () => {
  // ABN 51 824 753 556: the ATO's worked example of the ABN check.
  assert.ok(abnValid('51 824 753 556'));
  assert.ok(!abnValid('51 824 753 557'));
  // TFN 123 456 782: the widely used valid test TFN (weighted sum 253 = 11 × 23).
  assert.ok(tfnValid('123 456 782'));
  assert.ok(!tfnValid('123 456 789'));
  // Medicare 2123 45670 1: 2·1+1·3+2·7+3·9+4·1+5·3+6·7+7·9 = 170 → check digit 0.
  assert.ok(medicareValid('2123 45670 1'));
  assert.ok(!medicareValid('2123 45671 1'));
  assert.ok(!medicareValid('7123 45670 1'), 'first digit must be 2–6');
  // Card test numbers published by the networks/processors.
  for (const n of ['4111 1111 1111 1111', '5555 5555 5555 4444', '3782 822463 10005', '6011 1111 1111 1117']) assert.ok(luhnValid(n), n);
  assert.ok(!luhnValid('4111 1111 1111 1112'));
});

test('findPii classifies valid identifiers and ignores look-alikes with bad check digits', () => {
  const text =
    'Mail jane.doe@example.com.au or call 0412 345 678 / +61 2 9876 5432 / +44 20 7946 0958. ' +
    'Card 4111-1111-1111-1111, bad card 4111 1111 1111 1112. TFN 123 456 782, bad TFN 123 456 789. ' +
    'ABN 51 824 753 556, bad ABN 51 824 753 557. Medicare 2123 45670 1. Host 192.168.1.20, not 999.1.1.1, v6 2001:db8::8a2e:370:7334.';
  const kinds = findPii(text).map((m) => [m.kind, m.text]);
  assert.deepEqual(kinds, [
    ['email', 'jane.doe@example.com.au'],
    ['phone', '0412 345 678'],
    ['phone', '+61 2 9876 5432'],
    ['phone', '+44 20 7946 0958'],
    ['credit_card', '4111-1111-1111-1111'],
    ['tfn', '123 456 782'],
    ['abn', '51 824 753 556'],
    ['medicare', '2123 45670 1'],
    ['ip', '192.168.1.20'],
    ['ip', '2001:db8::8a2e:370:7334'],
  ]);
});

test('redaction replaces each finding and keeps the rest', () => {
  assert.equal(redactPii('write to a@b.org from 10.0.0.1'), 'write to [EMAIL] from [IP]');
});
