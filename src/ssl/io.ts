/**
 * Checkpoint files. tfjs without tfjs-node has no `file://` handler, so weights go through a
 * small `tf.io.IOHandler` that writes the standard tfjs pair — `model.json` (topology + weights
 * manifest) and `weights.bin` — into a folder, and reads it back.
 *
 * Every file is written to a temporary name and renamed into place, so a crash mid-write leaves
 * the previous complete file rather than a torn one.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tf } from '../ml/engine.ts';
import type { NamedTensor } from './nn.ts';

const TMP = `.tmp-${process.pid}`;

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = path + TMP;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 1) + '\n');
}

export async function readJson<T>(path: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${what}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${what}: ${path} is not valid JSON (${(e as Error).message})`);
  }
}

/** `tf.io.IOHandler` over a folder: `<dir>/<name>.json` + `<dir>/<weights>`. */
export function fileHandler(dir: string, name = 'model.json', weights = 'weights.bin'): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await mkdir(dir, { recursive: true });
      const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as {},
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [weights], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      await writeFileAtomic(join(dir, weights), new Uint8Array(data));
      await writeJson(join(dir, name), modelJson);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: data.byteLength,
        },
      };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = await readJson<tf.io.ModelJSON>(join(dir, name), 'checkpoint');
      const specs = json.weightsManifest.flatMap((g) => g.weights);
      const buffers: ArrayBuffer[] = [];
      for (const group of json.weightsManifest) {
        for (const p of group.paths) {
          const b = await readFile(join(dir, p));
          buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
        }
      }
      const weightData = tf.io.CompositeArrayBuffer.join(buffers);
      const expected = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
      if (weightData.byteLength !== expected) {
        throw new Error(`checkpoint ${dir}: ${weights} has ${weightData.byteLength} bytes, the manifest in ${name} describes ${expected}`);
      }
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        weightSpecs: specs,
        weightData,
        userDefinedMetadata: json.userDefinedMetadata,
      };
    },
  };
}

/** Saves named tensors as a tfjs model folder; `topology` is stored as the model's topology. */
export async function saveTensors(dir: string, tensors: NamedTensor[], topology: object, format: string, name?: string, weights?: string): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await fileHandler(dir, name, weights).save!({
    modelTopology: topology,
    format,
    generatedBy: `tessera (tfjs ${tf.version_core})`,
    weightSpecs: specs,
    weightData: data,
  });
}

/** Loads the tensors written by `saveTensors` (caller disposes them). */
export async function loadTensors(dir: string, name?: string, weights?: string): Promise<{ tensors: tf.NamedTensorMap; topology: unknown; format?: string }> {
  const art = await fileHandler(dir, name, weights).load!();
  const tensors = tf.io.decodeWeights(art.weightData!, art.weightSpecs!);
  return { tensors, topology: art.modelTopology, format: art.format };
}

export function disposeMap(m: tf.NamedTensorMap): void {
  for (const t of Object.values(m)) t.dispose();
}
