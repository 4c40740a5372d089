/**
 * The one registry of error codes. Every ComicError carries a code from here; the code
 * decides the process exit code and is what `--json` consumers match on. A test checks
 * that every code raised in src/ is registered here and documented in docs/errors.md.
 *
 * Add codes here (keep the groups); never reuse or renumber a published code.
 */

/** Process exit codes, documented in the README. */
export const ExitCode = {
  ok: 0,
  jobsFailed: 1,
  invalidInput: 2,
  noBackend: 3,
  cancelled: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

interface CodeInfo {
  readonly exit: ExitCode;
  /** One line for docs/errors.md and `--json` consumers. */
  readonly summary: string;
}

export const ErrorCodes = {
  // Input: scripts, config, templates, command-line usage (exit 2)
  SCRIPT_INVALID: { exit: 2, summary: 'The comic script has problems; each is listed with file:line:column.' },
  SCRIPT_NOT_FOUND: { exit: 2, summary: 'The comic script file does not exist or cannot be read.' },
  CONFIG_INVALID: { exit: 2, summary: 'A configuration file or setting is invalid.' },
  CONFIG_ENV_MISSING: { exit: 2, summary: 'A configuration value references an environment variable that is not set.' },
  USAGE: { exit: 2, summary: 'The command line is invalid (unknown option, missing argument).' },
  TEMPLATE_NOT_FOUND: { exit: 2, summary: 'No template with that id (and version range) exists in any template source.' },
  TEMPLATE_INVALID: { exit: 2, summary: 'A template or its manifest is malformed.' },
  TEMPLATE_PARAM: { exit: 2, summary: 'A template parameter is unknown, missing, of the wrong type or out of bounds.' },
  WORKFLOW_INVALID: { exit: 2, summary: 'A workflow is invalid (the server or our preflight rejected it).' },
  WORKFLOW_CONVERT: { exit: 2, summary: 'An editor-format workflow could not be converted to the API format.' },
  FILE_EXISTS: { exit: 2, summary: 'A file the command would create already exists (comic init); --force replaces it.' },

  // Backends and servers
  NO_BACKEND: { exit: 3, summary: 'No ComfyUI server and no fallback could be reached.' },
  SERVER_UNREACHABLE: { exit: 3, summary: 'A server refused the connection or did not answer in time.' },
  SERVER_AUTH: { exit: 3, summary: 'A server rejected our credentials (401/403).' },
  SERVER_PROTOCOL: { exit: 1, summary: 'A server answered with something the protocol does not allow (malformed JSON, hostile file name, an answer over its byte cap, an image cut short, a download not delivered in time).' },
  SERVER_MISSING_CAPABILITY: { exit: 2, summary: 'No server has the node classes or models a workflow needs.' },
  JOB_FAILED: { exit: 1, summary: 'A render job failed on the server.' },
  JOB_TIMEOUT: { exit: 1, summary: 'A job exceeded a silence budget (connect, queue, start, per node).' },
  SERVER_ERROR: { exit: 1, summary: 'A server answered with an HTTP error (5xx or an unexpected status); the job is retried elsewhere.' },
  JOB_LOST: { exit: 1, summary: 'A prompt vanished from a server (restart or queue cleared) and could not be recovered there.' },
  QUEUE_UNREACHABLE: { exit: 3, summary: 'The Redis server of a distributed queue (--queue) could not be reached or refused our credentials.' },
  TEMPLATE_MISMATCH: { exit: 2, summary: "A worker's template differs from the coordinator's (same id and version, another digest, or missing)." },

  // Run
  NOT_CACHED: { exit: 1, summary: 'An image `comic compose` needs is not in the cache; run `comic generate` first.' },
  CANCELLED: { exit: 130, summary: 'The run was cancelled (Ctrl-C or SIGTERM).' },
  OUTPUT_UNSAFE: { exit: 1, summary: 'A write outside the output folder was refused.' },
  PANEL_IMAGE_INVALID: { exit: 1, summary: 'A panel image is missing or cannot be read as an image; render that panel again.' },
  FOLDER_NOT_WRITABLE: { exit: 2, summary: 'The output or cache folder cannot be created or written to (checked before a run starts, and by comic doctor; met mid-run, it stops the run).' },
  DISK_FULL: { exit: 1, summary: 'Too little free disk space where the output or cache is written: found by `comic doctor`, at the start of a run, or when a download cannot be written.' },
  INTERNAL: { exit: 1, summary: 'An unexpected internal error; please report it.' },

  // comic serve: answers to HTTP and WebSocket clients (the HTTP status is in docs/serve.md)
  REQUEST_INVALID: { exit: 2, summary: 'A request to `comic serve` is malformed or invalid (400/415); the answer names the field path or file:line:column.' },
  REQUEST_TOO_LARGE: { exit: 2, summary: 'A request body is larger than `comic serve` accepts (413).' },
  UNAUTHORIZED: { exit: 2, summary: 'A request to `comic serve` carries no valid API key (401).' },
  RATE_LIMITED: { exit: 1, summary: 'Too many requests or queued jobs for one API key (429, with Retry-After).' },
  NOT_FOUND: { exit: 2, summary: 'No such route, job or file on `comic serve` (404).' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ErrorCodes;

/** A place in a user's file. */
export interface SourceLocation {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

/** An error a user can act on: what went wrong, where, and what to do. */
export class ComicError extends Error {
  override readonly name: string = 'ComicError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly location: SourceLocation | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { hint?: string; location?: SourceLocation; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.location = options.location;
  }

  get exitCode(): ExitCode {
    return ErrorCodes[this.code].exit;
  }
}

export function isComicError(value: unknown): value is ComicError {
  return value instanceof ComicError;
}
