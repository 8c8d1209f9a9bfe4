import type { Generated } from 'kysely';

/** The SQL flavour of a store; migrations and queries branch on it where the two differ. */
export type Dialect = 'sqlite' | 'postgres';

/**
 * Every table, typed once (Kysely). JSON columns are TEXT in both dialects (portable, opaque to
 * SQL); booleans are 0/1 integers; timestamps are ISO-8601 UTC strings.
 */
type Json = string;
type Bool = number;

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
  /** The single/multi question's kind and labels (what readers before migration 012 see). */
  kind: 'single' | 'multi';
  labels: Json;
  guidelines: string;
  mapping: Json | null;
  /** The version's questions (migration 012); null: one question from `kind` + `labels`. */
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
  /** The OpenID Connect provider (issuer URL) and account (`sub`) this user signs in with; null for local users (migration 013). */
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
}

export interface ReviewsTable {
  id: Generated<number>;
  project_id: number;
  item_id: number;
  reviewer_id: number;
  decision: 'accept' | 'reject' | 'fix';
  labels: Json | null;
  note: string | null;
  /** The decided answers for every question (migration 012). */
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
}

export interface EmbeddingsTable {
  model_id: number;
  item_id: number;
  dim: number;
  vector: Uint8Array;
}

export interface Database {
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

// ---- Governed labelling (migration 003; src/label/, src/server/) ----

export type Role = MembershipsTable['role'];

export interface LabelSettingsTable {
  project_id: number;
  settings: Json;
  updated_at: string;
}

export type LabelItemStatus = 'open' | 'review' | 'done';

/** The labelling state of one item; a row appears when the item is first served, prioritised or decided. */
export interface LabelItemsTable {
  item_id: number;
  project_id: number;
  /** Labelling round: a reviewer's reject starts a new one (earlier annotations stay, unused). */
  round: Generated<number>;
  status: LabelItemStatus;
  /** From a selection strategy: higher first; null = import order. */
  priority: number | null;
  final_labels: Json | null;
  /** 'import': set from a file of finished annotations (src/label/import-annotations.ts). */
  final_source: 'consensus' | 'review' | 'import' | null;
  final_confidence: number | null;
  final_taxonomy_version: number | null;
  final_provenance: Json | null;
  /** Final answers by question name (migration 012); null: `final_labels` alone. */
  final_answers: Generated<Json | null>;
  decided_at: string | null;
  updated_at: string;
}

export type AssignmentStatus = 'leased' | 'submitted' | 'skipped' | 'released';

export interface AssignmentsTable {
  id: Generated<number>;
  project_id: number;
  item_id: number;
  user_id: number;
  round: number;
  /** 'leased' past expires_at = expired (the item is back in the queue). */
  status: AssignmentStatus;
  gold: Bool;
  taxonomy_version: number;
  /** The suggestion shown with the task (labels, source, confidence), kept for the annotation. */
  suggestion: Json | null;
  leased_at: string;
  expires_at: string;
  closed_at: string | null;
  annotation_id: number | null;
}

export interface AnnotationsTable {
  round: Generated<number>;
  assignment_id: number | null;
  /** The annotator's question or remark (with `question` = 1: a question about the guidelines). */
  comment: string | null;
  /** 0: given without blindness (solo labelling by an admin or manager, migration 010). */
  blind: Generated<Bool>;
  /** Answers by question name (migration 012); null: `labels` alone (the single/multi question). */
  answers: Generated<Json | null>;
}

/** Each role a user held in a project and when (migration 010); to_at null: held now. */
export interface RolePeriodsTable {
  id: Generated<number>;
  project_id: number;
  user_id: number;
  role: Role;
  /** Null: held since before migration 010 recorded periods. */
  from_at: string | null;
  to_at: string | null;
}

export interface GoldItemsTable {
  item_id: number;
  project_id: number;
  labels: Json;
  created_at: string;
  created_by: string;
}

export interface SuggestionsTable {
  item_id: number;
  project_id: number;
  labels: Json;
  source: string;
  confidence: number | null;
  created_at: string;
  /** Pre-annotations for every question (migration 012); null: `labels` alone. */
  answers: Generated<Json | null>;
}

export type ReviewReason = 'disagreement' | 'low_confidence' | 'gold_failed' | 'taxonomy_change' | 'audit_flag';

export interface ReviewQueueTable {
  id: Generated<number>;
  project_id: number;
  item_id: number;
  round: number;
  reason: ReviewReason;
  detail: Json;
  /** What "accept" makes final (consensus label, mapped label, gold label); null = must fix or reject. */
  proposal: Json | null;
  /** The proposal for every question (migration 012); null: `proposal` alone. */
  proposal_answers: Generated<Json | null>;
  status: 'open' | 'closed';
  created_at: string;
  closed_at: string | null;
  review_id: number | null;
}

export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  /**
   * scrypt of the token with a per-token salt, `scrypt$N$r$p$salt$hash` (the token itself is shown
   * once and never stored); `scrypt-sha256$…` for a pre-005 token not used since (see src/label/tokens.ts).
   */
  token_hash: string;
  /** The token's public lookup key (16 characters after `tsr_`); null until a pre-005 token is first used. */
  lookup: string | null;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  /** When the token stops working (null: never; migration 013). */
  expires_at: string | null;
  /** What the token may reach within its user's roles: `read`, `annotate` or `full` (src/label/token-scopes.ts; migration 013). */
  scope: Generated<string>;
}

/** A browser session made by an OpenID Connect login (migration 013; src/label/sessions.ts). */
export interface SessionsTable {
  id: Generated<number>;
  user_id: number;
  /** sha256 (hex) of the secret in the session cookie; the secret itself is never stored. */
  secret_hash: string;
  issuer: string | null;
  created_at: string;
  /** Absolute end. */
  expires_at: string;
  /** The session ends after this many seconds without a request. */
  idle_seconds: number;
  last_seen_at: string;
  revoked_at: string | null;
  /** Who ended it: `signed out`, or the admin that revoked it. */
  revoked_by: string | null;
}

/** An OpenID Connect login between the redirect to the provider and its callback (migration 013). */
export interface OidcLoginsTable {
  /** sha256 (hex) of the `state` sent to the provider (and held in the browser's login cookie). */
  state_hash: string;
  nonce: string;
  /** The PKCE code verifier (its S256 challenge went to the provider). */
  code_verifier: string;
  redirect_uri: string;
  created_at: string;
  expires_at: string;
}

export interface WebhooksTable {
  id: Generated<number>;
  project_id: number;
  url: string;
  secret: string;
  events: Json;
  active: Bool;
  created_at: string;
  created_by: string;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  webhook_id: number;
  project_id: number;
  event: string;
  payload: Json;
  status: 'pending' | 'sending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: string;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

/** Failed authentications per hashed key (client address, token key) and time bucket (migration 005). */
export interface AuthFailuresTable {
  key: string;
  /** floor(epoch ms / window ms); PostgreSQL returns a bigint as a string: read it with Number(). */
  bucket: number;
  count: number;
}

export interface Database {
  label_settings: LabelSettingsTable;
  label_items: LabelItemsTable;
  assignments: AssignmentsTable;
  gold_items: GoldItemsTable;
  suggestions: SuggestionsTable;
  review_queue: ReviewQueueTable;
  api_tokens: ApiTokensTable;
  auth_failures: AuthFailuresTable;
  sessions: SessionsTable;
  oidc_logins: OidcLoginsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  role_periods: RolePeriodsTable;
}

// ---- Corpus audit and drift monitoring (migration 004; src/audit/, src/monitor/) ----

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

export interface Database {
  audit_runs: AuditRunsTable;
  audit_findings: AuditFindingsTable;
  drift_monitors: DriftMonitorsTable;
  drift_checks: DriftChecksTable;
  alerts: AlertsTable;
}

// ---- Cluster mode (migration 006; src/jobs/cluster.ts, src/jobs/shards.ts) ----

export type ShardStatus = 'pending' | 'leased' | 'done';

export interface JobShardsTable {
  job_id: number;
  shard: number;
  /** First and last item id of the shard (inclusive). */
  lo: number;
  hi: number;
  items: number;
  status: ShardStatus;
  owner: string | null;
  lease_expires_at: string | null;
  attempts: Generated<number>;
  /** JSON array of every runner that leased the shard, in order. */
  owners: Generated<Json>;
  done_at: string | null;
  done_by: string | null;
}

export interface JobShardPlansTable {
  job_id: number;
  plan: Json;
  shards: number;
  items: number;
  created_at: string;
}

export interface JobDispatchTable {
  job_id: number;
  queue: string;
  boss_id: string;
  sent_at: string;
}

export interface WorkersTable {
  id: string;
  host: string;
  pid: number;
  /** JSON array of the job types the worker serves. */
  queues: Json;
  concurrency: number;
  started_at: string;
  heartbeat_at: string;
}

export interface Database {
  job_shards: JobShardsTable;
  job_shard_plans: JobShardPlansTable;
  job_dispatch: JobDispatchTable;
  workers: WorkersTable;
}

// ---- Keyed audit chain (migration 009; src/store/audit-key.ts) ----

export interface AuditEventsTable {
  /** How `hash` was made: null = plain sha256; `hmac-sha256:<key id>` = HMAC under the audit key. */
  chain: string | null;
}
