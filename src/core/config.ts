import { resolve } from 'node:path';

/** Where Tessera keeps its state, from the environment (the only place config is read). */
export interface StoreConfig {
  /** `sqlite` (default: one file under TESSERA_HOME) or `postgres` (TESSERA_DATABASE_URL). */
  kind: 'sqlite' | 'postgres';
  /** SQLite file path, or the PostgreSQL connection string. */
  location: string;
  /** PostgreSQL schema to use (tests isolate themselves with one each). */
  schema?: string;
}

export function tesseraHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.TESSERA_HOME ?? '.tessera');
}

export function storeConfigFromEnv(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const url = env.TESSERA_DATABASE_URL;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    return { kind: 'postgres', location: url, schema: env.TESSERA_DATABASE_SCHEMA };
  }
  if (url) throw new Error(`TESSERA_DATABASE_URL must start with postgres:// (got "${url.slice(0, 20)}…")`);
  return { kind: 'sqlite', location: resolve(tesseraHome(env), 'tessera.db') };
}
