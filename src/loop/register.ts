/**
 * A round's classifier after training: whether it replaces the model in use, its registration
 * (with its labelled snapshot and an audit event), and its suggestions when promoted.
 */
import { join } from 'node:path';
import { tesseraHome } from '../core/config.ts';
import type { Store } from '../store/db.ts';
import { createSnapshot, getModel } from '../store/models.ts';
import { appendAudit } from '../store/audit.ts';
import type { Metrics } from '../train/linear-head.ts';
import { FINE_TUNE_DEFAULTS } from '../train/fine-tune.ts';
import type { TrainedClassifier } from '../train/train-classifier.ts';
import { headParams, registerClassifier, type ClassifierParams } from '../train/registry.ts';
import { findTaxonomy } from '../label/taxonomies.ts';
import { setSuggestions } from '../label/results.ts';
import { suggestionsFrom } from '../suggest/suggestions.ts';
import { promotedWithoutTest, promotionDecision, rightOn, type Promotion } from './promotion.ts';
import { inUseProba, modelInUse, trainedOn, type LoopInputs } from './incumbent.ts';
import { unlabelledIds, type Setup } from './setup.ts';
import type { LoopOptions } from './types.ts';

/**
 * Whether the round's classifier replaces the model in use (src/loop/promotion.ts): compared on
 * its validation items that the model in use never trained on, its held-out predictions there
 * (TrainedClassifier.valProba) against the model in use's, as it serves.
 */
export async function decidePromotion(store: Store, s: Setup, inputs: LoopInputs, trained: TrainedClassifier, labels: Map<number, { label: string }>): Promise<Promotion> {
  const current = await modelInUse(store, s.project.id);
  if (!current) return promotedWithoutTest('the project has no model in use yet');
  if (!trained.valProba || trained.valPositions.length === 0) return promotedWithoutTest(`no held-out validation predictions to compare with model ${current.id}`, current.id);
  const seen = await trainedOn(store, current);
  const C = s.classes.length;
  const classIndex = new Map(s.classes.map((c, i) => [c, i]));
  const shared = trained.valPositions.map((pos, i) => ({ pos, i })).filter((v) => !seen.has(s.loaded.itemIds[v.pos]));
  const y = shared.map((v) => classIndex.get(labels.get(s.loaded.itemIds[v.pos])!.label)!);
  const fresh = new Float64Array(shared.length * C);
  shared.forEach((v, k) => fresh.set(trained.valProba!.subarray(v.i * C, v.i * C + C), k * C));
  let old: Float64Array;
  try {
    old = shared.length ? await inUseProba(current, inputs, shared.map((v) => v.pos)) : new Float64Array(0);
  } catch (e) {
    return promotedWithoutTest(`model ${current.id} in use cannot predict here (${(e as Error).message}): nothing to compare with`, current.id);
  }
  return promotionDecision(rightOn(fresh, y, C), rightOn(old, y, C), current.id);
}

export async function registerRoundModel(store: Store, s: Setup, trained: TrainedClassifier, labels: Map<number, { label: string; source: string | null; confidence: number | null }>, test: Metrics, promotion: Promotion, opts: LoopOptions, round: number): Promise<number> {
  const encoder = await getModel(store.db, s.project.id, s.encoderId);
  const taxonomy = await findTaxonomy(store.db, s.project.id);
  const ids = [...labels.keys()].sort((a, b) => a - b);
  const validation = {
    rule: `stratified ${FINE_TUNE_DEFAULTS.valFraction * 100}% of the snapshot (ascending item id), seed ${opts.seed} (src/train/fine-tune.ts stratifiedSplit)`,
    fraction: FINE_TUNE_DEFAULTS.valFraction,
    items: trained.valPositions.map((p) => s.loaded.itemIds[p]).sort((a, b) => a - b),
    linear: trained.valLinear,
    fineTune: trained.valFineTune,
    ...(trained.challenges.length ? { challenges: trained.challenges } : {}),
  };
  const ft = trained.fineTune;
  const fineTuneInfo =
    trained.fineTuneEpochs === null
      ? null
      : { maxEpochs: opts.train?.epochs ?? FINE_TUNE_DEFAULTS.epochs, epochsRun: trained.fineTuneEpochs, bestEpoch: trained.fineTuneBestEpoch, ...(ft ? { stoppedEarly: ft.stoppedEarly, trainItems: ft.trainCount, settings: ft.settings, history: ft.history, seconds: ft.seconds } : {}) };
  // The prior correction is part of the model: whoever predicts with it (tessera suggest) applies it too.
  const common = { method: trained.method, requested: trained.requested, seed: opts.seed, classes: s.classes, validation, fineTune: fineTuneInfo, ...(trained.priorShift ? { priorShift: trained.priorShift } : {}), promotion };
  // One network per registered classifier: an ensemble (several fine-tuned models averaged with a head) has no row format.
  if (trained.fineTunedModels > 1) throw new Error(`round ${round + 1}: a ${trained.method} of ${trained.fineTunedModels} fine-tuned models cannot be registered (the registry stores one network per classifier)`);
  let checkpointPath = encoder.checkpointPath;
  let params: ClassifierParams;
  if (ft) {
    // The fine-tuned encoder and its head, loadable with loadFineTuned (src/train/fine-tune.ts).
    checkpointPath = join(opts.modelsDir ?? join(tesseraHome(), 'models', s.project.name), `classifier-r${round + 1}-${Date.now().toString(36)}`);
    await ft.model.save(checkpointPath, { encoder: encoder.id, round: round + 1 });
    params = { ...common, head: 'fine-tuned encoder + linear head', features: 'encoder', temperature: ft.model.temperature };
  } else if (s.featureSource === 'ssl') {
    params = { ...common, head: 'linear (frozen encoder)', features: 'ssl', ...headParams(trained.head!) };
  } else {
    if (!s.rawFeaturizer) throw new Error('the head reads raw features, but the loop has no featurizer for them');
    params = { ...common, head: 'linear (raw features; the probe found SSL does not help)', features: 'raw', ...headParams(trained.head!), featurizer: s.rawFeaturizer };
  }
  return store.db.transaction().execute(async (trx) => {
    const datasetId = await createSnapshot(trx, s.project.id, `loop round ${round + 1}`, ids, { purpose: 'fine-tune', round: round + 1 }, ids.map((id) => ({ label: labels.get(id)!.label, decidedBy: { source: labels.get(id)!.source, confidence: labels.get(id)!.confidence } })));
    const id = await registerClassifier(trx, {
      projectId: s.project.id,
      pretext: encoder.pretext,
      parentId: encoder.id,
      datasetId,
      taxonomyVersion: taxonomy?.version ?? null,
      checkpointPath,
      params,
      metrics: { test, validation: { items: validation.items.length, linear: validation.linear, fineTune: validation.fineTune }, method: trained.method, labelledItems: ids.length, round: round + 1, promoted: promotion.promoted },
    });
    await appendAudit(trx, store.dialect, { projectId: s.project.id, actor: opts.actor, action: 'model.fine-tune', subject: `model:${id}`, payload: { encoder: encoder.id, datasetId, round: round + 1, method: trained.method, accuracy: test.accuracy, promoted: promotion.promoted, reason: promotion.reason } });
    return id;
  });
}

/** Pre-annotations for every unlabelled, non-test item: the predicted label and its calibrated confidence. */
export async function suggestRound(store: Store, s: Setup, trained: TrainedClassifier, labelled: Map<number, unknown>, model: number): Promise<void> {
  const ids = unlabelledIds(s, labelled);
  const entries = await suggestionsFrom({ id: model, classes: s.classes, proba: (pos: number[]) => trained.proba(pos) }, { ids, input: ids.map((id) => s.row.get(id)!) });
  for (let i = 0; i < entries.length; i += 2000) await setSuggestions(store, s.project, s.actor, entries.slice(i, i + 2000));
}
