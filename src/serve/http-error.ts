/**
 * Errors as `comic serve` answers them: an HTTP status and one JSON body shape,
 * `{ error: { code, message, hint?, issues? } }`, whatever went wrong. `issues` point at the
 * problem: a field path of a JSON request, or file:line:column of a YAML script.
 */
import { ComicError, ErrorCodes, type ErrorCode } from '../errors.js';
import { ScriptError } from '../script/index.js';

export interface Issue {
  /** `characters[0].description`, `size.width`; absent for script diagnostics. */
  readonly path?: string;
  /** For a script: where, 1-based (`file` is the name the request was given, e.g. script.yaml). */
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
  readonly hint?: string;
}

export interface ErrorBody {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly hint?: string;
    readonly issues?: readonly Issue[];
  };
}

export class HttpError extends ComicError {
  override readonly name = 'HttpError';

  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    options: { hint?: string; issues?: readonly Issue[]; retryAfterSeconds?: number } = {},
  ) {
    super(code, message, options.hint === undefined ? {} : { hint: options.hint });
    this.issues = options.issues ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
  }

  readonly issues: readonly Issue[];
  readonly retryAfterSeconds: number | null;
}

/** The status for a ComicError raised by the pipeline while handling a request. */
export function statusOf(error: ComicError): number {
  if (error instanceof HttpError) return error.status;
  if (error.code === 'CANCELLED') return 503; // the server is shutting down
  // Invalid input (scripts, templates, parameters) is the client's to fix; the rest is ours.
  return ErrorCodes[error.code].exit === 2 ? 400 : 500;
}

/** The JSON body for any error; `clean` masks credentials in every text. */
export function errorBody(error: ComicError, clean: (text: string) => string): ErrorBody {
  const issues: Issue[] =
    error instanceof HttpError
      ? [...error.issues]
      : error instanceof ScriptError
        ? error.diagnostics.filter((d) => d.severity === 'error').map((d) => ({ file: d.file, line: d.line, column: d.column, message: d.message, ...(d.hint ? { hint: d.hint } : {}) }))
        : error.location
          ? [{ line: error.location.line, column: error.location.column, message: error.message }]
          : [];
  return {
    error: {
      code: error.code,
      message: clean(error.message),
      ...(error.hint ? { hint: clean(error.hint) } : {}),
      ...(issues.length > 0 ? { issues: issues.map((i) => ({ ...i, message: clean(i.message), ...(i.hint ? { hint: clean(i.hint) } : {}) })) } : {}),
    },
  };
}
