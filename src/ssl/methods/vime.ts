/**
 * VIME self-supervised part (Yoon, Zhang, Jordon & van der Schaar 2020, "VIME: Extending the
 * Success of Self- and Semi-supervised Learning to Tabular Domain", §4.1): a mask m ~ Bern(p_m)
 * picks features to replace with draws from their empirical marginals; from the encoding of the
 * corrupted row, a mask estimator predicts m (binary cross-entropy) and a feature estimator
 * reconstructs the original row (MSE on numeric features, cross-entropy per categorical
 * column); loss = l_m + α·l_r (the paper's p_m = 0.3, α = 2.0).
 */
import { tf } from '../../ml/engine.ts';
import { num, type Config } from '../config.ts';
import { Params } from '../nn.ts';
import { TABULAR_DEFAULTS, TabularBackbone } from '../encoders/tabular.ts';
import { corruptFromMarginals } from '../transforms/tabular.ts';
import { addLinear, linear } from '../heads/mlp.ts';
import { sigmoidCrossEntropy, softmaxCrossEntropy } from '../losses/classification.ts';
import { mse } from '../losses/reconstruction.ts';
import { OPTIM_DEFAULTS, assertBackbone, type PretextMethod } from './method.ts';

export const vime: PretextMethod = {
  name: 'vime',
  modality: 'tabular',
  description: 'VIME: mask-and-reconstruct — estimate which features were replaced from their marginals and reconstruct the originals',
  minBatch: 1,
  defaults: {
    encoder: TABULAR_DEFAULTS,
    /** Probability that a feature is masked (replaced). */
    maskRate: 0.3,
    /** Weight of feature reconstruction relative to mask estimation. */
    alpha: 2,
    optim: { ...OPTIM_DEFAULTS, lr: 1e-3, weightDecay: 1e-5 },
  },
  create(backbone, data, cfg: Config, rng) {
    const bb = assertBackbone(backbone, TabularBackbone, 'vime');
    const rate = num(cfg, 'maskRate', { min: 0.01, max: 0.99 });
    const alpha = num(cfg, 'alpha', { min: 0 });
    const table = bb.matrix(data);
    const F = bb.numFeatures;
    const C = bb.catCount;
    const heads = new Params();
    addLinear(heads, 'mask', bb.dim, F + C, rng);
    if (F > 0) addLinear(heads, 'num', bb.dim, F, rng);
    bb.prep.cat.forEach((c, i) => addLinear(heads, `cat${i}`, bb.dim, c.values.length + 1, rng));
    return {
      heads,
      loss(idx, r) {
        const B = idx.length;
        const x = bb.rows(table, idx);
        const xc = corruptFromMarginals(x, B, table, F, C, rate, r, 'bernoulli');
        const h = bb.forward(xc, B, { training: true, rng: r });
        const lm = sigmoidCrossEntropy(linear(heads, 'mask', h), tf.tensor2d(xc.mask, [B, F + C]));
        const parts: tf.Scalar[] = [];
        if (F > 0) parts.push(tf.mul(mse(linear(heads, 'num', h), tf.tensor2d(x.num, [B, F])), F) as tf.Scalar);
        for (let c = 0; c < C; c++) {
          const y = new Int32Array(B);
          for (let b = 0; b < B; b++) y[b] = x.cat[b * C + c];
          parts.push(softmaxCrossEntropy(linear(heads, `cat${c}`, h), y));
        }
        const lr = tf.div(tf.addN(parts), F + C);
        return tf.add(lm, tf.mul(lr, alpha)) as tf.Scalar;
      },
      dispose: () => heads.dispose(),
    };
  },
};
