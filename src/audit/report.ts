import type { Modality } from '../core/modality.ts';
import type { FindingAction } from '../store/schema.ts';
import type { AnnBackend } from './ann.ts';
import type { ClassBalance } from './balance.ts';
import type { ContentProblem } from './content.ts';
import type { PiiFieldCounts } from '../ingest/pii-fields.ts';
import type { ResidencyReport } from './residency.ts';

/** What an audit is asked (`tessera audit` flags), what it reports, and the per-item findings it stores. */

export interface AuditOptions {
  project: string;
  actor: string;
  /** Embeddings to use: a model id; 'none' to skip; default the latest encoder that has embeddings here. */
  model?: number | 'none';
  ann?: AnnBackend;
  /** Text near-duplicates: Jaccard of character 5-gram sets (default 0.8). */
  textThreshold?: number;
  /** Image near-duplicates: perceptual hash and the largest Hamming distance out of 64 bits (default pHash, 4). */
  imageHash?: 'phash' | 'dhash';
  imageMaxDistance?: number;
  /** Embedding near-duplicates: cosine similarity at or above (default 0.98). */
  embeddingThreshold?: number;
  /** Neighbours for kNN-distance outliers (default 10). */
  k?: number;
  /** Robust z above which a value is an outlier (default 3.5). */
  zThreshold?: number;
  /** Coverage clusters (default √(n/2), between 2 and 50). */
  clusters?: number;
  /** Which labels cover a cluster: source labels, final labels and gold ('all', default) or only human ones. */
  coverageLabels?: 'all' | 'human';
  seed?: number;
  jobId?: number;
  /** Findings listed per section in the report (default 20). */
  examples?: number;
}

export interface AuditHooks {
  signal?: AbortSignal;
  progress?(fraction: number | null, message: string): void;
}

export interface AuditReport {
  project: string;
  run: number;
  items: number;
  byModality: Partial<Record<Modality, number>>;
  exactDuplicates: { groups: number; items: number; redundant: number; examples: Array<{ sha256: string; size?: number; itemIds: number[] }> };
  nearDuplicates: {
    text?: {
      method: string;
      threshold: number;
      candidates: number;
      pairs: number;
      truncated?: boolean;
      clusters: number;
      redundant: number;
      examples: Array<{ size: number; itemIds: number[]; similarity: number }>;
    };
    image?: {
      method?: string;
      maxDistance?: number;
      candidates?: number;
      pairs?: number;
      truncated?: boolean;
      clusters?: number;
      redundant?: number;
      examples?: Array<{ size: number; itemIds: number[]; similarity: number; hashes?: string[] }>;
      smallImagesSkipped?: number;
      skipped?: string;
    };
    embedding?: {
      method: string;
      threshold: number;
      pairs: number;
      clusters: number;
      redundant: number;
      examples: Array<{ size: number; itemIds: number[]; similarity: number }>;
    };
  };
  problems: Record<ContentProblem, number> & { examples: Array<{ itemId: number; kind: ContentProblem; message: string }> };
  sizeOutliers: Partial<Record<Modality, SizeOutliers>>;
  embeddings: { model: number | null; items: number; dim: number; ann: AnnBackend | null; skipped?: string };
  embeddingOutliers?: { k: number; method: string; median: number; outliers: number; examples: Array<{ itemId: number; knnDistance: number; z: number }> };
  labelConflicts: { groups: number; items: number; examples: Array<{ sha256: string; itemIds: number[]; labels: Record<string, number> }> };
  classBalance: { source: ClassBalance; final: ClassBalance };
  coverage?: { clusters: number; labelled: number; uncovered: Array<{ cluster: number; size: number; representative: number }>; uncoveredItems: number };
  pii: PiiFieldCounts;
  residency: ResidencyReport;
  exclusions: { exclude: number; flag: number };
  seconds: number;
}

export interface SizeOutliers {
  metric: string;
  scale: 'log1p' | 'linear';
  method: string;
  median: number;
  outliers: number;
  examples: Array<{ itemId: number; value: number; z: number }>;
}

export interface Finding {
  itemId: number;
  kind: string;
  action: FindingAction;
  groupKey: string | null;
  score: number | null;
  detail: Record<string, unknown>;
}

/** Four decimals in the report (non-finite values as they are). */
export const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : x);
