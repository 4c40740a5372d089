/**
 * Turns recorded WebSocket traffic — a trace file's `ws` list (three recording formats: full
 * messages, compact progress/progress_state, binary summaries) or what a WsRecorder received —
 * into comparable steps: the message type plus the facts that must match (node, value/max,
 * node states, cached list, file names with the random temp suffix masked).
 */
import type { JsonObject, Received } from './helpers.js';

export interface Step {
  readonly type: string;
  readonly detail: string;
}

type TraceEntry = JsonObject & { type?: string; data?: JsonObject; binary?: boolean; closed?: boolean };

function maskNames(text: string): string {
  return text.replace(/ComfyUI_temp_[a-z]{5}_/g, 'ComfyUI_temp_?????_');
}

function nodeStates(nodes: Record<string, unknown>): string {
  return Object.entries(nodes)
    .map(([id, v]) => {
      if (typeof v === 'string') return `${id}:${v}`; // compact "1/5 running"
      const s = v as { value: number; max: number; state: string };
      return `${id}:${s.value}/${s.max} ${s.state}`;
    })
    .sort()
    .join(',');
}

function jsonStep(type: string, data: JsonObject): Step {
  switch (type) {
    case 'status': {
      const q = (data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining;
      return { type, detail: `${q}${typeof data.sid === 'string' ? ' +sid' : ''}` };
    }
    case 'progress_state':
      return { type, detail: nodeStates(data.nodes as Record<string, unknown>) };
    case 'executing':
      return { type, detail: `${String(data.node)}${'prompt_id' in data ? '' : ' (bare)'}` };
    case 'progress':
      return { type, detail: `${String(data.value)}/${String(data.max)}@${String(data.node)}` };
    case 'executed':
      return { type, detail: `${String(data.node)} ${maskNames(JSON.stringify(data.output))}` };
    case 'execution_cached':
      return { type, detail: (data.nodes as string[]).join(',') };
    case 'execution_error':
      return { type, detail: `${String(data.node_id)} ${String(data.exception_type)}` };
    case 'execution_interrupted':
      return { type, detail: `${String(data.node_id)} executed=${JSON.stringify(data.executed)}` };
    default:
      return { type, detail: '' };
  }
}

/** Steps of a trace's `ws` list (close markers dropped). */
export function traceSteps(entries: readonly TraceEntry[]): Step[] {
  const steps: Step[] = [];
  for (const e of entries) {
    if (e.closed === true) continue;
    if (e.binary === true) {
      // 0.8.0 traces call the type-1 format field imageFormat, 0.28.0 traces format.
      steps.push({ type: `binary:${String(e.eventType)}`, detail: e.eventType === 4 ? String((e.metadata as JsonObject).image_type) : String(e.imageFormat ?? e.format) });
      continue;
    }
    const type = String(e.type);
    if (e.data !== undefined) steps.push(jsonStep(type, e.data));
    else if (type === 'progress_state') steps.push({ type, detail: nodeStates(e.nodes as Record<string, unknown>) });
    else if (type === 'progress') {
      const [value, max] = String(e.v).split('/');
      steps.push({ type, detail: `${value}/${max}@${String(e.node)}` });
    } else throw new Error(`unknown trace entry ${JSON.stringify(e)}`);
  }
  return steps;
}

export function receivedSteps(messages: readonly Received[]): Step[] {
  const steps: Step[] = [];
  for (const m of messages) {
    if (m.kind === 'closed') continue;
    if (m.kind === 'binary') {
      steps.push({ type: `binary:${m.eventType}`, detail: m.eventType === 4 ? String(m.metadata?.image_type) : String(m.imageFormat) });
    } else steps.push(jsonStep(m.type, m.data));
  }
  return steps;
}

export function text(steps: readonly Step[]): string[] {
  return steps.map((s) => (s.detail === '' ? s.type : `${s.type} ${s.detail}`));
}

export function without(steps: readonly Step[], ...types: string[]): Step[] {
  return steps.filter((s) => !types.includes(s.type));
}

/** A sampler tick: progress, its progress_state, or a preview frame while a node is running. */
function isTick(step: Step): boolean {
  return step.type === 'progress' || step.type.startsWith('binary:') || (step.type === 'progress_state' && /\d+\/\d+ running/.test(step.detail) && !/:0\/1 running/.test(step.detail));
}

/**
 * Collapses every run of sampler ticks into one "ticks" step, for runs whose tick count depends
 * on timing (interrupts, reconnects, queue edits during a run).
 */
export function collapseTicks(steps: readonly Step[]): Step[] {
  const out: Step[] = [];
  for (const step of steps) {
    if (!isTick(step)) out.push(step);
    else if (out[out.length - 1]?.type !== 'ticks') out.push({ type: 'ticks', detail: '' });
  }
  return out;
}

/** The JSON "shape" of a value: key names and value types, recursively (array elements merged). */
export function shapeOf(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    const shapes = new Map<string, unknown>();
    for (const v of value) {
      const s = shapeOf(v);
      shapes.set(JSON.stringify(s), s);
    }
    return [...shapes.values()];
  }
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as JsonObject).map(([k, v]) => [k, shapeOf(v)]));
  }
  return typeof value;
}

/**
 * Replaces run-specific values so a trace answer and an emulator answer can be compared with
 * deep equality: the given ids become their labels, epoch-millisecond numbers become "<ms>".
 */
export function normalize(value: unknown, labels: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return labels.get(value) ?? maskNames(value);
  if (typeof value === 'number') return value > 1_600_000_000_000 ? '<ms>' : value;
  if (Array.isArray(value)) return value.map((v) => normalize(v, labels));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as JsonObject).map(([k, v]) => [labels.get(k) ?? k, normalize(v, labels)]));
  }
  return value;
}

/** Traceback frames name the server's own files and lines: compare only that they are string lists of that length. */
export function maskTracebacks(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskTracebacks);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as JsonObject).map(([k, v]) => [k, k === 'traceback' && Array.isArray(v) ? v.map(() => '<frame>') : maskTracebacks(v)]),
    );
  }
  return value;
}
