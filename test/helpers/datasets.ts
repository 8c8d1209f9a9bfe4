import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

/** Repo root (this file is test/helpers/datasets.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The shared, read-only public datasets (see ../shared/datasets/README.md), beside the checkout. */
export const SHARED_DATASETS = resolve(REPO_ROOT, '../shared/datasets');
export const dataset = (...parts: string[]) => resolve(SHARED_DATASETS, ...parts);
