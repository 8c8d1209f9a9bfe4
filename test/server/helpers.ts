// Shared setup for the HTTP tests: a project with items, users with roles and tokens, and a
// real server listening on 127.0.0.1 (port 0) that the tests call with fetch.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { runImport } from '../../src/ingest/import.ts';
import { cliActor } from '../../src/store/context.ts';
import { ROLES, type Role } from '../../src/label/roles.ts';
import { createUser, setRole } from '../../src/label/users.ts';
import { buildApp, type AppOptions } from '../../src/server/app.ts';
import type { DispatcherOptions } from '../../src/server/webhook-dispatcher.ts';
import type { Store } from '../../src/store/db.ts';
import { getProject, type Project } from '../../src/store/projects.ts';

export const OPERATOR = cliActor('cli:test');

/** Imports `texts` as items of a new project (one JSONL import, ids t0, t1, …). */
export async function projectWithItems(store: Store, name: string, texts: string[]): Promise<Project> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-label-'));
  try {
    const file = join(dir, 'items.jsonl');
    writeFileSync(file, texts.map((text, i) => JSON.stringify({ id: `t${i}`, text, label: `secret-${i % 2}`, note: 'meta' })).join('\n') + '\n');
    await runImport(store, { project: name, path: file, format: 'jsonl', options: { idColumn: 'id' }, actor: 'cli:test' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return getProject(store.db, name);
}

/** Creates users `<prefix>-<role>` (and any extra names with roles) in the project; returns tokens by name. */
export async function usersWithRoles(store: Store, project: Project, members: Record<string, Role>): Promise<Record<string, string>> {
  const tokens: Record<string, string> = {};
  for (const [name, role] of Object.entries(members)) {
    const { token } = await createUser(store, OPERATOR, name);
    await setRole(store, project, OPERATOR, name, role);
    tokens[name] = token.token;
  }
  return tokens;
}

export const oneOfEachRole = (prefix: string): Record<string, Role> => Object.fromEntries(ROLES.map((r) => [`${prefix}-${r}`, r]));

export interface Api {
  app: FastifyInstance;
  base: string;
  call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; json: any; text: string; headers: Headers }>;
  close(): Promise<void>;
}

/**
 * A server on 127.0.0.1. The failed-authentication limit is raised out of the way (these tests
 * send bad tokens on purpose, all from one address); test/server/security-auth.test.ts checks it.
 */
export async function startApi(store: Store, webhooks?: DispatcherOptions, extra: Partial<AppOptions> = {}): Promise<Api> {
  const app = await buildApp({ store, webhooks: { pollMs: 50, backoffBaseMs: 50, ...webhooks }, authLimit: { max: 1_000_000, shared: false }, ...extra });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return {
    app,
    base,
    async call(method, path, token, body) {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text, headers: res.headers };
    },
    close: () => app.close(),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
