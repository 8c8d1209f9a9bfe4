// Cost of fitting each unsupervised representation on a dataset's pool: seconds and the process's
// peak resident memory after it (one representation per process, so peaks do not mix).
// Usage: npx tsx bench/experiments/text-tabular/rep-cost.ts DATASET word|tfidf|sg
import { tokenize } from '../../../src/probe/raw.ts';
import { fitNgramTfidf, transformNgramTfidf } from '../../../src/ssl/text/tfidf-ngrams.ts';
import { trainSkipgram } from '../../../src/ssl/text/subword-skipgram.ts';
import { fitSif, sifTransform } from '../../../src/ssl/text/sif.ts';
import { loadDev, type DatasetName } from './data.ts';

const d = await loadDev(process.argv[2] as DatasetName);
if (d.kind !== 'text') throw new Error('text datasets only');
const which = process.argv[3];
const before = process.resourceUsage().maxRSS;
const t = performance.now();
let what = '';
if (which === 'sg') {
  const sents = d.texts.map(tokenize);
  const pool = d.pool.map((i) => sents[i]);
  const emb = trainSkipgram(pool, { seed: 0 });
  sifTransform(emb, fitSif(emb, pool), sents);
  what = `vocab ${emb.vocab.size}, ${pool.reduce((s, x) => s + x.length, 0)} tokens`;
} else {
  const m = fitNgramTfidf(d.pool.map((i) => d.texts[i]), which === 'word' ? { char: null } : {});
  const x = transformNgramTfidf(m, d.texts);
  what = `${m.vocab.size} terms, ${(x.indptr[x.rows] / x.rows).toFixed(0)} per row`;
}
console.log(`${d.name} ${which}: ${((performance.now() - t) / 1000).toFixed(1)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (${(before / 1024).toFixed(0)} MiB before); ${what}`);
