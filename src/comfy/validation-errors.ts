/**
 * ComfyUI's validation answer (POST /prompt 400, or node_errors on a 200) as lines a person
 * can act on: `node 6 "Positive prompt" (CLIPTextEncode): input "text": Required input is missing`.
 */
import { ComicError } from '../errors.js';
import type { ErrorObject, NodeError, PromptRejected } from './schemas.js';
import type { ApiWorkflow } from './types.js';

const MAX_REASON = 240;
const MODEL_FILE = /\.(safetensors|ckpt|pt|pth|bin|gguf|sft)$/i;

/** One line per problem, node by node in id order. */
export function formatValidationErrors(answer: PromptRejected, workflow: ApiWorkflow): string[] {
  const lines: string[] = [];
  for (const [nodeId, nodeError] of sortedEntries(answer.node_errors ?? {})) {
    const head = nodeLabel(nodeId, workflow, nodeError.class_type);
    for (const error of nodeError.errors) lines.push(`${head}: ${describeError(error)}`);
    if (nodeError.errors.length === 0) lines.push(`${head}: failed validation`);
  }
  if (lines.length > 0) return lines;
  const top = answer.error;
  if (top === undefined) return ['the server rejected the workflow without saying why'];
  if (typeof top === 'string') return [top];
  // invalid_prompt names the node only in `details` ("Node ID '#2'").
  const nodeId = /Node ID '#([^']+)'/.exec(top.details ?? '')?.[1];
  if (nodeId !== undefined) return [`${nodeLabel(nodeId, workflow, workflow[nodeId]?.class_type)}: ${top.message}`];
  const details = top.details !== undefined && top.details !== '' && top.details !== top.message ? `: ${top.details}` : '';
  return [clip(`${top.message}${details}`)];
}

/**
 * The error for a rejected workflow. A node class or model file this server lacks is a
 * capability problem (another server may have it); anything else is the workflow's fault.
 */
export function validationError(answer: PromptRejected, workflow: ApiWorkflow, serverLabel: string): ComicError {
  const lines = formatValidationErrors(answer, workflow);
  const message = `server ${serverLabel} rejected the workflow:\n  ${lines.join('\n  ')}`;
  if (lacksCapability(answer)) {
    return new ComicError('SERVER_MISSING_CAPABILITY', message, {
      hint: 'install the missing node pack or model on this server, or run on a server that has it',
    });
  }
  return new ComicError('WORKFLOW_INVALID', message, {
    hint: 'fix the template or the parameter values it was given; node ids and titles are those of the workflow',
  });
}

function lacksCapability(answer: PromptRejected): boolean {
  const top = answer.error;
  // 0.8: invalid_prompt "Cannot execute because node X does not exist."; 0.28: missing_node_type
  // (also for a node without class_type, which another server cannot run either — but that one
  // is the workflow's fault: extra_info.class_type is null).
  if (typeof top === 'object' && top.type === 'invalid_prompt' && /does not exist/.test(top.message)) return true;
  if (typeof top === 'object' && top.type === 'missing_node_type') return typeof top.extra_info?.['class_type'] === 'string';
  const errors = Object.values(answer.node_errors ?? {}).flatMap((n) => n.errors);
  return (
    errors.length > 0 &&
    errors.every((e) => e.type === 'value_not_in_list' && typeof e.extra_info?.['received_value'] === 'string' && MODEL_FILE.test(e.extra_info['received_value']))
  );
}

export function nodeLabel(nodeId: string, workflow: ApiWorkflow, classType: string | undefined): string {
  const node = workflow[nodeId];
  const title = node?._meta?.title;
  const cls = classType ?? node?.class_type;
  return `node ${nodeId}${title ? ` ${JSON.stringify(title)}` : ''}${cls ? ` (${cls})` : ''}`;
}

function describeError(error: ErrorObject): string {
  const input = typeof error.extra_info?.['input_name'] === 'string' ? error.extra_info['input_name'] : undefined;
  const details = stripInputName(error.details ?? '', input);
  // For several types `details` only repeats the input name, which the line already shows.
  const reason = details === '' || details === input ? error.message : `${error.message}: ${details}`;
  return `${input === undefined ? '' : `input ${JSON.stringify(input)}: `}${clip(reason)}`;
}

/** `"blend_mode: 'nope' not in …"`, `"image - Invalid image file"`, `"width, abc, …"` → the part after the name. */
function stripInputName(details: string, input: string | undefined): string {
  if (input === undefined) return details.trim();
  for (const separator of [': ', ' - ', ', ']) {
    if (details.startsWith(input + separator)) return details.slice(input.length + separator.length).trim();
  }
  return details.trim();
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_REASON ? `${flat.slice(0, MAX_REASON)}…` : flat;
}

function sortedEntries(errors: Readonly<Record<string, NodeError>>): [string, NodeError][] {
  return Object.entries(errors).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
}
