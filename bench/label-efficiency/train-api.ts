/**
 * Everything the label-efficiency benchmark takes from src/train, in one place: the public
 * training API the loop calls too (trainClassifier, the linear head, the fine-tuning defaults and
 * encoder snapshots, the prior-shift pool), plus the settings FixMatch, noisy student and the
 * test-time views expose. A reshuffle of src/train's internals touches only this file here.
 */
export { fitHead, headProba, metricsFromProba } from '../../src/train/linear-head.ts';
export { FINE_TUNE_DEFAULTS, snapshotEncoder } from '../../src/train/fine-tune.ts';
export { TRAIN_METHODS, trainClassifier, type TrainedClassifier, type TrainMethod } from '../../src/train/train-classifier.ts';
export { FIXMATCH_DEFAULTS, resolveFixMatch, type FixMatchOptions } from '../../src/train/fixmatch.ts';
export { NOISY_STUDENT_DEFAULTS, limitPool, type NoisyStudentOptions } from '../../src/train/noisy-student.ts';
export { PRIOR_SHIFT_POOL } from '../../src/train/prior-shift.ts';
export { viewsFor } from '../../src/train/views.ts';
