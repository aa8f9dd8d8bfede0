import { ERROR_CODES, isErrorCode, type ErrorCode } from './error-codes.js';

export interface AgentErrorOptions {
  /** What the user should do about it: one short imperative sentence. */
  readonly hint?: string;
  readonly cause?: unknown;
  /** Machine-readable context (never secrets). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Base of every error the agent raises on purpose. `code` is stable and documented in
 * docs/errors.md; `message` says what happened and why; `hint` says what to do.
 */
export class AgentError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: AgentErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  get exitCode(): 1 | 2 {
    return ERROR_CODES[this.code].exit;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  /** One actionable line: `CODE: message. hint` */
  toLine(): string {
    const msg = this.message.replace(/\s+$/, '');
    return this.hint ? `${this.code}: ${msg} ${this.hint}` : `${this.code}: ${msg}`;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details ? { details: { ...this.details } } : {}),
    };
  }
}

/** Bad command line: exit code 2. */
export class UsageError extends AgentError {
  constructor(message: string, hint = 'Run the command with --help to see its usage.') {
    super('USAGE', message, { hint });
    this.name = 'UsageError';
  }
}

/** Wrap anything thrown into an AgentError without losing the original. */
export function toAgentError(err: unknown): AgentError {
  if (err instanceof AgentError) return err;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && isErrorCode(code)) return new AgentError(code, err.message, { cause: err });
    if (err.name === 'AbortError') return new AgentError('CANCELED', 'The operation was canceled.', { cause: err });
    return new AgentError('INTERNAL', err.message, {
      cause: err,
      hint: 'This is a bug or an unhandled condition; report it with the log around this line.',
    });
  }
  return new AgentError('INTERNAL', String(err));
}
