/** Reading augmentation settings (each step an object of parameters, or `false` = off). */
import { UserError } from '../../core/errors.ts';
import { num, numPair, type Config } from '../config.ts';
import type { ImageAugment } from './image.ts';

function step(c: Config, key: string): Config | false {
  const v = c[key];
  if (v === false || v === null || v === undefined) return false;
  if (typeof v !== 'object' || Array.isArray(v)) throw new UserError(`config.augment.${key} must be an object or false`);
  return v as Config;
}

export function imageAugment(c: Config): ImageAugment {
  const w = 'config.augment';
  const crop = step(c, 'crop');
  const affine = step(c, 'affine');
  const jitter = step(c, 'jitter');
  const noise = step(c, 'noise');
  const erase = step(c, 'erase');
  const flip = c.flip === false ? 0 : num(c, 'flip', { min: 0, max: 1, where: w });
  return {
    crop: crop && { p: num(crop, 'p', { min: 0, max: 1, where: `${w}.crop` }), scale: numPair(crop, 'scale', `${w}.crop`), ratio: numPair(crop, 'ratio', `${w}.crop`) },
    flip,
    affine: affine && {
      p: num(affine, 'p', { min: 0, max: 1, where: `${w}.affine` }),
      degrees: num(affine, 'degrees', { min: 0, max: 180, where: `${w}.affine` }),
      translate: num(affine, 'translate', { min: 0, max: 1, where: `${w}.affine` }),
      scale: numPair(affine, 'scale', `${w}.affine`),
      shear: num(affine, 'shear', { min: 0, max: 60, where: `${w}.affine` }),
    },
    jitter: jitter && {
      p: num(jitter, 'p', { min: 0, max: 1, where: `${w}.jitter` }),
      brightness: num(jitter, 'brightness', { min: 0, max: 1, where: `${w}.jitter` }),
      contrast: num(jitter, 'contrast', { min: 0, max: 1, where: `${w}.jitter` }),
    },
    noise: noise && { p: num(noise, 'p', { min: 0, max: 1, where: `${w}.noise` }), std: num(noise, 'std', { min: 0, where: `${w}.noise` }) },
    erase: erase && { p: num(erase, 'p', { min: 0, max: 1, where: `${w}.erase` }), area: numPair(erase, 'area', `${w}.erase`), ratio: numPair(erase, 'ratio', `${w}.erase`) },
  };
}
