/**
 * The error bodies an AUTOMATIC1111 webui sends. Its exception middleware
 * (modules/api/api.py, handle_exception) turns every exception into
 * `{error: <exception class>, detail, body, errors: str(exception)}` with the exception's
 * status (500 when it has none). FastAPI's own request-validation errors (422) and unknown
 * routes (404/405) bypass that middleware and keep FastAPI's `{detail}` shape.
 */
import type { ValidationIssue } from './validation.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`SD API emulator answered ${status}`);
  }
}

/** A FastAPI HTTPException raised by the webui's code (str(e) is "<status>: <detail>"). */
export function httpException(status: number, detail: string): ApiError {
  return new ApiError(status, { error: 'HTTPException', detail, body: '', errors: `${status}: ${detail}` });
}

/** Any other Python exception escaping a route: 500 with the class name and its message. */
export function pythonException(exceptionClass: string, message: string): ApiError {
  return new ApiError(500, { error: exceptionClass, detail: '', body: '', errors: message });
}

export function requestValidationError(detail: readonly ValidationIssue[]): ApiError {
  return new ApiError(422, { detail });
}

export const routeNotFound = (): ApiError => new ApiError(404, { detail: 'Not Found' });
export const methodNotAllowed = (): ApiError => new ApiError(405, { detail: 'Method Not Allowed' });
