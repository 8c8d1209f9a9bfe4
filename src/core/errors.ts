/** Errors a user can act on: what went wrong, where (file:line / field), and what was expected. */
export class TesseraError extends Error {
  constructor(
    message: string,
    readonly code: string = 'E_TESSERA',
    /** Process exit code when this error ends a CLI command. */
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'TesseraError';
  }
}

/** Bad input or a bad request from the user: exit code 2, never a stack trace. */
export class UserError extends TesseraError {
  constructor(message: string, code = 'E_INPUT') {
    super(message, code, 2);
    this.name = 'UserError';
  }
}

export class NotFoundError extends TesseraError {
  constructor(what: string) {
    super(`${what} not found`, 'E_NOT_FOUND', 3);
    this.name = 'NotFoundError';
  }
}

/** Raised when a running job sees its cancel flag; the job's work is rolled back. */
export class CancelledError extends TesseraError {
  constructor(message = 'cancelled') {
    super(message, 'E_CANCELLED', 4);
    this.name = 'CancelledError';
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
