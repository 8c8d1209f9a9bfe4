/**
 * Rotation prediction (Gidaris, Singh & Komodakis 2018, "Unsupervised Representation Learning
 * by Predicting Image Rotations"): every image of the batch is shown at each angle of `angles`
 * (default 0°, 90°, 180°, 270°) and a linear head on the encoder output predicts which angle
 * (softmax cross-entropy). Optional light augmentation (same settings as SimCLR's) before the
 * rotation; by default only a mild random crop.
 */
import { num, numList, sub, type Config } from '../config.ts';
import { UserError } from '../../core/errors.ts';
import { Params } from '../nn.ts';
import { IMAGE_DEFAULTS, ImageBackbone } from '../encoders/image.ts';
import { compose, photometric, randomGeometry, rotationMap, type Affine } from '../transforms/image.ts';
import { imageAugment } from '../transforms/config.ts';
import { addLinear, linear } from '../heads/mlp.ts';
import { softmaxCrossEntropy } from '../losses/classification.ts';
import { OPTIM_DEFAULTS, assertBackbone, type PretextMethod } from './method.ts';

export const rotation: PretextMethod = {
  name: 'rotation',
  modality: 'image',
  description: 'rotation prediction: classify which of a set of angles (default 0/90/180/270°) an image was rotated by',
  minBatch: 1,
  defaults: {
    encoder: IMAGE_DEFAULTS,
    /** Angles in degrees; each image appears once per angle. */
    angles: [0, 90, 180, 270],
    /** Same steps as SimCLR's augment; p = 0 switches a step off. */
    augment: {
      crop: { p: 0.5, scale: [0.7, 1], ratio: [0.8, 1.25] },
      flip: 0,
      affine: { p: 0, degrees: 10, translate: 0.1, scale: [0.9, 1.1], shear: 5 },
      jitter: { p: 0, brightness: 0.2, contrast: 0.2 },
      noise: { p: 0.3, std: 0.05 },
      erase: { p: 0, area: [0.02, 0.15], ratio: [0.3, 3.3] },
    },
    optim: { ...OPTIM_DEFAULTS, lr: 2e-3, weightDecay: 1e-4 },
  },
  create(backbone, data, cfg: Config, rng) {
    const bb = assertBackbone(backbone, ImageBackbone, 'rotation');
    const angles = numList(cfg, 'angles');
    if (angles.length < 2) throw new UserError('config.angles needs at least two angles');
    if (new Set(angles.map((a) => ((a % 360) + 360) % 360)).size !== angles.length) throw new UserError(`config.angles has duplicate angles (mod 360): ${angles.join(', ')}`);
    const aug = imageAugment(sub(cfg, 'augment'));
    num(cfg.optim as Config, 'lr');
    const heads = new Params();
    addLinear(heads, 'angle', bb.dim, angles.length, rng);
    const { height: H, width: W, source } = bb.prep;
    const C = source.channels;
    return {
      heads,
      loss(idx, r) {
        const K = angles.length;
        const all = new Int32Array(idx.length * K);
        const maps: Affine[] = [];
        const labels = new Int32Array(idx.length * K);
        idx.forEach((i, b) => {
          const g = randomGeometry(H, W, aug, r);
          angles.forEach((a, k) => {
            all[b * K + k] = i;
            labels[b * K + k] = k;
            maps.push(compose(g, rotationMap(H, W, a)));
          });
        });
        const x = bb.input(bb.views(data, all, maps, (img, at) => photometric(img, at, H, W, C, aug, r)), all.length);
        return softmaxCrossEntropy(linear(heads, 'angle', bb.trunk.forward(x, true)), labels);
      },
      dispose: () => heads.dispose(),
    };
  },
};
