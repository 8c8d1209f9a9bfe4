/**
 * Heads put on top of an encoder during pretraining and thrown away afterwards:
 * an MLP projection head (SimCLR's g(·): Linear → ReLU → Linear, Chen et al. 2020 §2.1)
 * and a linear head (classifier / regressor).
 */
import { tf } from '../../ml/engine.ts';
import { Params, addDense, dense, type Tensor } from '../nn.ts';
import type { Rng } from '../rng.ts';

/** dims = [in, hidden…, out]. */
export function addMlp(p: Params, name: string, dims: number[], rng: Rng): void {
  for (let i = 0; i + 1 < dims.length; i++) addDense(p, `${name}/l${i}`, dims[i], dims[i + 1], rng, i + 2 < dims.length ? 'he' : 'glorot');
}

export function mlp(p: Params, name: string, x: Tensor, layers: number): Tensor {
  let h = x;
  for (let i = 0; i < layers; i++) {
    h = dense(p, `${name}/l${i}`, h);
    if (i + 1 < layers) h = tf.relu(h);
  }
  return h;
}

/** Projection head: dim → hidden → out. */
export function addProjection(p: Params, name: string, dim: number, hidden: number, out: number, rng: Rng): void {
  addMlp(p, name, [dim, hidden, out], rng);
}

export function projection(p: Params, name: string, x: Tensor): Tensor {
  return mlp(p, name, x, 2);
}

export function addLinear(p: Params, name: string, dim: number, out: number, rng: Rng): void {
  addDense(p, name, dim, out, rng);
}

export function linear(p: Params, name: string, x: Tensor): Tensor {
  return dense(p, name, x);
}
