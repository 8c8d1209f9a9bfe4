/**
 * Text encoder: a BPE tokenizer trained on the corpus, token embeddings, then either
 *  - `cnn` (default): residual pre-LayerNorm blocks x + ReLU(conv1d_k,dilation(LN(x))) with
 *    dilations growing 1, 2, 4, … (as in ByteNet, Kalchbrenner et al. 2016), or
 *  - `transformer`: pre-LN transformer blocks (Vaswani et al. 2017; Xiong et al. 2020) with
 *    learned positions;
 * and the embedding is the mean of the final LayerNorm-ed token states over the real tokens.
 *
 * Why a CNN by default: on the wasm backend a batched (rank-3) matmul — the core of attention —
 * runs ~15× slower per FLOP than a 2-D one, so a transformer step costs ~4× a CNN step of the
 * same width. Pad positions are zeroed after every block, so a text's embedding does not depend
 * on how long the other texts of its batch are.
 * Batches are padded to their longest text (capped at `maxLen`), so short texts cost little.
 */
import { tf } from '../../ml/engine.ts';
import type { ModalityData } from '../types.ts';
import { UserError } from '../../core/errors.ts';
import { num, numList, sub, type Config } from '../config.ts';
import { Params, addConv1d, addDense, addLayerNorm, conv1d, dense, dropout, gatherRows, gelu, layerNorm, type Tensor } from '../nn.ts';
import { Rng } from '../rng.ts';
import { BpeTokenizer, UNK, type TokenizerJSON } from './tokenizer.ts';
import { expectModality, type Backbone, type BackboneSpec, type ModalityKit } from './backbone.ts';

export const TEXT_DEFAULTS: Config = {
  /** BPE vocabulary size (including [PAD], [UNK], [MASK]). */
  vocabSize: 3000,
  lowercase: true,
  /** Tokens kept per text (longer texts are truncated). */
  maxLen: 64,
  /** 'cnn' or 'transformer'. */
  arch: 'cnn',
  dim: 128,
  dropout: 0.1,
  cnn: { kernel: 3, dilations: [1, 2, 4, 1] },
  transformer: { layers: 2, heads: 4, ffn: 256 },
};

interface TextCfg {
  vocabSize: number;
  lowercase: boolean;
  maxLen: number;
  arch: 'cnn' | 'transformer';
  dim: number;
  dropout: number;
  cnn: { kernel: number; dilations: number[] };
  transformer: { layers: number; heads: number; ffn: number };
}

function resolve(c: Config): TextCfg {
  const w = 'config.encoder';
  const arch = c.arch;
  if (arch !== 'cnn' && arch !== 'transformer') throw new UserError(`${w}.arch must be "cnn" or "transformer", got ${JSON.stringify(arch)}`);
  const cn = sub(c, 'cnn');
  const tr = sub(c, 'transformer');
  const cfg: TextCfg = {
    vocabSize: num(c, 'vocabSize', { min: 16, max: 100_000, int: true, where: w }),
    lowercase: c.lowercase !== false,
    maxLen: num(c, 'maxLen', { min: 2, max: 4096, int: true, where: w }),
    arch,
    dim: num(c, 'dim', { min: 4, int: true, where: w }),
    dropout: num(c, 'dropout', { min: 0, max: 0.9, where: w }),
    cnn: {
      kernel: num(cn, 'kernel', { min: 1, max: 15, int: true, where: `${w}.cnn` }),
      dilations: numList(cn, 'dilations', `${w}.cnn`).map((d) => Math.max(1, Math.round(d))),
    },
    transformer: {
      layers: num(tr, 'layers', { min: 0, int: true, where: `${w}.transformer` }),
      heads: num(tr, 'heads', { min: 1, int: true, where: `${w}.transformer` }),
      ffn: num(tr, 'ffn', { min: 1, int: true, where: `${w}.transformer` }),
    },
  };
  if (arch === 'transformer' && cfg.dim % cfg.transformer.heads !== 0) {
    throw new UserError(`${w}.dim (${cfg.dim}) must be a multiple of transformer.heads (${cfg.transformer.heads})`);
  }
  return cfg;
}

export interface TokenBatch {
  /** B×L token ids, 0-padded. */
  ids: Int32Array;
  B: number;
  L: number;
  lengths: Int32Array;
}

export interface TextForward {
  /** B×L×dim final token states. */
  tokens: Tensor;
  /** B×dim mean over real tokens. */
  pooled: Tensor;
}

export class TextBackbone implements Backbone {
  readonly modality = 'text' as const;
  readonly params = new Params();
  readonly dim: number;
  readonly cfg: TextCfg;
  private readonly cache = new WeakMap<string[], number[][]>();

  constructor(
    readonly tokenizer: BpeTokenizer,
    encoder: Config,
    rng: Rng,
  ) {
    this.cfg = resolve(encoder);
    const { dim, maxLen } = this.cfg;
    this.dim = dim;
    const V = tokenizer.size;
    const p = this.params;
    p.add('tok/emb', [V, dim], { normal: 0.02 }, rng);
    if (this.cfg.arch === 'transformer') {
      const { layers, ffn } = this.cfg.transformer;
      p.add('pos/emb', [maxLen, dim], { normal: 0.02 }, rng);
      for (let l = 0; l < layers; l++) {
        addLayerNorm(p, `b${l}/ln1`, dim, rng);
        for (const n of ['q', 'k', 'v', 'o']) addDense(p, `b${l}/${n}`, dim, dim, rng);
        addLayerNorm(p, `b${l}/ln2`, dim, rng);
        addDense(p, `b${l}/ff1`, dim, ffn, rng, 'he');
        addDense(p, `b${l}/ff2`, ffn, dim, rng);
      }
    } else {
      this.cfg.cnn.dilations.forEach((_, l) => {
        addLayerNorm(p, `c${l}/ln`, dim, rng);
        addConv1d(p, `c${l}/conv`, this.cfg.cnn.kernel, dim, dim, rng);
      });
    }
    addLayerNorm(p, 'lnf', dim, rng);
  }

  get vocabSize(): number {
    return this.tokenizer.size;
  }

  spec(): BackboneSpec {
    return { modality: 'text', encoder: { ...this.cfg }, prep: { tokenizer: this.tokenizer.toJSON() }, inputShape: [this.cfg.maxLen] };
  }

  count(data: ModalityData): number {
    return expectModality(data, 'text').texts.length;
  }

  /** Token ids of every text (cached per texts array). */
  tokenized(texts: string[]): number[][] {
    let t = this.cache.get(texts);
    if (!t) {
      t = texts.map((s) => {
        const ids = this.tokenizer.encode(s, this.cfg.maxLen);
        return ids.length ? ids : [UNK];
      });
      this.cache.set(texts, t);
    }
    return t;
  }

  batch(texts: string[], idx: Int32Array): TokenBatch {
    const all = this.tokenized(texts);
    const B = idx.length;
    let L = 1;
    for (const i of idx) L = Math.max(L, all[i].length);
    const ids = new Int32Array(B * L);
    const lengths = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const t = all[idx[b]];
      ids.set(t, b * L);
      lengths[b] = t.length;
    }
    return { ids, B, L, lengths };
  }

  /** Forward pass; `rng` given and `training` → dropout on. */
  forward(tb: TokenBatch, opts: { training: boolean; rng?: Rng }): TextForward {
    const { B, L, lengths } = tb;
    const { dim } = this.cfg;
    const p = this.params;
    const rate = opts.training ? this.cfg.dropout : 0;
    const drop = (x: Tensor) => (rate > 0 && opts.rng ? dropout(x, rate, opts.rng.seed()) : x);
    const maskVals = new Float32Array(B * L);
    for (let b = 0; b < B; b++) for (let l = 0; l < lengths[b]; l++) maskVals[b * L + l] = 1;
    const mask = tf.tensor3d(maskVals, [B, L, 1]);
    const emb = tf.reshape(gatherRows(p.get('tok/emb'), tf.tensor1d(tb.ids, 'int32')), [B, L, dim]);
    let x: Tensor;
    if (this.cfg.arch === 'transformer') {
      x = this.transformer(drop(tf.add(emb, tf.slice(p.get('pos/emb'), [0, 0], [L, dim]))), maskVals, B, L, drop);
    } else {
      x = tf.mul(drop(emb), mask);
      const { kernel, dilations } = this.cfg.cnn;
      dilations.forEach((dil, l) => {
        const h = tf.relu(conv1d(p, `c${l}/conv`, layerNorm(p, `c${l}/ln`, x), kernel, dil));
        x = tf.mul(tf.add(x, drop(h)), mask);
      });
    }
    const tokens = layerNorm(p, 'lnf', x);
    const len = tf.tensor2d(Float32Array.from(lengths), [B, 1]);
    const pooled = tf.div(tf.sum(tf.mul(tokens, mask), 1), len);
    return { tokens, pooled };
  }

  private transformer(input: Tensor, maskVals: Float32Array, B: number, L: number, drop: (x: Tensor) => Tensor): Tensor {
    const { dim } = this.cfg;
    const { heads, layers } = this.cfg.transformer;
    const dh = dim / heads;
    const p = this.params;
    const bias = maskVals.map((m) => (m ? 0 : -1e9));
    const attnBias = tf.tensor4d(bias, [B, 1, 1, L]);
    const splitHeads = (t: Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [B, L, heads, dh]), [0, 2, 1, 3]), [B * heads, L, dh]) as tf.Tensor3D;
    let x = input;
    for (let l = 0; l < layers; l++) {
      const h = layerNorm(p, `b${l}/ln1`, x);
      const q = splitHeads(dense(p, `b${l}/q`, h));
      const k = splitHeads(dense(p, `b${l}/k`, h));
      const v = splitHeads(dense(p, `b${l}/v`, h));
      const scores = tf.add(tf.reshape(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), [B, heads, L, L]), attnBias);
      const attn = drop(tf.softmax(scores));
      const ctx = tf.matMul(tf.reshape(attn, [B * heads, L, L]) as tf.Tensor3D, v);
      const merged = tf.reshape(tf.transpose(tf.reshape(ctx, [B, heads, L, dh]), [0, 2, 1, 3]), [B, L, dim]);
      x = tf.add(x, drop(dense(p, `b${l}/o`, merged)));
      const h2 = layerNorm(p, `b${l}/ln2`, x);
      x = tf.add(x, drop(dense(p, `b${l}/ff2`, gelu(dense(p, `b${l}/ff1`, h2)))));
    }
    return x;
  }

  /** Texts sorted by token count (ties by index), so embedding batches carry little padding. */
  embedOrder(data: ModalityData): Int32Array {
    const t = this.tokenized(expectModality(data, 'text').texts);
    return Int32Array.from(t.keys()).sort((a, b) => t[a].length - t[b].length || a - b);
  }

  embed(data: ModalityData, idx: Int32Array): tf.Tensor2D {
    const texts = expectModality(data, 'text').texts;
    return tf.tidy(() => this.forward(this.batch(texts, idx), { training: false }).pooled as tf.Tensor2D);
  }

  dispose(): void {
    this.params.dispose();
  }
}

export const textKit: ModalityKit<TextBackbone> = {
  modality: 'text',
  defaults: TEXT_DEFAULTS,
  create(data, encoder, rng) {
    const texts = expectModality(data, 'text').texts;
    const cfg = resolve(encoder);
    const tok = BpeTokenizer.train(texts, { vocabSize: cfg.vocabSize, lowercase: cfg.lowercase });
    return new TextBackbone(tok, encoder, rng);
  },
  restore(spec) {
    const prep = spec.prep as { tokenizer: TokenizerJSON };
    return new TextBackbone(BpeTokenizer.fromJSON(prep.tokenizer), spec.encoder, new Rng(0));
  },
};
