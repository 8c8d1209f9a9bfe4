/**
 * The REST API client: the UI talks to the server through /api/ only, signed in one of two ways:
 * with the user's bearer token (kept in sessionStorage: gone when the tab closes), or by the
 * session cookie of a sign-in with the organisation's provider (HttpOnly: this code never sees
 * it; the browser sends it to this origin), in which case every request carries the session's
 * CSRF token, which `GET /api/me` gives and which is kept in memory only.
 */
import type { Role } from '../label/roles.ts';

const TOKEN_KEY = 'tessera.token';

export const getToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (t: string | null) => (t ? sessionStorage.setItem(TOKEN_KEY, t) : sessionStorage.removeItem(TOKEN_KEY));

let csrfToken: string | null = null;
/** The CSRF token of the signed-in session (from GET /api/me), or null when signed in by token or not at all. */
export const setCsrfToken = (t: string | null) => {
  csrfToken = t;
};

/** The headers that authenticate a request: the bearer token, else (a session) the CSRF token; the cookie goes by itself. */
function authHeaders(token: string | null): Record<string, string> {
  if (token) return { authorization: `Bearer ${token}` };
  return csrfToken ? { 'x-csrf-token': csrfToken } : {};
}

/** Requests under way (so signing out can wait for the last answers of the view being left). */
const inflight = new Set<Promise<unknown>>();
function track<T>(p: Promise<T>): Promise<T> {
  inflight.add(p);
  p.then(
    () => inflight.delete(p),
    () => inflight.delete(p),
  );
  return p;
}

/**
 * Resolves once no request is under way (at most `maxMs`), including requests that the settling
 * ones start in turn (a labelling view sends its pending answer, then gives back its preloaded
 * tasks). Signing out waits for this before the credentials go, so nothing is sent without them.
 */
export async function settled(maxMs = 5000): Promise<void> {
  const end = Date.now() + maxMs;
  for (;;) {
    // A task boundary first: requests queued behind settled promises have started by then.
    await new Promise((r) => setTimeout(r, 0));
    if (inflight.size === 0 || Date.now() >= end) return;
    await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => setTimeout(r, Math.max(0, end - Date.now())))]);
  }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Listener = () => void;
const unauthorized = new Set<Listener>();
/** Called when the server answers 401 (token revoked or wrong): the app signs out. */
export const onUnauthorized = (f: Listener) => {
  unauthorized.add(f);
  return () => {
    unauthorized.delete(f);
  };
};

export function api<T = unknown>(method: string, path: string, body?: unknown, token = getToken()): Promise<T> {
  return track(call<T>(method, path, body, token));
}

async function call<T>(method: string, path: string, body: unknown, token: string | null): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders(token) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (res.status === 401) unauthorized.forEach((f) => f());
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? (text.slice(0, 200) || res.statusText));
  }
  return json as T;
}

export const get = <T,>(path: string) => api<T>('GET', path);
export const post = <T,>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});

/** Bytes of an item (image, audio) as a Blob: <img>/<audio> cannot send the bearer token. */
export function fetchBlob(path: string): Promise<Blob> {
  return track(
    (async () => {
      const res = await fetch(path, { headers: authHeaders(getToken()) });
      if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, `could not load ${path}`);
      return res.blob();
    })(),
  );
}

/** A request that survives the page closing (the last pending answer on pagehide). */
export function sendOnUnload(path: string, body: unknown) {
  void track(fetch(path, { method: 'POST', keepalive: true, headers: { 'content-type': 'application/json', ...authHeaders(getToken()) }, body: JSON.stringify(body) })).catch(() => undefined);
}

export const P = (project: string) => `/api/projects/${encodeURIComponent(project)}`;

// ---- response shapes (as the server sends them) ----

export interface Me {
  /** admin: an instance admin (may create projects and users). */
  user: { name: string; displayName: string; admin?: boolean };
  memberships: Array<{ project: string; role: Role }>;
  /** How this caller signed in (a session carries its CSRF token). */
  auth?: { via: 'token'; scope: string; expiresAt: string | null } | { via: 'session'; expiresAt: string; idleExpiresAt: string; csrfToken: string };
}

/** Sign-in with the organisation's provider, when the server offers it (GET /auth/config, public). */
export interface AuthConfig {
  oidc: { name: string; loginUrl: string } | null;
  /** This browser sends a session cookie (live or not: /api/me says). */
  sessionCookie: boolean;
}

export async function authConfig(): Promise<AuthConfig> {
  const res = await fetch('/auth/config', { headers: { accept: 'application/json' } });
  if (!res.ok) return { oidc: null, sessionCookie: false };
  return (await res.json()) as AuthConfig;
}

/** Ends the sign-in session on the server (the cookie is dropped by its answer). */
export async function signOutSession(): Promise<void> {
  await fetch('/auth/logout', { method: 'POST', headers: authHeaders(null) }).catch(() => undefined);
  csrfToken = null;
}

/** A user as an instance admin sees them (GET /api/users). */
export interface UserRow {
  name: string;
  displayName: string;
  admin: boolean;
  createdAt: string;
  memberships: Array<{ project: string; role: Role }>;
}

/** A new token, shown once (POST /api/users, POST /api/users/:user/tokens). */
export interface IssuedToken {
  user: string | { name: string; displayName: string; admin: boolean };
  token: string;
  tokenId: number;
}

/** The link that signs a user in with their token (the token stays in the fragment: never sent to a server). */
export const inviteLink = (token: string, origin = location.origin) => `${origin}/#/signin?token=${encodeURIComponent(token)}`;

export interface ImportReport {
  imported: number;
  unchanged: number;
  rejected: number;
  errors: Array<{ where: string; message: string }>;
  redacted?: number;
  /** On a refusal for rejected records: the valid records, as they would have counted. */
  wouldImport?: { new: number; unchanged: number };
}

/** What POST …/imports answers, on success (201) and on refusal (400). */
export interface ImportOutcome {
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  job: number;
  file: string;
  format: string;
  report: ImportReport | null;
  /** Refused for rejected records: how many valid records skip-invalid would import. */
  valid: number | null;
  failure: string | null;
  error?: { code: string; message: string };
}

/**
 * Uploads a file to import (streamed by the browser as the request body). Resolves with the
 * outcome whether the import succeeded or was refused (both carry the report); throws ApiError
 * for anything else (no access, too large, …).
 */
export function uploadImport(project: string, file: Blob, query: Record<string, string>): Promise<ImportOutcome> {
  return track(upload(project, file, query));
}

async function upload(project: string, file: Blob, query: Record<string, string>): Promise<ImportOutcome> {
  const res = await fetch(`${P(project)}/imports?${new URLSearchParams(query)}`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/octet-stream', ...authHeaders(getToken()) },
    body: file,
  });
  const text = await res.text();
  let json: (ImportOutcome & { error?: { code?: string; message?: string } }) | undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (json && typeof json.job === 'number') return json as ImportOutcome;
  if (res.status === 401) unauthorized.forEach((f) => f());
  throw new ApiError(res.status, json?.error?.code ?? `HTTP_${res.status}`, json?.error?.message ?? (text.slice(0, 200) || res.statusText));
}

export interface LabelDef {
  name: string;
  description?: string;
  examples?: string[];
}

export interface Taxonomy {
  version: number;
  kind: 'single' | 'multi';
  labels: LabelDef[];
  guidelines: string;
  mapping: unknown[] | null;
  createdAt: string;
  createdBy: string | null;
}

export type Modality = 'text' | 'image' | 'audio' | 'tabular';

export interface TaskItem {
  id: number;
  modality: Modality;
  text: string | null;
  values: Record<string, unknown> | null;
  content: { mime: string; size: number } | null;
}

export interface Task {
  id: number;
  expiresAt: string;
  item: TaskItem;
  taxonomy: { version: number; kind: 'single' | 'multi'; labels: LabelDef[]; guidelines: string };
  suggestion: { labels: string[]; confidence?: number | null } | null;
}

export interface LabelStatus {
  items: number;
  gold: number;
  open: number;
  review: number;
  done: number;
  annotations: number;
  openReviews: number;
}

export interface Dashboard {
  project: string;
  role: Role;
  taxonomy: { version: number; kind: string; labels: string[] } | null;
  status: LabelStatus;
  labels: Array<{ label: string; count: number; current: boolean }>;
  decided: { consensus: number; review: number; meanConfidence: number | null };
  reviews: { open: number; closed: number; byReason: Record<string, number>; oldestOpenAt: string | null };
  annotations: { submitted: number; skipped: number; annotators: number; medianTimeMs: number | null };
  activity: { unit: string; annotations: Array<{ at: string; n: number }>; decided: Array<{ at: string; n: number }> } | null;
  learningCurve: Array<{ round: number; model: number; at: string; labelledItems: number | null; accuracy: number; macroF1: number | null; ece: number | null }>;
  economics: { at: string; rounds: number | null; summary: string } | null;
  auditFindings: { run: number; at: string; items: number; byKind: Array<{ kind: string; action: string; count: number }> } | null;
  alerts: Array<{ id: number; kind: string; subject: string; message: string; createdAt: string }>;
}

export interface Agreement {
  kind: string;
  items: number;
  annotators: number;
  answers: number;
  overall: { percent: number | null; fleiss: number | null; krippendorff: number | null; gwet: number | null; cohen: number | null } | null;
  perLabel: Array<{ label: string; kappa: number | null; prevalence: number | null }>;
  pairwise: { annotators: string[]; kappa: Array<Array<number | null>>; n: number[][] };
}

export interface AuditEvent {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  payload: Record<string, unknown>;
  prevHash?: string;
  hash?: string;
}

export interface ItemRow {
  id: number;
  modality: Modality;
  text: string | null;
  values: Record<string, unknown> | null;
  blob: { sha256: string; mime: string; size: number } | null;
  meta: Record<string, unknown>;
  locator: string;
  sourceKey: string;
  sourceLabel: string | null;
  createdAt: string;
}

export interface Suggestion {
  labels: string[];
  source?: string;
  confidence?: number | null;
}

export interface Answer {
  id: number;
  annotator: string;
  labels: string[];
  at: string;
  timeMs: number;
  taxonomyVersion: number;
  suggestion: Suggestion | null;
  suggestionAccepted: boolean | null;
}

export interface ReviewEntry {
  id: number;
  itemId: number;
  round: number;
  reason: string;
  detail: Record<string, unknown>;
  proposal: string[] | null;
  status: 'open' | 'closed';
  createdAt: string;
}

export interface ReviewDetail extends ReviewEntry {
  item: ItemRow;
  annotations: Answer[];
  gold: string[] | null;
  final: { labels: string[]; source: string; taxonomyVersion: number } | null;
}

export interface FinalLabel {
  itemId: number;
  status: 'open' | 'review' | 'done';
  labels: string[] | null;
  source: string | null;
  confidence: number | null;
  taxonomyVersion: number | null;
  decidedAt: string | null;
  provenance: Record<string, unknown> | null;
}

export interface MapItem {
  id: number;
  modality: Modality;
  text: string | null;
  sourceLabel: string | null;
  status: 'open' | 'review' | 'done';
  labels: string[] | null;
  confidence: number | null;
  suggestion: { labels: string[]; confidence: number | null } | null;
}

export interface MapData {
  source: { kind: 'model' | 'raw' | 'none'; model?: number; pretext?: string | null; features?: string; reason?: string };
  total: number;
  count: number;
  dim: number;
  vectors: string;
  items: MapItem[];
  labels: string[];
}

export interface Member {
  user: string;
  displayName: string;
  role: Role;
}

export interface VerifyResult {
  ok: boolean;
  events: number;
  verified: number;
  head: { seq: number; hash: string } | null;
  firstBad: { seq: number; kind: string; message: string } | null;
}
