/**
 * Reads a `/history` entry, the truth about a finished prompt: how it ended, every file its
 * output nodes wrote (cached nodes included, which send no `executed` event), and its
 * timings from the server's own timestamps.
 */
import { ComicError } from '../errors.js';
import { FileRefSchema, type HistoryEntry } from './schemas.js';
import type { ApiWorkflow, OutputFile, PromptTimings } from './types.js';
import { nodeLabel } from './validation-errors.js';

export type PromptOutcome =
  | { readonly kind: 'success'; readonly outputs: readonly OutputFile[]; readonly cachedNodes: readonly string[]; readonly timings: PromptTimings }
  | { readonly kind: 'failed'; readonly error: ComicError }
  | { readonly kind: 'interrupted' };

type Data = Record<string, unknown>;

export function readOutcome(entry: HistoryEntry, workflow: ApiWorkflow, serverLabel: string, submittedAt: number): PromptOutcome {
  const messages = entry.status?.messages ?? [];
  const find = (name: string): Data | undefined => {
    const found = messages.find(([type]) => type === name);
    return found !== undefined && typeof found[1] === 'object' && found[1] !== null ? (found[1] as Data) : undefined;
  };
  if (find('execution_interrupted') !== undefined) return { kind: 'interrupted' };
  const failure = find('execution_error');
  if (failure !== undefined) return { kind: 'failed', error: executionError(failure, workflow, serverLabel) };
  const status = entry.status;
  if (status !== undefined && status.status_str !== 'success') {
    return { kind: 'failed', error: new ComicError('JOB_FAILED', `the prompt ended with status "${status.status_str}" on server ${serverLabel}`) };
  }
  const cached = find('execution_cached')?.['nodes'];
  return {
    kind: 'success',
    outputs: outputFiles(entry.outputs ?? {}),
    cachedNodes: Array.isArray(cached) ? cached.filter((n): n is string => typeof n === 'string') : [],
    timings: timingsOf(entry, messages, submittedAt),
  };
}

/** `node 2 "Upscale" (FailingNode) failed on server "a" (…): RuntimeError: boom` */
function executionError(data: Data, workflow: ApiWorkflow, serverLabel: string): ComicError {
  const nodeId = typeof data['node_id'] === 'string' ? data['node_id'] : '?';
  const nodeType = typeof data['node_type'] === 'string' ? data['node_type'] : undefined;
  const type = typeof data['exception_type'] === 'string' ? data['exception_type'] : 'Error';
  const message = typeof data['exception_message'] === 'string' ? data['exception_message'].trim() : '';
  const firstLine = message.split('\n')[0] ?? '';
  const outOfMemory = /out of memory/i.test(message) || /OutOfMemory/.test(type);
  return new ComicError('JOB_FAILED', `${nodeLabel(nodeId, workflow, nodeType)} failed on server ${serverLabel}: ${type}${firstLine ? `: ${firstLine}` : ''}`, {
    hint: outOfMemory ? 'the GPU ran out of memory: try a smaller size, or free memory between jobs (freeMemory in comic.config.yaml)' : undefined,
  });
}

/** Every `{filename, subfolder, type}` under any ui key (images, gifs, audio, …), nodes in id order. */
export function outputFiles(outputs: Readonly<Record<string, unknown>>): OutputFile[] {
  const files: OutputFile[] = [];
  const nodes = Object.keys(outputs).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  for (const node of nodes) {
    const ui = outputs[node];
    if (typeof ui !== 'object' || ui === null) continue;
    for (const [key, items] of Object.entries(ui as Data)) {
      if (!Array.isArray(items)) continue;
      for (const item of items) {
        const ref = FileRefSchema.safeParse(item);
        if (ref.success) files.push({ node, key, filename: ref.data.filename, subfolder: ref.data.subfolder ?? '', type: ref.data.type ?? 'output' });
      }
    }
  }
  return files;
}

function timingsOf(entry: HistoryEntry, messages: readonly (readonly [string, unknown])[], submittedAt: number): PromptTimings {
  const stamp = (name: string): number | null => {
    const found = messages.find(([type]) => type === name)?.[1];
    const value = typeof found === 'object' && found !== null ? (found as Data)['timestamp'] : undefined;
    return typeof value === 'number' ? value : null;
  };
  const startedAt = stamp('execution_start');
  const endedAt = stamp('execution_success') ?? stamp('execution_error') ?? stamp('execution_interrupted');
  const extra = Array.isArray(entry['prompt']) ? (entry['prompt'] as unknown[])[3] : undefined;
  const created = typeof extra === 'object' && extra !== null ? (extra as Data)['create_time'] : undefined;
  const queuedFrom = typeof created === 'number' ? created : submittedAt;
  const now = Date.now();
  return {
    queuedMs: Math.max(0, (startedAt ?? now) - queuedFrom),
    runMs: startedAt !== null ? Math.max(0, (endedAt ?? now) - startedAt) : 0,
    startedAt,
    endedAt,
  };
}
