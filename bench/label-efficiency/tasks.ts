/**
 * The arms' work as independent tasks, run in any order or process with the same result: the
 * active curve is one task (each round selects with the labels of the rounds before it); each
 * random curve point, the scratch arm and full supervision are one each. What a task reports.
 */
import type { TrainedClassifier } from './train-api.ts';

export interface ArmScore {
  labels: number;
  accuracy: number;
  macroF1: number;
  ece: number;
  /** What won on validation. */
  method: TrainedClassifier['method'];
  valLinear: number | null;
  valFineTune: number | null;
  /** The ensemble's averaged probabilities on validation (with `ensemble`; null otherwise or when fine-tuning did not move). */
  valEnsemble: number | null;
  /** The ensemble's random-init network alone on validation (with `ensembleScratch`, SSL arms; null otherwise). */
  valScratch: number | null;
  /** Fine-tuned models in the classifier: 0 (linear head), 1, or the ensemble's count when it won. */
  fineTunedModels: number;
  fineTuneEpochs: number | null;
  /** The epoch whose weights fine-tuning kept (0 = it never beat its linear-probe start). */
  fineTuneBestEpoch: number | null;
  /** Noisy student (when enabled): the teacher's and the student's validation and test accuracy, the pseudo-labels. */
  noisyStudent: NoisyStudentScore | null;
  /** The refit on every label (when enabled and fine-tuning won): the validated step count and the refit's. */
  refit: { validatedSteps: number; steps: number } | null;
  /** The prior correction (when enabled): the labels' class prior and the one EM estimated on the unlabelled items, by class. */
  priorShift: TrainedClassifier['priorShift'];
  seconds: number;
}

export interface NoisyStudentScore {
  teacher: string;
  pseudoLabels: number;
  perClass: number[];
  /** Fraction of the pseudo-labels equal to the item's true label (the benchmark knows it; the method never reads it). */
  pseudoLabelAccuracy: number | null;
  predicted: number;
  valTeacher: number | null;
  valStudent: number | null;
  /** Test accuracy of the teacher (= the arm without noisy student) and of whichever was kept. */
  testTeacher: number | null;
  testKept: number;
  studentSteps: number | null;
  studentWon: boolean;
}

export type ArmTask = { arm: 'ssl_active' } | { arm: 'ssl_random'; labels: number } | { arm: 'scratch_random' } | { arm: 'full_supervised' };
export type ActivePoint = ArmScore & { strategy: string; uncertaintyFrom: string | null };
export type ArmTaskResult = { arm: 'ssl_active'; curve: ActivePoint[] } | { arm: 'ssl_random' | 'scratch_random' | 'full_supervised'; score: ArmScore };

export interface ArmsRunner {
  run(task: ArmTask): Promise<ArmTaskResult>;
  dispose(): void;
}

/** Every task of a run, in the order one job runs them (the order the log has always had). */
export function armTasks(sizes: readonly number[]): ArmTask[] {
  return [{ arm: 'ssl_active' }, ...sizes.map((labels) => ({ arm: 'ssl_random' as const, labels })), { arm: 'scratch_random' }, { arm: 'full_supervised' }];
}

export interface GatheredArms {
  activeCurve: ActivePoint[];
  randomCurve: ArmScore[];
  scratch: ArmScore;
  full: ArmScore;
}

/** The arms' results from every task's (tasks and results in the same order). */
export function gatherArms(tasks: readonly ArmTask[], results: readonly ArmTaskResult[]): GatheredArms {
  if (tasks.length !== results.length) throw new Error(`${tasks.length} tasks but ${results.length} results`);
  const score = (arm: ArmTask['arm']) => {
    const r = results.find((x) => x.arm === arm);
    if (!r || !('score' in r)) throw new Error(`no ${arm} result`);
    return r.score;
  };
  const active = results.find((r) => r.arm === 'ssl_active');
  if (!active || !('curve' in active)) throw new Error('no ssl_active result');
  const randomCurve = tasks
    .map((t, i) => ({ t, r: results[i] }))
    .filter((x) => x.t.arm === 'ssl_random')
    .map((x) => {
      if (x.r.arm !== 'ssl_random' || !('score' in x.r)) throw new Error(`task ${JSON.stringify(x.t)} got a ${x.r.arm} result`);
      return x.r.score;
    })
    .sort((a, b) => a.labels - b.labels);
  return { activeCurve: active.curve, randomCurve, scratch: score('scratch_random'), full: score('full_supervised') };
}
