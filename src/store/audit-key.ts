import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TesseraError, UserError } from '../core/errors.ts';

/**
 * The key of a keyed audit chain (HMAC-SHA256), kept outside the database: TESSERA_AUDIT_KEY
 * (the key itself) or TESSERA_AUDIT_KEY_FILE (a file holding it). The store keeps only the key's
 * id — an HMAC of a fixed text under the key — in each keyed event's `chain` column, so the
 * verifier can tell which key an event claims without the key ever touching the database.
 */
export interface AuditKey {
  readonly bytes: Buffer;
  /** 16 hex characters naming the key (not secret; reveals nothing of a random key). */
  readonly id: string;
}

/** Fewer bytes than this and the key could be guessed offline from the chain's own hashes. */
export const MIN_KEY_BYTES = 32;

/** The `chain` column of an event hashed under `key`. Plain sha256 events have null. */
export const chainTag = (key: AuditKey) => `hmac-sha256:${key.id}`;

/** The key id a `chain` column names, or null for a plain event; throws on an unknown scheme. */
export function keyIdOf(chain: string | null): string | null {
  if (chain === null) return null;
  const m = /^hmac-sha256:([0-9a-f]{16})$/.exec(chain);
  if (!m) throw new TesseraError(`audit event chain scheme "${chain}" is not one this version knows (expected hmac-sha256:<key id>)`, 'E_AUDIT_CHAIN');
  return m[1];
}

export function auditKeyOf(bytes: Buffer, where: string): AuditKey {
  if (bytes.length < MIN_KEY_BYTES) throw new UserError(`${where}: the audit key must be at least ${MIN_KEY_BYTES} bytes (e.g. \`openssl rand -hex 32\`), got ${bytes.length}`);
  return { bytes, id: createHmac('sha256', bytes).update('tessera audit key id').digest('hex').slice(0, 16) };
}

/** Reads a key file: its bytes, without a trailing newline an editor or `echo` may have added. */
export function readAuditKeyFile(path: string): AuditKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`TESSERA_AUDIT_KEY_FILE: cannot read the audit key file ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return auditKeyOf(Buffer.from(text.replace(/\r?\n$/, ''), 'utf8'), `audit key file ${path}`);
}

let cached: { source: string; key: AuditKey | null } | undefined;

/**
 * The configured audit key, or null when none is set. Read from the environment on each call
 * (cached while the variables stay the same: a key file is read once per process).
 */
export function auditKeyFromEnv(env: NodeJS.ProcessEnv = process.env): AuditKey | null {
  const text = env.TESSERA_AUDIT_KEY || undefined;
  const file = env.TESSERA_AUDIT_KEY_FILE || undefined;
  const source = `${text === undefined ? '-' : `k${text}`}\0${file ?? '-'}`;
  if (cached?.source === source) return cached.key;
  if (text !== undefined && file !== undefined) throw new UserError('set TESSERA_AUDIT_KEY or TESSERA_AUDIT_KEY_FILE, not both');
  const key = text !== undefined ? auditKeyOf(Buffer.from(text, 'utf8'), 'TESSERA_AUDIT_KEY') : file !== undefined ? readAuditKeyFile(file) : null;
  cached = { source, key };
  return key;
}

/** A write to a keyed audit log without its key (or with another key): refused, nothing written. */
export class AuditKeyError extends TesseraError {
  constructor(message: string) {
    super(message, 'E_AUDIT_KEY', 1);
    this.name = 'AuditKeyError';
  }
}
