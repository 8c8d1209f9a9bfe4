import { TesseraError } from '../core/errors.ts';

/** The request conflicts with the current state (lease expired, already decided, stale taxonomy): HTTP 409. */
export class ConflictError extends TesseraError {
  constructor(message: string, code = 'E_CONFLICT') {
    super(message, code, 2);
    this.name = 'ConflictError';
  }
}

/** No valid credentials: HTTP 401. */
export class UnauthorizedError extends TesseraError {
  constructor(message = 'authentication required: send "Authorization: Bearer <token>"') {
    super(message, 'E_UNAUTHORIZED', 2);
    this.name = 'UnauthorizedError';
  }
}

/** Authenticated, but this role (or no membership) does not allow it: HTTP 403. */
export class ForbiddenError extends TesseraError {
  constructor(message: string, code = 'E_FORBIDDEN') {
    super(message, code, 2);
    this.name = 'ForbiddenError';
  }
}
