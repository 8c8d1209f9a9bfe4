/**
 * SimCLR (Chen, Kornblith, Norouzi & Hinton 2020, "A Simple Framework for Contrastive Learning
 * of Visual Representations"): two random views of each image (transforms/image.ts), encoder
 * → projection MLP, NT-Xent over the 2B views. The encoder output (before the head) is the
 * embedding, as in the paper.
 */
import { num, sub, type Config } from '../config.ts';
import { Params } from '../nn.ts';
import { IMAGE_DEFAULTS, ImageBackbone } from '../encoders/image.ts';
import { photometric, randomGeometry } from '../transforms/image.ts';
import { imageAugment } from '../transforms/config.ts';
import { addProjection, projection } from '../heads/mlp.ts';
import { ntXentSharded } from '../losses/ntxent.ts';
import { OPTIM_DEFAULTS, assertBackbone, type PretextMethod } from './method.ts';

export const SIMCLR_AUGMENT: Config = {
  crop: { p: 1, scale: [0.35, 1], ratio: [0.75, 1.3333] },
  /** Probability of a horizontal flip (0 = never; off by default: digits and text are not mirror-symmetric). */
  flip: 0,
  affine: { p: 0.5, degrees: 15, translate: 0.1, scale: [0.9, 1.1], shear: 10 },
  jitter: { p: 0.8, brightness: 0.3, contrast: 0.3 },
  noise: { p: 0.5, std: 0.1 },
  erase: { p: 0.25, area: [0.02, 0.15], ratio: [0.3, 3.3] },
};

export const simclr: PretextMethod = {
  name: 'simclr',
  modality: 'image',
  description: 'SimCLR: two augmented views per image (crop, flip, affine, jitter, noise, erasing) pulled together with NT-Xent',
  minBatch: 2,
  defaults: {
    encoder: IMAGE_DEFAULTS,
    augment: SIMCLR_AUGMENT,
    temperature: 0.2,
    /** Projection head width. */
    projection: 128,
    optim: { ...OPTIM_DEFAULTS, lr: 2e-3, weightDecay: 1e-4 },
  },
  create(backbone, data, cfg: Config, rng) {
    const bb = assertBackbone(backbone, ImageBackbone, 'simclr');
    const aug = imageAugment(sub(cfg, 'augment'));
    const tau = num(cfg, 'temperature', { min: 1e-3 });
    const projDim = num(cfg, 'projection', { min: 1, int: true });
    const heads = new Params();
    addProjection(heads, 'proj', bb.dim, projDim, projDim, rng);
    const { height: H, width: W, source } = bb.prep;
    const C = source.channels;
    const view = (idx: Int32Array, r: typeof rng) => {
      const maps = Array.from(idx, () => randomGeometry(H, W, aug, r));
      return bb.input(bb.views(data, idx, maps, (img, at) => photometric(img, at, H, W, C, aug, r)), idx.length);
    };
    return {
      heads,
      coupled: true,
      loss(idx, r, shard) {
        const z1 = projection(heads, 'proj', bb.trunk.forward(view(idx, r), true));
        const z2 = projection(heads, 'proj', bb.trunk.forward(view(idx, r), true));
        return ntXentSharded(z1, z2, tau, shard);
      },
      dispose: () => heads.dispose(),
    };
  },
};
