import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { tesseraHome } from '../../core/config.ts';
import { UserError } from '../../core/errors.ts';
import type { ImportReport } from '../../ingest/import.ts';
import type { Format, ReaderOptions } from '../../ingest/types.ts';
import type { ImportJobParams } from '../../jobs/types.ts';
import type { Job } from '../../jobs/queue.ts';
import type { Store } from '../../store/db.ts';
import { authOf } from '../auth.ts';
import { ProjectParams } from '../schemas.ts';

/** The largest file the web UI's import takes; larger ones go through `tessera import` on the server. */
export const UPLOAD_LIMIT = 256 << 20;

/** The text formats the upload takes: CSV with a header, JSON Lines, and `label<TAB>text` lines (TSV). */
export const UPLOAD_FORMATS = ['csv', 'jsonl', 'sms'] as const satisfies readonly Format[];

const Column = Type.String({ minLength: 1, maxLength: 200 });
const ImportQuery = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: "the file's name (records are located as NAME:LINE; re-importing the same name and lines is idempotent)" }),
    format: Type.Union(UPLOAD_FORMATS.map((f) => Type.Literal(f)), { description: 'csv (header row), jsonl, or sms (TSV: label<TAB>text per line)' }),
    skipInvalid: Type.Optional(Type.Boolean({ description: 'import the valid records and report the rest, instead of importing nothing' })),
    textColumn: Type.Optional(Column),
    idColumn: Type.Optional(Column),
    labelColumn: Type.Optional(Column),
    encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('latin1')])),
    redactPii: Type.Optional(Type.Boolean({ description: 'replace e-mails, phone and card numbers, … before anything is stored' })),
  },
  { additionalProperties: false },
);
type ImportQuery = Static<typeof ImportQuery>;

/** What the route answers: the import job's outcome and report. */
export interface UploadOutcome {
  status: Job['status'];
  job: number;
  file: string;
  format: Format;
  report: ImportReport | null;
  /** When the import was refused for rejected records: how many valid records skipInvalid would import (new or unchanged: report.wouldImport). */
  valid: number | null;
  /** Why the job did not succeed (its error), or null. */
  failure: string | null;
}

/** Where uploads wait for their import: beside the SQLite file (its TESSERA_HOME), else under TESSERA_HOME. */
export function uploadsDir(store: Store): string {
  return store.dialect === 'sqlite' && store.location !== ':memory:' ? join(dirname(store.location), 'uploads') : join(tesseraHome(), 'uploads');
}

/**
 * A file name safe to create in a fresh folder and readable in a record's locator: the last path
 * segment, characters other than letters, digits, space and `._()+-` replaced by `_`, no
 * leading dots.
 */
export function safeFileName(name: string): string {
  const last = name.split(/[/\\]/).pop() ?? '';
  const clean = last.replace(/[^\p{L}\p{N} ._()+-]/gu, '_').replace(/^[.\s]+/, '').trim().slice(0, 200);
  return clean || 'upload';
}

class TooLargeError extends Error {
  readonly statusCode = 413;
  readonly code = 'E_TOO_LARGE';
  constructor() {
    super(`the file is larger than ${UPLOAD_LIMIT / (1 << 20)} MiB: import it on the server with \`tessera import FILE --project P\``);
  }
}

/** Streams the request body to `path`, refusing more than UPLOAD_LIMIT bytes. */
async function saveUpload(body: Readable, path: string): Promise<number> {
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      done(size > UPLOAD_LIMIT ? new TooLargeError() : null, chunk);
    },
  });
  try {
    await pipeline(body, limit, createWriteStream(path, { flags: 'wx' }));
  } catch (e) {
    if (e instanceof TooLargeError) throw e;
    // The client went away or the stream broke: nothing was imported.
    throw new UserError(`the file did not arrive whole (${(e as Error).message}); nothing was imported: send it again`);
  }
  return size;
}

/**
 * The web UI's import: the file is the request body (`Content-Type: application/octet-stream`),
 * streamed to a fresh folder under the uploads directory, then imported by the `import` job in
 * this process (the file is here, not on a worker's host) as one transaction, like `tessera
 * import`. Answers 201 with the report, or 400 with it: a refusal for rejected records says how
 * many valid records skipInvalid would import. The file is deleted afterwards either way (the
 * items are in the store; re-uploading the same file is idempotent).
 */
export const importRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  // Only in this plugin: the upload's bytes reach the handler as a stream, unparsed and unbuffered.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  app.post<{ Params: ProjectParams; Querystring: ImportQuery }>(
    '/api/projects/:project/imports',
    {
      config: { permission: 'items.import' },
      schema: {
        tags: ['items'],
        summary: `import a file (CSV, JSONL, or TSV label<TAB>text; up to ${UPLOAD_LIMIT >> 20} MiB) sent as the body with Content-Type application/octet-stream: all records or none unless skipInvalid`,
        consumes: ['application/octet-stream'],
        params: ProjectParams,
        querystring: ImportQuery,
        body: Type.Unknown({ description: "the file's bytes" }),
      },
    },
    async (req, reply) => {
      const { project, actor } = authOf(req);
      const body = req.body as Readable | undefined;
      if (!body || typeof (body as Readable).pipe !== 'function') {
        throw new UserError('send the file as the request body with Content-Type: application/octet-stream');
      }
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > UPLOAD_LIMIT) throw new TooLargeError();
      const q = req.query;
      const file = safeFileName(q.name);
      const dir = join(uploadsDir(store), `${Date.now()}-${randomBytes(8).toString('hex')}`);
      const path = join(dir, file);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      try {
        await saveUpload(body, path);
        const options: ReaderOptions = {
          ...(q.textColumn ? { textColumn: q.textColumn } : {}),
          ...(q.idColumn ? { idColumn: q.idColumn } : {}),
          ...(q.labelColumn ? { labelColumn: q.labelColumn } : {}),
          ...(q.encoding ? { encoding: q.encoding } : {}),
        };
        const params: ImportJobParams = { project: project.name, path, format: q.format, options, skipInvalid: q.skipInvalid === true, ...(q.redactPii ? { redactPii: true } : {}), actor: actor.name };
        const job = await runImportJobHere(store, params, project.id);
        const report = (job.result as ImportReport | null) ?? null;
        const refused = job.status === 'failed' && report !== null && report.rejected > 0;
        const outcome: UploadOutcome = {
          status: job.status,
          job: job.id,
          file,
          format: q.format,
          report,
          valid: refused && report.wouldImport ? report.wouldImport.new + report.wouldImport.unchanged : null,
          failure: job.status === 'succeeded' ? null : (job.error ?? job.message ?? job.status),
        };
        if (job.status === 'succeeded') return reply.code(201).send(outcome);
        const valid = outcome.valid === null ? '' : outcome.valid > 0 ? `; ${outcome.valid} valid record(s) would be imported with skipInvalid` : '; no record was valid';
        const message = refused ? `import refused: ${report.rejected} record(s) rejected, nothing imported${valid}` : `import ${job.status}: ${outcome.failure}`;
        return reply.code(400).send({ ...outcome, error: { code: refused ? 'E_IMPORT_REJECTED' : 'E_IMPORT_FAILED', message } });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
};

/**
 * Runs an import job in this process: recorded in the job table like every job (`tessera jobs
 * list` shows it), but never handed to a worker on another host, which would not have the file.
 */
async function runImportJobHere(store: Store, params: ImportJobParams, projectId: number): Promise<Job> {
  // Loaded on first use: the job handlers pull in the ML code, which the server does not need to start.
  const [{ jobHandlers }, { InProcessRunner }] = await Promise.all([import('../../jobs/handlers.ts'), import('../../jobs/runner.ts')]);
  const runner = new InProcessRunner(store, { import: jobHandlers(store).import });
  const queued = await runner.queue.enqueue('import', params, projectId);
  const done = await runner.runQueued(queued.id);
  if (done) return done;
  // Another runner claimed it first: wait for its end.
  for (;;) {
    const j = await runner.queue.get(queued.id);
    if (j.status !== 'queued' && j.status !== 'running') return j;
    await new Promise((r) => setTimeout(r, 200));
  }
}
