/** What the trace replays of both profiles share: recorded shapes, HTTP records, id labels. */
import { expect } from 'vitest';
import type { ComfyEmulator } from '../fakes/comfyui/index.js';
import { queuePrompt, slowWorkflow, WsRecorder, type JsonObject, type Received } from './helpers.js';
import { shapeOf } from './trace-steps.js';

export type TraceMessage = JsonObject & { type?: string; data?: JsonObject };
export interface HttpRecord {
  status: number;
  contentType: string;
  json?: unknown;
  text?: string;
}


export function jsonMessages(received: readonly Received[]): Array<{ type: string; data: JsonObject }> {
  return received.flatMap((m) => (m.kind === 'json' ? [{ type: m.type, data: m.data }] : []));
}

/**
 * The same field names and value types: every (type, shape) pair among the trace's fully
 * recorded messages is also among ours and vice versa. (Order is checked on the steps; traces
 * recorded some types in a compact form or not at all, so only fully recorded types count.)
 */
export function expectSameShapes(trace: readonly TraceMessage[], ours: readonly Received[]): void {
  const pairs = (messages: ReadonlyArray<{ type: string; data: unknown }>): string[] =>
    [...new Set(messages.map((m) => `${m.type} ${JSON.stringify(shapeOf(m.data))}`))].sort();
  const full = trace.filter((m) => m.data !== undefined && m.binary !== true).map((m) => ({ type: String(m.type), data: m.data }));
  const types = new Set(full.map((m) => m.type));
  expect(pairs(jsonMessages(ours).filter((m) => types.has(m.type)))).toEqual(pairs(full));
}

export function expectHttp(actual: { status: number; contentType: string; text: string }, recorded: HttpRecord): void {
  expect(actual.status).toBe(recorded.status);
  if (recorded.contentType !== undefined) expect(actual.contentType).toBe(recorded.contentType);
  if (recorded.text !== undefined && recorded.json === null) expect(actual.text).toBe(recorded.text);
}

/** Warms the cache with the traces' EmptyImage node (later traces show it as cached). */
export async function warmUp(emu: ComfyEmulator): Promise<void> {
  const ws = await WsRecorder.open(emu.url);
  const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 1, seed: 999, prefix: 'warmup' }), client_id: ws.sid });
  await ws.done(prompt_id);
  await ws.close();
}

/** The queue tuple's number differs with what ran before; compare the rest. */
export function withoutNumber(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (_k, v: unknown) => (Array.isArray(v) && v.length === 5 && typeof v[0] === 'number' ? ['<n>', ...v.slice(1)] : v));
}

export function labels(pairs: Array<[string | undefined, string]>): Map<string, string> {
  return new Map(pairs.filter((p): p is [string, string] => p[0] !== undefined));
}

