/**
 * Failures are classified before anything is retried (igorls' WorkflowPool does the same):
 * retrying an invalid workflow elsewhere cannot help, a server that lacks a node is skipped
 * for that workflow only, and transient trouble (connection, 5xx, timeouts) moves on.
 */
import { isComicError } from '../errors.js';

export type FailureKind =
  /** The caller aborted. */
  | 'cancelled'
  /** The workflow or its parameters are wrong: fail at once. */
  | 'invalid'
  /** The job itself failed on the server (a node raised): fail. */
  | 'job'
  /** This server lacks a node class or model: try another server. */
  | 'incapable'
  /** This server misbehaves for us (bad answers, refused credentials): try another, count against its health. */
  | 'server'
  /** Connection trouble, 5xx, a silence budget, a vanished prompt: retry elsewhere with backoff. */
  | 'transient';

export function classifyFailure(error: unknown): FailureKind {
  if (!isComicError(error)) return 'job';
  switch (error.code) {
    case 'CANCELLED':
      return 'cancelled';
    case 'WORKFLOW_INVALID':
    case 'WORKFLOW_CONVERT':
    case 'TEMPLATE_INVALID':
    case 'TEMPLATE_PARAM':
      return 'invalid';
    case 'SERVER_MISSING_CAPABILITY':
      return 'incapable';
    case 'SERVER_PROTOCOL':
    case 'SERVER_AUTH':
      return 'server';
    case 'SERVER_UNREACHABLE':
    case 'SERVER_ERROR':
    case 'JOB_TIMEOUT':
    case 'JOB_LOST':
      return 'transient';
    case 'JOB_FAILED':
      // Out of memory depends on the GPU and what else is loaded: another server may manage.
      return /out of memory|OutOfMemory/i.test(error.message) ? 'transient' : 'job';
    default:
      return 'job';
  }
}
