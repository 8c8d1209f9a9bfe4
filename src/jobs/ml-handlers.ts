import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { tesseraHome } from '../core/config.ts';
import { UserError } from '../core/errors.ts';
import type { Store } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import { createSnapshot, getModel, readEmbeddings, registerModel, writeEmbeddings } from '../store/models.ts';
import { getProject, type Project } from '../store/projects.ts';
import { JOB_PARAMS, jobKind, type EmbedJobParams, type JobContext, type PretrainJobParams, type ProbeJobParams } from './types.ts';

// The ML stack (tfjs + wasm) loads only when an ML job runs: plain CLI commands stay fast.
const ssl = () => import('../ssl/index.ts');
const sslData = () => import('../ssl/data.ts');

async function load(store: Store, project: Project) {
  const { loadModalityData, projectModality } = await sslData();
  const modality = await projectModality(store, project.id);
  return loadModalityData(store, project.id, modality, { sampleRate: project.settings.sampleRate });
}

/** Checkpoints of a pretraining job live under $TESSERA_HOME/models/<project>/job-<id>. */
export function checkpointDir(project: string, jobId: number): string {
  return join(tesseraHome(), 'models', project, `job-${jobId}`);
}

/**
 * The checkpoint a re-run pretraining job resumes from: `<dir>/checkpoint`, or undefined when no
 * epoch finished. A process killed between the two renames that swap a new checkpoint in
 * (src/ssl/checkpoint.ts writeCheckpoint: `checkpoint` → `.prev`, then `.next` → `checkpoint`) left no
 * `checkpoint` but a complete `checkpoint.next` (its train/state.json is written last) and maybe
 * `checkpoint.prev`: the swap is finished here (newest complete one first) instead of the job
 * starting over from epoch 1.
 */
export function resumableCheckpoint(dir: string): string | undefined {
  const ckpt = join(dir, 'checkpoint');
  if (existsSync(ckpt)) return ckpt;
  for (const candidate of [`${ckpt}.next`, `${ckpt}.prev`]) {
    if (existsSync(join(candidate, 'train', 'state.json'))) {
      renameSync(candidate, ckpt);
      return ckpt;
    }
  }
  return undefined;
}

async function pretrainJob(store: Store, p: PretrainJobParams, { job, signal, progress }: JobContext) {
  const project = await getProject(store.db, p.project);
  const { pretrain, PRETEXTS, defaultPretext } = await ssl();
  const loaded = await load(store, project);
  const pretext = p.pretext ?? defaultPretext(loaded.data.modality);
  const known = Object.hasOwn(PRETEXTS, pretext) ? PRETEXTS[pretext] : undefined;
  if (!known) throw new UserError(`unknown pretext "${pretext}" (known: ${Object.keys(PRETEXTS).join(', ')})`);
  if (known.modality !== loaded.data.modality) throw new UserError(`pretext "${pretext}" is for ${known.modality}; project "${p.project}" holds ${loaded.data.modality}`);
  const dir = checkpointDir(p.project, job.id);
  // A job re-run after a crash continues from its last epoch checkpoint.
  const resumeFrom = resumableCheckpoint(dir);
  const result = await pretrain(loaded.data, {
    pretext,
    epochs: p.epochs,
    batch: p.batch,
    seed: p.seed,
    config: p.config,
    workers: p.workers,
    signal,
    checkpointDir: join(dir, 'checkpoint'),
    resumeFrom,
    onEpoch: (e) => progress(e.epoch / p.epochs, `epoch ${e.epoch}/${p.epochs} loss ${e.loss.toFixed(4)}`),
  });
  const encoderDir = join(dir, 'encoder');
  await result.encoder.save(encoderDir);
  result.encoder.dispose();
  const model = await store.db.transaction().execute(async (trx) => {
    const datasetId = await createSnapshot(trx, project.id, `pretrain job ${job.id}`, loaded.itemIds, { purpose: 'pretrain', pretext, modality: loaded.data.modality });
    const id = await registerModel(trx, {
      projectId: project.id,
      kind: 'encoder',
      pretext,
      parentId: null,
      datasetId,
      taxonomyVersion: null,
      checkpointPath: encoderDir,
      params: { epochs: p.epochs, batch: p.batch, seed: p.seed, config: p.config ?? {}, modality: loaded.data.modality, items: loaded.itemIds.length },
      metrics: { finalLoss: result.finalLoss, losses: result.losses, seconds: result.seconds },
    });
    await appendAudit(trx, store.dialect, { projectId: project.id, actor: p.actor, action: 'model.pretrain', subject: `model:${id}`, payload: { pretext, datasetId, epochs: p.epochs, seed: p.seed } });
    return id;
  });
  return { model, pretext, epochs: result.epochs, finalLoss: result.finalLoss, seconds: result.seconds };
}

async function embedJob(store: Store, p: EmbedJobParams, { progress }: JobContext) {
  const project = await getProject(store.db, p.project);
  const model = await getModel(store.db, project.id, p.model);
  const t0 = performance.now();
  const { loadEncoder } = await ssl();
  const encoder = await loadEncoder(model.checkpointPath!);
  const loaded = await load(store, project);
  progress(0.1, `embedding ${loaded.itemIds.length} items`);
  const vectors = await encoder.embed(loaded.data);
  encoder.dispose();
  progress(0.8, 'storing');
  await writeEmbeddings(store, model.id, loaded.itemIds, vectors, encoder.dim);
  return { model: model.id, items: loaded.itemIds.length, dim: encoder.dim, seconds: (performance.now() - t0) / 1000 };
}

async function probeJob(store: Store, p: ProbeJobParams, { progress }: JobContext) {
  const project = await getProject(store.db, p.project);
  const model = await getModel(store.db, project.id, p.model);
  const { labelIndex, chooseProbeSplit, probeReport } = await import('../probe/probe.ts');
  const { rawFeatures } = await import('../probe/raw.ts');
  const { selectRows } = await import('../probe/features.ts');
  const { loadEncoder, randomEncoder } = await ssl();
  const { subsetData } = await sslData();
  const loaded = await load(store, project);
  const { y, classes } = labelIndex(loaded.labels);
  if (classes.length < 2) throw new UserError(`the probe needs source labels of at least 2 classes; project "${p.project}" has ${classes.length}`);
  const split = chooseProbeSplit(y, p.labels, p.seed, { testMax: p.testMax });
  const rows = [...split.train, ...split.test];
  const sub = subsetData(loaded.data, rows);

  progress(0.2, 'SSL encoder');
  const stored = await readEmbeddings(store.db, model.id, rows.map((i) => loaded.itemIds[i]));
  let ssl_;
  if (stored.missing === 0) ssl_ = { rows: rows.length, dim: stored.dim, data: stored.data };
  else {
    const enc = await loadEncoder(model.checkpointPath!);
    ssl_ = { rows: rows.length, dim: enc.dim, data: await enc.embed(sub) };
    enc.dispose();
  }
  progress(0.5, 'random-init encoder');
  const rnd = await randomEncoder(sub, { pretext: model.pretext!, seed: p.seed, config: (model.params.config ?? {}) as Record<string, unknown> });
  const random = { rows: rows.length, dim: rnd.dim, data: await rnd.embed(sub) };
  rnd.dispose();
  progress(0.7, 'raw features');
  // Raw features are fitted on every item (unsupervised, e.g. TF-IDF vocabulary), then the split's rows taken.
  const raw = selectRows(await rawFeatures(loaded.data), rows);
  progress(0.8, 'probes');
  return { ...probeReport({ ssl: ssl_, random_init: random, raw }, y, classes, split, p.seed), model: model.id };
}

/** The ML job kinds (src/jobs/handlers.ts lists every kind). */
export const mlJobKinds = {
  pretrain: jobKind(JOB_PARAMS.pretrain, pretrainJob),
  embed: jobKind(JOB_PARAMS.embed, embedJob),
  probe: jobKind(JOB_PARAMS.probe, probeJob),
  suggest: jobKind(JOB_PARAMS.suggest, async (store, params, ctx) => (await import('./shards.ts')).suggestInProcess(store, params, ctx.progress)),
};
