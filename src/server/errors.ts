import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError, TesseraError, UserError } from '../core/errors.ts';
import { ConflictError, ForbiddenError, UnauthorizedError } from '../label/errors.ts';
import { scrubTokens } from '../label/tokens.ts';
import { looksLikeApiPath, setSecurityHeaders } from './security.ts';

/** Too many failed authentications from this address or for this token key (see auth-limit.ts). */
export class RateLimitedError extends TesseraError {
  constructor(readonly retryAfter: number) {
    super(`too many failed authentications from this address or for this token; retry in ${retryAfter} s`, 'E_RATE_LIMITED', 1);
    this.name = 'RateLimitedError';
  }
}

/** HTTP status of a typed error; anything untyped is a 500 with no internals in the reply. */
export function statusOf(e: unknown): number {
  if (e instanceof RateLimitedError) return 429;
  if (e instanceof UnauthorizedError) return 401;
  if (e instanceof ForbiddenError) return 403;
  if (e instanceof NotFoundError) return 404;
  if (e instanceof ConflictError) return 409;
  if (e instanceof UserError) return 400;
  return 500;
}

/**
 * Fastify's `frameworkErrors`: failures the router answers before any route runs (a path
 * parameter over `maxParamLength` → 414, a malformed URL component → 400). Without it Fastify
 * writes its own `{"error":"Bad Request",…}` body straight to the socket, skipping the error
 * shape and the security headers (this reply runs no onSend hook, so they are set here). The path is not echoed.
 */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  const message =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'a path parameter is too long (at most 100 characters)'
      : err.code === 'FST_ERR_BAD_URL'
        ? 'the URL has a component that is not valid percent-encoding'
        : 'bad request';
  // No route matched yet: judge the path leniently (an /api/ spelling gets the API's headers).
  setSecurityHeaders(looksLikeApiPath(req.raw.url ?? ''), reply);
  reply.code(status).send({ error: { code: err.code ?? 'E_INPUT', message } });
}

/** Replies `{"error": {"code", "message"}}` for every failure, like the CLI's --json errors. */
export function registerErrors(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError | TesseraError | Error, req, reply) => {
    const fe = err as FastifyError;
    if (fe.validation) {
      return reply.code(400).send({ error: { code: 'E_INPUT', message: `invalid request: ${fe.message}` } });
    }
    if (err instanceof TesseraError) {
      const status = statusOf(err);
      if (status === 401) reply.header('www-authenticate', 'Bearer');
      if (err instanceof RateLimitedError) reply.header('retry-after', String(err.retryAfter));
      return reply.code(status).send({ error: { code: err.code, message: err.message } });
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.code(fe.statusCode).send({ error: { code: fe.code ?? 'E_INPUT', message: fe.message } });
    }
    req.log.error(err);
    return reply.code(500).send({ error: { code: 'E_INTERNAL', message: 'internal error (logged on the server)' } });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: { code: 'E_NOT_FOUND', message: `no route ${req.method} ${scrubTokens(req.url.split('?')[0])}` } });
  });
}
