import type { Generated } from 'kysely';
import type { Bool, Json } from './columns.ts';

/** The tables of the data store itself: projects, people, imports, items, datasets, models, jobs, audit events. */

export interface ProjectsTable {
  id: Generated<number>;
  name: string;
  created_at: string;
  settings: Json;
}

export interface TaxonomiesTable {
  id: Generated<number>;
  project_id: number;
  version: number;
  /** The single/multi question's kind and labels (what readers before migration 013 see). */
  kind: 'single' | 'multi';
  labels: Json;
  guidelines: string;
  mapping: Json | null;
  /** The version's questions (migration 013); null: one question from `kind` + `labels`. */
  questions: Generated<Json | null>;
  created_at: string;
  created_by: string | null;
}

export interface UsersTable {
  id: Generated<number>;
  name: string;
  display_name: string;
  token_hash: string | null;
  created_at: string;
  /** Instance admin (0/1): may create projects and users (migration 011). */
  is_admin: Generated<number>;
  /** The OpenID Connect provider (issuer URL) and account (`sub`) this user signs in with; null for local users (migration 012). */
  external_issuer: string | null;
  external_sub: string | null;
}

export interface MembershipsTable {
  project_id: number;
  user_id: number;
  role: 'admin' | 'manager' | 'annotator' | 'reviewer' | 'viewer';
}

export interface ImportSourcesTable {
  id: Generated<number>;
  project_id: number;
  path: string;
  format: string;
  options: Json;
  status: 'running' | 'committed' | 'rolled_back';
  started_at: string;
  finished_at: string | null;
  imported: number;
  unchanged: number;
  rejected: number;
  errors: Json;
}

export interface BlobsTable {
  sha256: string;
  mime: string;
  size: number;
  bytes: Uint8Array;
}

export interface ItemsTable {
  id: Generated<number>;
  project_id: number;
  source_id: number;
  source_key: string;
  modality: 'text' | 'image' | 'audio' | 'tabular';
  text: string | null;
  data: Json | null;
  blob_sha256: string | null;
  meta: Json;
  locator: string;
  residency: string;
  sha256: string;
  source_label: string | null;
  created_at: string;
}

export interface DatasetsTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  kind: 'snapshot' | 'split';
  spec: Json;
  item_count: number;
  created_at: string;
  /**
   * Items held out (migration 010): 'test' — never served, queued, labelled in bulk, made gold or
   * trained on; 'evaluation' — served to annotators, never trained on. Null: an ordinary dataset.
   */
  held_out: Generated<HeldOut | null>;
}

export type HeldOut = 'test' | 'evaluation';

export interface DatasetItemsTable {
  dataset_id: number;
  item_id: number;
  label: string | null;
  decided_by: Json | null;
}

export interface AnnotationsTable {
  id: Generated<number>;
  project_id: number;
  item_id: number;
  user_id: number;
  taxonomy_version: number;
  labels: Json;
  time_ms: number;
  suggestion: Json | null;
  suggestion_accepted: Bool | null;
  skipped: Bool;
  skip_reason: string | null;
  question: Bool;
  created_at: string;
  // Governed labelling (migration 003) and later:
  round: Generated<number>;
  assignment_id: number | null;
  /** The annotator's question or remark (with `question` = 1: a question about the guidelines). */
  comment: string | null;
  /** 0: given without blindness (solo labelling by an admin or manager, migration 010). */
  blind: Generated<Bool>;
  /** Answers by question name (migration 013); null: `labels` alone (the single/multi question). */
  answers: Generated<Json | null>;
}

export interface ReviewsTable {
  id: Generated<number>;
  project_id: number;
  item_id: number;
  reviewer_id: number;
  decision: 'accept' | 'reject' | 'fix';
  labels: Json | null;
  note: string | null;
  /** The decided answers for every question (migration 013). */
  answers: Generated<Json | null>;
  created_at: string;
}

export interface ModelsTable {
  id: Generated<number>;
  project_id: number;
  kind: string;
  pretext: string | null;
  parent_id: number | null;
  dataset_id: number | null;
  taxonomy_version: number | null;
  checkpoint_path: string | null;
  params: Json;
  metrics: Json;
  created_at: string;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobsTable {
  id: Generated<number>;
  project_id: number | null;
  type: string;
  status: JobStatus;
  params: Json;
  progress: number;
  message: string | null;
  result: Json | null;
  error: string | null;
  attempts: number;
  owner: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
  cancel_requested: Bool;
}

export interface AuditEventsTable {
  seq: Generated<number>;
  project_id: number | null;
  at: string;
  actor: string;
  action: string;
  subject: string;
  payload: Json;
  prev_hash: string;
  hash: string;
  // Keyed audit chain (migration 009; src/store/audit-key.ts):
  /** How `hash` was made: null = plain sha256; `hmac-sha256:<key id>` = HMAC under the audit key. */
  chain: string | null;
}

export interface EmbeddingsTable {
  model_id: number;
  item_id: number;
  dim: number;
  vector: Uint8Array;
}

export interface CoreTables {
  projects: ProjectsTable;
  taxonomies: TaxonomiesTable;
  users: UsersTable;
  memberships: MembershipsTable;
  import_sources: ImportSourcesTable;
  blobs: BlobsTable;
  items: ItemsTable;
  datasets: DatasetsTable;
  dataset_items: DatasetItemsTable;
  annotations: AnnotationsTable;
  reviews: ReviewsTable;
  models: ModelsTable;
  jobs: JobsTable;
  audit_events: AuditEventsTable;
  embeddings: EmbeddingsTable;
}
