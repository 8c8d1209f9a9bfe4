/**
 * Masked-token prediction (BERT's MLM, Devlin et al. 2019): corrupt 15% of the tokens
 * (transforms/text.ts) and predict the originals from the encoder's token states through a
 * Dense → GELU → LayerNorm head whose output layer is tied to the input embedding (as in BERT).
 */
import { tf } from '../../ml/engine.ts';
import { num, sub, type Config } from '../config.ts';
import { Params, addDense, addLayerNorm, dense, gatherRows, gelu, layerNorm, mm } from '../nn.ts';
import { TEXT_DEFAULTS, TextBackbone } from '../encoders/text.ts';
import { expectModality } from '../encoders/backbone.ts';
import { maskTokens } from '../transforms/text.ts';
import { softmaxCrossEntropy } from '../losses/classification.ts';
import { OPTIM_DEFAULTS, assertBackbone, bucketByLength, type PretextMethod } from './method.ts';

export const mlm: PretextMethod = {
  name: 'mlm',
  modality: 'text',
  description: 'masked-token prediction (BERT-style MLM) on a small transformer over a BPE vocabulary trained on the corpus',
  minBatch: 1,
  defaults: {
    encoder: TEXT_DEFAULTS,
    /** Fraction of tokens chosen for prediction (80% → [MASK], 10% random, 10% kept). */
    maskRate: 0.15,
    optim: { ...OPTIM_DEFAULTS, lr: 1e-3, weightDecay: 0.01 },
  },
  create(backbone, data, cfg: Config, rng) {
    const bb = assertBackbone(backbone, TextBackbone, 'mlm');
    const texts = expectModality(data, 'text').texts;
    const rate = num(cfg, 'maskRate', { min: 0.01, max: 0.9 });
    sub(cfg, 'encoder');
    const heads = new Params();
    const d = bb.dim;
    const V = bb.vocabSize;
    addDense(heads, 'mlm/dense', d, d, rng, 'he');
    addLayerNorm(heads, 'mlm/ln', d, rng);
    heads.add('mlm/bias', [V], 'zeros', rng);
    return {
      heads,
      loss(idx, r) {
        const m = maskTokens(bb.batch(texts, idx), rate, V, r);
        const { tokens } = bb.forward(m.input, { training: true, rng: r });
        const flat = tf.reshape(tokens, [-1, d]);
        const h = gatherRows(flat, tf.tensor1d(m.positions, 'int32'));
        const z = layerNorm(heads, 'mlm/ln', gelu(dense(heads, 'mlm/dense', h)));
        const logits = tf.add(mm(z, bb.params.get('tok/emb'), true), heads.get('mlm/bias'));
        return softmaxCrossEntropy(logits, m.targets);
      },
      arrange: (perm, batch, r) => bucketByLength(perm, (i) => bb.tokenized(texts)[i].length, batch, r),
      dispose: () => heads.dispose(),
    };
  },
};
