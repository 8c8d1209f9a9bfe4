/**
 * SCARF (Bahri, Jiang, Tay & Metzler 2022, "SCARF: Self-Supervised Contrastive Learning using
 * Random Feature Corruption"): the positive view of a row replaces a random 60% of its features
 * with draws from their empirical marginals; encoder + projection head are trained with the
 * InfoNCE/NT-Xent loss (τ = 1 in the paper) between each row and its corrupted view.
 */
import { num, type Config } from '../config.ts';
import { Params } from '../nn.ts';
import { TABULAR_DEFAULTS, TabularBackbone } from '../encoders/tabular.ts';
import { corruptFromMarginals } from '../transforms/tabular.ts';
import { addProjection, projection } from '../heads/mlp.ts';
import { ntXentSharded } from '../losses/ntxent.ts';
import { OPTIM_DEFAULTS, assertBackbone, type PretextMethod } from './method.ts';

export const scarf: PretextMethod = {
  name: 'scarf',
  modality: 'tabular',
  description: 'SCARF: contrastive learning between each row and a copy with random features replaced from their empirical marginals (NT-Xent)',
  minBatch: 2,
  defaults: {
    encoder: TABULAR_DEFAULTS,
    /** Fraction of features replaced in the positive view. */
    corruption: 0.6,
    temperature: 1,
    /** Projection head width. */
    projection: 256,
    optim: { ...OPTIM_DEFAULTS, lr: 1e-3, weightDecay: 1e-5 },
  },
  create(backbone, data, cfg: Config, rng) {
    const bb = assertBackbone(backbone, TabularBackbone, 'scarf');
    const rate = num(cfg, 'corruption', { min: 0, max: 1 });
    const tau = num(cfg, 'temperature', { min: 1e-3 });
    const projDim = num(cfg, 'projection', { min: 1, int: true });
    const table = bb.matrix(data);
    const heads = new Params();
    addProjection(heads, 'proj', bb.dim, projDim, projDim, rng);
    return {
      heads,
      coupled: true,
      loss(idx, r, shard) {
        const B = idx.length;
        const x = bb.rows(table, idx);
        const xc = corruptFromMarginals(x, B, table, bb.numFeatures, bb.catCount, rate, r, 'exact');
        const z1 = projection(heads, 'proj', bb.forward(x, B, { training: true, rng: r }));
        const z2 = projection(heads, 'proj', bb.forward(xc, B, { training: true, rng: r }));
        return ntXentSharded(z1, z2, tau, shard);
      },
      dispose: () => heads.dispose(),
    };
  },
};
