import type { Generated } from 'kysely';
import type { Bool, Json } from './columns.ts';

// Corpus audit and drift monitoring (migration 004; src/audit/, src/monitor/).

export interface AuditRunsTable {
  id: Generated<number>;
  project_id: number;
  job_id: number | null;
  params: Json;
  /** The whole audit report (JSON), as `tessera audit --json` prints it. */
  summary: Json;
  items: number;
  created_at: string;
  created_by: string;
}

/** What the loop does with a finding: leave the item out of selection, send it to review, or just report it. */
export type FindingAction = 'exclude' | 'flag' | 'info';

export interface AuditFindingsTable {
  id: Generated<number>;
  run_id: number;
  project_id: number;
  item_id: number;
  /** exact_duplicate, near_duplicate, empty, unreadable, truncated, hash_mismatch, size_outlier, embedding_outlier, label_conflict, pii, coverage_gap */
  kind: string;
  action: FindingAction;
  /** Items sharing it belong together (a duplicate group's canonical id or hash, a cluster). */
  group_key: string | null;
  score: number | null;
  detail: Json;
}

export interface DriftMonitorsTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  reference_dataset_id: number;
  /** 'model' (embeddings of model_id, or of the latest encoder when null) or 'raw' (raw features). */
  features: 'model' | 'raw';
  model_id: number | null;
  tests: Json;
  alpha: number;
  active: Bool;
  created_at: string;
  created_by: string;
}

export interface DriftChecksTable {
  id: Generated<number>;
  project_id: number;
  monitor_id: number | null;
  reference_dataset_id: number;
  import_source_id: number;
  model_id: number | null;
  status: 'ok' | 'drift' | 'skipped' | 'error';
  drift: Bool;
  result: Json;
  created_at: string;
}

export interface AlertsTable {
  id: Generated<number>;
  project_id: number;
  kind: string;
  subject: string;
  message: string;
  detail: Json;
  created_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
}

export interface AuditTables {
  audit_runs: AuditRunsTable;
  audit_findings: AuditFindingsTable;
  drift_monitors: DriftMonitorsTable;
  drift_checks: DriftChecksTable;
  alerts: AlertsTable;
}
