import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abnValid, luhnValid, medicareValid, tfnValid } from '../../src/ingest/pii-checksums.ts';
import { findPii, redactPii } from '../../src/ingest/pii.ts';

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

import { mayHavePii, PiiCounter, scanItem } from '../../src/ingest/pii-fields.ts';
import { redactRecord } from '../../src/ingest/redact.ts';

test('PII per field: tabular columns (numbers too) and metadata; check digits decide', () => {
  const row = {
    text: null,
    values: { name: 'Jane', email: 'jane@example.org', tfn: 123456782, bad_tfn: 123456789, phone: '0412 345 678', abn: '51 824 753 556', bad_abn: '51 824 753 557', amount: 1234.5 },
    meta: { file: 'people.csv', note: 'paid with 4111 1111 1111 1111 from 10.0.0.7' },
  };
  assert.deepEqual(scanItem(row), { email: ['email'], tfn: ['tfn'], phone: ['phone'], abn: ['abn'], 'meta.note': ['credit_card', 'ip'] });
  const text = { text: 'mail a@b.org or b@c.org', values: null, meta: { file: 'x.jsonl', fields: { author: 'call +61 2 9876 5432', n: 3 } } };
  assert.deepEqual(scanItem(text), { text: ['email', 'email'], 'fields.author': ['phone'] });
  const c = new PiiCounter();
  c.add(scanItem(row));
  c.add(scanItem(text));
  c.add(scanItem({ text: 'nothing here', values: null, meta: {} }));
  c.add(scanItem({ text: 'Medicare 2123 45670 1, bad 2123 45671 1', values: null, meta: {} }));
  assert.deepEqual(c.result(), {
    items: 3,
    byField: {
      abn: { items: 1, matches: { abn: 1 } },
      email: { items: 1, matches: { email: 1 } },
      'fields.author': { items: 1, matches: { phone: 1 } },
      'meta.note': { items: 1, matches: { credit_card: 1, ip: 1 } },
      phone: { items: 1, matches: { phone: 1 } },
      text: { items: 2, matches: { email: 2, medicare: 1 } },
      tfn: { items: 1, matches: { tfn: 1 } },
    },
    byKind: { email: 3, phone: 2, credit_card: 1, tfn: 1, medicare: 1, abn: 1, ip: 1 },
  });
});

test('the PII pre-filter never hides a finding', () => {
  for (const s of ['a@b.co', '0412 345 678', '13 12 34', '1.2.3.4', '::1', 'fe80::1', '4111111111111111', '123 456 782', 'x 1800 123 456']) {
    if (findPii(s).length) assert.ok(mayHavePii(s), s);
  }
  assert.equal(mayHavePii('tcp'), false);
  assert.equal(mayHavePii('0.5'), false);
});

test('redaction at import rewrites text, string and numeric cells, and records which fields had which kinds', () => {
  const r = redactRecord({
    locator: 'a.csv:2',
    key: 'a.csv:2',
    modality: 'tabular',
    values: { email: 'x jane@example.org', tfn: 123456782, amount: 12 },
    meta: { file: 'a.csv', note: 'from 192.168.1.20' },
    sourceLabel: 'ok',
  });
  assert.deepEqual(r.record.values, { email: 'x [EMAIL]', tfn: null, amount: 12 });
  assert.deepEqual(r.record.meta, { file: 'a.csv', note: 'from [IP]', piiRedacted: { email: ['email'], tfn: ['tfn'], 'meta.note': ['ip'] } });
  assert.deepEqual(r.redacted, { email: ['email'], tfn: ['tfn'], 'meta.note': ['ip'] });
  const t = redactRecord({ locator: 'm.jsonl:1', key: 'id:1', modality: 'text', text: 'call 0412 345 678', meta: { fields: { by: 'jo@x.io', n: 5 } } });
  assert.equal(t.record.text, 'call [PHONE]');
  assert.deepEqual(t.record.meta.fields, { by: '[EMAIL]', n: 5 });
  const clean = { locator: 'c', key: 'c', modality: 'text' as const, text: 'nothing personal', meta: {} };
  assert.equal(redactRecord(clean).record, clean, 'records without PII are passed through untouched');
});
