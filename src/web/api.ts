/**
 * The REST API client: the UI talks to the server through /api/ only, signed in one of two ways:
 * with the user's bearer token (kept in sessionStorage: gone when the tab closes), or by the
 * session cookie of a sign-in with the organisation's provider (HttpOnly: this code never sees
 * it; the browser sends it to this origin), in which case every request carries the session's
 * CSRF token, which `GET /api/me` gives and which is kept in memory only.
 */
import type { AuthConfig } from '../server/replies/account.ts';
import type { ClassKind, LabelDef, Taxonomy as TaxonomyReply } from '../server/replies/common.ts';
import type { ImportOutcome, Task as TaskReply, TaskAhead as TaskAheadReply, TaxonomyChange as TaxonomyChangeReply } from '../server/replies/labelling.ts';

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

// ---- reply shapes: the server's reply schemas (src/server/replies), types only ----

export type { AuditEvent, ItemRow, LabelDef, Modality } from '../server/replies/common.ts';
export type { AuthConfig, IssuedToken, Me, Member, UserRow } from '../server/replies/account.ts';
export type { ImportOutcome, ImportReport, LabelSettings, LabelStatus, ProjectSummary, TaskItem, TaxonomyPreview } from '../server/replies/labelling.ts';
export type { Agreement, Annotation, Answer, BulkLabelled, Dashboard, FinalLabel, MapData, MapItem, ReviewDetail, ReviewEntry, Suggestion, VerifyResult } from '../server/replies/results.ts';

/**
 * The labelling, review and taxonomy views work with the single/multi question: its `kind` and
 * `labels`, which the server sends whenever a taxonomy has such a question (every taxonomy the
 * UI creates does). A taxonomy of other questions only is not something these views handle yet.
 */
type WithClassQuestion<T> = Omit<T, 'kind' | 'labels'> & { kind: ClassKind; labels: LabelDef[] };
export type Taxonomy = WithClassQuestion<TaxonomyReply>;
export type Task = Omit<TaskReply, 'taxonomy'> & { taxonomy: WithClassQuestion<TaskReply['taxonomy']> };
/** POST …/tasks/ahead. */
export type TaskAhead = Omit<TaskAheadReply, 'task'> & { task: Task | null };
/** POST …/taxonomy (a new version). */
export type TaxonomyCreated = Omit<TaxonomyChangeReply, 'taxonomy'> & { taxonomy: Taxonomy };

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

/** The link that signs a user in with their token (the token stays in the fragment: never sent to a server). */
export const inviteLink = (token: string, origin = location.origin) => `${origin}/#/signin?token=${encodeURIComponent(token)}`;

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
