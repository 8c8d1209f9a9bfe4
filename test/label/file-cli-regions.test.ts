// `tessera agreement FILE --kind spans|segments|boxes --json`: the contract other tools rely on
// (exact keys), values computed by hand, and malformed files refused naming the file and line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { UserError } from '../../src/core/errors.ts';
import { parseRegionFile, regionAgreementOfFile } from '../../src/label/region-file.ts';
import { tessera } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-regions-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const agree = (text: string, kind: string) => regionAgreementOfFile(parseRegionFile(text, { name: 'f.csv', kind }));
const rejects = (text: string, kind: string, message: RegExp) => assert.throws(() => agree(text, kind), (e: unknown) => e instanceof UserError && message.test(e.message), String(message));

// Three annotators, three items. Spans per pair over the items both annotated:
//   a–b (items 1, 2): a 3 spans, b 3; exact 1 ([0,5) PER); overlap 2 ([0,5) PER, [17,25)~[21,25) LOC).
//   a–c (item 3): both marked nothing → no span between them: left out of the mean.
//   b–c: no item in common: left out.
// F1 exact = 2·1/6, overlap = 2·2/6, over 1 pair.
const SPANS = ['item,annotator,start,end,label', '1,a,0,5,PER', '1,a,10,13,PER', '1,a,17,25,LOC', '1,b,0,5,PER', '1,b,10,13,LOC', '1,b,21,25,LOC', '2,a,,,', '2,b,,,', '3,a,,,', '3,c,,,'].join('\n') + '\n';

test('--kind spans: pairwise F1 exact and overlap by hand; the mean is over pairs with a span between them', () => {
  const r = agree(SPANS, 'spans');
  assert.deepEqual(r, { kind: 'spans', pairs: 1, f1: { exact: 1 / 3, overlap: 2 / 3 } });
  // A pair that disagrees entirely counts (F1 0): c marks a span on item 3 that a did not.
  const more = agree(SPANS.replace('3,c,,,', '3,c,1,2,PER'), 'spans');
  assert.deepEqual(more, { kind: 'spans', pairs: 2, f1: { exact: (1 / 3 + 0) / 2, overlap: (2 / 3 + 0) / 2 } });
});

test('--kind segments: the same in seconds', () => {
  const r = agree(['item,annotator,start,end,label', 'w,A,0.1,0.5,speech', 'w,A,0.8,1.2,speech', 'w,B,0.1,0.5,speech', 'w,B,0.9,1.0,speech', 'w,B,1.5,1.7,noise'].join('\n'), 'segments');
  assert.deepEqual(r, { kind: 'segments', pairs: 1, f1: { exact: 2 / 5, overlap: 4 / 5 } });
});

test('malformed region files name the file and line', () => {
  rejects('item,annotator,start,end\n1,a,0,1\n', 'spans', /^f\.csv: no "label" column in the header/);
  rejects('item,annotator,start,end,label\n1,a,0,1.5,X\n1,b,0,1,X\n', 'spans', /^f\.csv:2: end "1\.5": expected a whole number of characters ≥ 0/);
  rejects('item,annotator,start,end,label\n1,a,3,3,X\n1,b,0,1,X\n', 'spans', /^f\.csv:2: end 3 is not after start 3 \(end is exclusive\)/);
  rejects('item,annotator,start,end,label\n1,a,0,,X\n1,b,0,1,X\n', 'spans', /^f\.csv:2: empty end; a row is either a whole span or/);
  rejects('item,annotator,start,end,label\n1,a,0,1,X\n2,b,0,1,X\n', 'spans', /^f\.csv: no item was annotated by two or more annotators/);
  rejects('item,annotator,start,end,label\n1,a,0,1,X\n', 'spans', /^f\.csv: agreement needs at least 2 annotators/);
  rejects('item,annotator,start,end,label\n', 'spans', /^f\.csv has a header but no rows/);
  rejects(SPANS, 'polygons', /^--kind: expected spans\|segments\|boxes/);
});

test('the CLI prints exactly {"kind","pairs","f1":{"exact","overlap"}} and exits 2 on a bad file', () => {
  const file = join(dir, 'spans.csv');
  writeFileSync(file, SPANS);
  const r = tessera(['agreement', file, '--kind', 'spans', '--json'], {});
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.json, { kind: 'spans', pairs: 1, f1: { exact: 1 / 3, overlap: 2 / 3 } });
  assert.deepEqual([Object.keys(r.json), Object.keys(r.json.f1)], [['kind', 'pairs', 'f1'], ['exact', 'overlap']]);
  const human = tessera(['agreement', file, '--kind', 'spans'], {});
  assert.match(human.stdout, /spans: F1 exact 0\.3333, overlap 0\.6667 over 1 annotator pair/);
  const both = tessera(['agreement', file, '--kind', 'spans', '--metric', 'fleiss', '--json'], {});
  assert.equal(both.code, 2);
  const none = tessera(['agreement', file, '--json'], {});
  assert.deepEqual([none.code, none.json.error.message], [2, 'give --metric percent|cohen|fleiss|krippendorff|gwet (labels) or --kind spans|segments|boxes (regions)']);
});
