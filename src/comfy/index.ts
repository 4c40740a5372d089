/**
 * The ComfyUI client and server pool. Other layers import from here; the modules behind it
 * (transport, routes, socket, job state machine, uploads, downloads, health) stay private.
 */
export { ComfyClient, type ClientOptions, type ClientState, type JobHandle, type SubmitOptions } from './client.js';
export type { JobEvent, JobResult } from './job.js';
export {
  ComfyPool,
  type CompletedPrompt,
  type PoolEvent,
  type PoolInput,
  type PoolJob,
  type PoolOptions,
  type PoolResult,
  type PrepareTarget,
  type RunOptions,
  type SentPrompt,
  type ServerStatus,
} from './pool.js';
export { classifyFailure, type FailureKind } from './failures.js';
export { missingCapabilities } from './capabilities.js';
export { formatValidationErrors } from './validation-errors.js';
export type { UploadInput } from './uploads.js';
export {
  DEFAULT_LIMITS,
  DEFAULT_TIMEOUTS,
  type ApiNode,
  type ApiWorkflow,
  type Credential,
  type FileRef,
  type FreeMemoryPolicy,
  type Limits,
  type ObjectInfo,
  type OutputFile,
  type PreviewMethod,
  type PromptTimings,
  type ServerAuth,
  type ServerOptions,
  type Timeouts,
  type VramReading,
} from './types.js';
