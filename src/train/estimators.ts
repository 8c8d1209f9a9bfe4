/**
 * The classifiers behind the estimator contract (src/train/estimator.ts), each saving and loading
 * itself: the linear head on frozen features, the raw-feature head, the fine-tuned network, the
 * ensemble (the mean of its members' probabilities) and the prior correction wrapped around any
 * of them. A fine-tuned network's folder is the classifier folder `FineTunedClassifier.save` has
 * always written (classifier.json), so folders the loop registered load as they are.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readJson, writeJson } from '../ssl/io.ts';
import { selectRows, type Features } from '../probe/features.ts';
import { rawFeatures } from '../probe/raw.ts';
import type { ModalityData } from '../ssl/types.ts';
import { ESTIMATOR_FILE, ESTIMATOR_FORMAT, type Estimator, type EstimatorFile, type EstimatorKind, type Items } from './estimator.ts';
import { headProba, type Head } from './linear-head.ts';
import { FineTunedClassifier, loadFineTuned } from './fine-tuned-model.ts';
import { adjustToPrior } from './prior-shift.ts';

async function writeEstimatorFile(dir: string, kind: EstimatorKind, classes: string[], fields: Record<string, unknown>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const f: EstimatorFile = { format: ESTIMATOR_FORMAT, version: 1, kind, classes, ...fields };
  await writeJson(join(dir, ESTIMATOR_FILE), f);
}

/** The fields of a linear head as the loop's model registry records them (params W, b, mean, std, lambda, temperature). */
export function headFields(h: Head): Record<string, unknown> {
  return { lambda: h.model.lambda, temperature: h.temperature, W: Array.from(h.model.W), b: Array.from(h.model.b), mean: Array.from(h.model.mean), std: Array.from(h.model.std) };
}

/** A linear head from those fields (an estimator file, or a registry record's params). */
export function headFromFields(p: { classes?: string[]; temperature?: number; W?: number[]; b?: number[]; mean?: number[]; std?: number[]; lambda?: number }): Head {
  const classes = p.classes ?? [];
  const dim = (p.mean ?? []).length;
  if (classes.length < 2 || (p.W ?? []).length !== dim * classes.length) throw new Error(`linear head: ${(p.W ?? []).length} weights do not make ${dim} inputs × ${classes.length} classes`);
  return {
    model: { W: Float64Array.from(p.W!), b: Float64Array.from(p.b ?? []), dim, classes: classes.length, mean: Float64Array.from(p.mean!), std: Float64Array.from(p.std ?? []), lambda: p.lambda ?? 0 },
    temperature: p.temperature ?? 1,
    classes,
  };
}

/** A linear head (src/train/linear-head.ts) on the caller's frozen features; `views`: it trained on the test-time views and averages over them. */
export class LinearHead implements Estimator {
  readonly kind: EstimatorKind = 'linear';
  constructor(
    readonly head: Head,
    readonly views = false,
  ) {}

  get classes(): string[] {
    return this.head.classes;
  }

  /** What the head reads for `pos`: its features' rows, or their rows under every view. */
  protected rows(items: Items, features: Features): Features | Features[] {
    if (!this.views) return selectRows(features, items.pos);
    if (!items.views) throw new Error('linear head: trained on test-time views, given none');
    return [features, ...items.views].map((f) => selectRows(f, items.pos));
  }

  async proba(items: Items): Promise<Float64Array> {
    if (!items.features) throw new Error('linear head: needs the items’ features');
    return headProba(this.head, this.rows(items, items.features));
  }

  async save(dir: string): Promise<void> {
    await writeEstimatorFile(dir, this.kind, this.classes, { ...headFields(this.head), ...(this.views ? { views: true } : {}) });
  }

  dispose(): void {}
}

/** Raw features (src/probe/raw.ts) of each data set, computed once: they are fitted on every item of it. */
const rawCache = new WeakMap<ModalityData, Promise<Features>>();

/**
 * The linear head on raw features — what the loop trains when the probe finds SSL does not help.
 * Raw features are fitted on the whole corpus, so given only `data` it computes them on all of it.
 */
export class RawFeatureHead extends LinearHead {
  override readonly kind: EstimatorKind = 'raw-linear';

  override async proba(items: Items): Promise<Float64Array> {
    const features = items.features ?? (await rawOf(items.data));
    return headProba(this.head, this.rows(items, features));
  }
}

function rawOf(data: ModalityData | undefined): Promise<Features> {
  if (!data) throw new Error('raw-feature head: needs the items’ features or their data');
  if (!rawCache.has(data)) rawCache.set(data, rawFeatures(data));
  return rawCache.get(data)!;
}

/**
 * A fine-tuned network (src/train/fine-tuned-model.ts). Networks that share one encoder object
 * (an ensemble's) carry their own encoder weights, swapped in before each prediction; `owns`:
 * the estimator loaded the encoder itself and frees it.
 */
export class FineTuned implements Estimator {
  readonly kind: EstimatorKind = 'fine-tune';
  constructor(
    readonly model: FineTunedClassifier,
    private readonly weights: { restore(): void } | null = null,
    private readonly owns = false,
  ) {}

  get classes(): string[] {
    return this.model.classes;
  }

  async proba(items: Items): Promise<Float64Array> {
    if (!items.data) throw new Error('fine-tuned classifier: needs the items’ data');
    this.weights?.restore();
    return this.model.proba(items.data, items.pos);
  }

  /** The classifier folder (classifier.json, the encoder, head.json/bin) the loop's registry points at. */
  async save(dir: string): Promise<void> {
    this.weights?.restore();
    await this.model.save(dir);
  }

  dispose(): void {
    this.model.dispose();
    if (this.owns) this.model.encoder.dispose();
  }
}

/** The mean of the members' probabilities, each weighing alike (a member may itself be an ensemble, weighing as one). */
export class Ensemble implements Estimator {
  readonly kind: EstimatorKind = 'ensemble';
  constructor(readonly members: Estimator[]) {
    if (members.length === 0) throw new Error('ensemble: no members');
  }

  get classes(): string[] {
    return this.members[0].classes;
  }

  async proba(items: Items): Promise<Float64Array> {
    const ps: Float64Array[] = [];
    for (const m of this.members) ps.push(await m.proba(items));
    return averageProba(ps);
  }

  async save(dir: string): Promise<void> {
    for (const [k, m] of this.members.entries()) await m.save(join(dir, `member-${k}`));
    await writeEstimatorFile(dir, this.kind, this.classes, { members: this.members.length });
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
  }
}

/** `inner`'s probabilities moved from the prior of its labels to another (src/train/prior-shift.ts). */
export class PriorShifted implements Estimator {
  readonly kind: EstimatorKind = 'prior-shift';
  constructor(
    readonly inner: Estimator,
    readonly labelPrior: number[],
    readonly poolPrior: number[],
  ) {}

  get classes(): string[] {
    return this.inner.classes;
  }

  async proba(items: Items): Promise<Float64Array> {
    return adjustToPrior(await this.inner.proba(items), this.classes.length, this.labelPrior, this.poolPrior);
  }

  async save(dir: string): Promise<void> {
    await this.inner.save(join(dir, 'inner'));
    await writeEstimatorFile(dir, this.kind, this.classes, { labelPrior: this.labelPrior, poolPrior: this.poolPrior });
  }

  dispose(): void {
    this.inner.dispose();
  }
}

/** The mean of probability matrices of the same shape (rows × classes), each weighted alike. */
export function averageProba(ps: Float64Array[]): Float64Array {
  if (ps.length === 0) throw new Error('averageProba: nothing to average');
  const out = new Float64Array(ps[0].length);
  for (const p of ps) {
    if (p.length !== out.length) throw new Error(`averageProba: ${out.length} vs ${p.length} values`);
    for (let i = 0; i < p.length; i++) out[i] += p[i] / ps.length;
  }
  return out;
}

/** Reads a folder any estimator's `save` wrote (a fine-tuned classifier folder without estimator.json too). The result owns what it loaded. */
export async function loadEstimator(dir: string): Promise<Estimator> {
  if (!existsSync(join(dir, ESTIMATOR_FILE))) return new FineTuned(await loadFineTuned(dir), null, true);
  const f = await readJson<EstimatorFile>(join(dir, ESTIMATOR_FILE), 'estimator');
  if (f.format !== ESTIMATOR_FORMAT) throw new Error(`${join(dir, ESTIMATOR_FILE)} is not a Tessera estimator (format ${JSON.stringify(f.format)})`);
  if (f.version > 1) throw new Error(`${join(dir, ESTIMATOR_FILE)} was written by a newer version (${f.version} > 1)`);
  switch (f.kind) {
    case 'linear':
      return new LinearHead(headFromFields(f as Parameters<typeof headFromFields>[0]), f.views === true);
    case 'raw-linear':
      return new RawFeatureHead(headFromFields(f as Parameters<typeof headFromFields>[0]), f.views === true);
    case 'fine-tune':
      return new FineTuned(await loadFineTuned(dir), null, true);
    case 'ensemble': {
      const members: Estimator[] = [];
      for (let k = 0; k < Number(f.members); k++) members.push(await loadEstimator(join(dir, `member-${k}`)));
      return new Ensemble(members);
    }
    case 'prior-shift':
      return new PriorShifted(await loadEstimator(join(dir, 'inner')), f.labelPrior as number[], f.poolPrior as number[]);
    default:
      throw new Error(`${join(dir, ESTIMATOR_FILE)}: unknown estimator kind ${JSON.stringify(f.kind)}`);
  }
}
