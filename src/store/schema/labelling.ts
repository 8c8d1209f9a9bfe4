import type { Generated } from 'kysely';
import type { Bool, Json } from './columns.ts';
import type { MembershipsTable } from './core.ts';

// Governed labelling (migration 003; src/label/, src/server/): the labelling columns of
// `annotations` live with that table in ./core.ts.

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
  /** Final answers by question name (migration 013); null: `final_labels` alone. */
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
  /** Pre-annotations for every question (migration 013); null: `labels` alone. */
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
  /** The proposal for every question (migration 013); null: `proposal` alone. */
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
  /** When the token stops working (null: never; migration 012). */
  expires_at: string | null;
  /** What the token may reach within its user's roles: `read`, `annotate` or `full` (src/label/token-scopes.ts; migration 012). */
  scope: Generated<string>;
}

/** A browser session made by an OpenID Connect login (migration 012; src/label/sessions.ts). */
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

/** An OpenID Connect login between the redirect to the provider and its callback (migration 012). */
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

export interface LabellingTables {
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
