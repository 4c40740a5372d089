/**
 * The API-format workflow (what `POST /prompt` takes): node id → {class_type, inputs, _meta}.
 * A link is `[sourceNodeId, outputIndex]`; any other array value would be mistaken for one,
 * which is why the editor wraps real array values as `{"__value__": [...]}`.
 */
import { formatJsonPath, type JsonPath } from '../util/json-scan.js';
import { isRecord } from './object-info.js';

export type ApiLink = readonly [nodeId: string, outputIndex: number];

export interface ApiNode {
  readonly class_type: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly _meta?: { readonly title?: string };
}

export type ApiWorkflow = Readonly<Record<string, ApiNode>>;

export function isLink(value: unknown): value is ApiLink {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && Number.isInteger(value[1]);
}

export function nodeTitle(node: ApiNode): string | undefined {
  return node._meta?.title;
}

/** `#9 "Positive prompt" (CLIPTextEncode)`: how every message names a node. */
export function describeNode(id: string, node: ApiNode | undefined): string {
  if (!node) return `#${id}`;
  const title = nodeTitle(node);
  return title && title !== node.class_type ? `#${id} "${title}" (${node.class_type})` : `#${id} (${node.class_type})`;
}

/** A node reference in a manifest: a node id, or `title:<node title>` (matched against `_meta.title`). */
export function findNodes(workflow: ApiWorkflow, ref: string): string[] {
  if (ref.startsWith('title:')) {
    const title = ref.slice('title:'.length);
    return Object.keys(workflow).filter((id) => nodeTitle(workflow[id]!) === title);
  }
  return Object.hasOwn(workflow, ref) ? [ref] : [];
}

export type WorkflowFormat = 'api' | 'ui' | 'unknown';

/**
 * Which format a parsed workflow file is in. A `/prompt` request body (`{prompt: {...}}`)
 * counts as API format; `unwrapApi` returns the graph inside it.
 */
export function detectWorkflowFormat(json: unknown): WorkflowFormat {
  if (!isRecord(json)) return 'unknown';
  if (Array.isArray(json.nodes)) return 'ui';
  const graph = unwrapApi(json);
  const values = Object.values(graph);
  if (values.length > 0 && values.every((node) => isRecord(node) && typeof node.class_type === 'string')) return 'api';
  return 'unknown';
}

export function unwrapApi(json: Record<string, unknown>): Record<string, unknown> {
  return isRecord(json.prompt) && !('class_type' in json.prompt) ? json.prompt : json;
}

/** Problems with the shape of an API workflow (not with what a server has). */
export function apiShapeProblems(json: unknown): string[] {
  if (!isRecord(json)) return ['the workflow is not a JSON object'];
  const problems: string[] = [];
  for (const [id, node] of Object.entries(json)) {
    if (!isRecord(node)) {
      problems.push(`node ${id} is not an object`);
      continue;
    }
    if (typeof node.class_type !== 'string' || node.class_type === '') problems.push(`node ${id} has no class_type`);
    if (!isRecord(node.inputs)) problems.push(`node ${id} has no inputs object`);
    if (node._meta !== undefined && !isRecord(node._meta)) problems.push(`node ${id} has a _meta that is not an object`);
  }
  if (problems.length === 0 && Object.keys(json).length === 0) problems.push('the workflow has no nodes');
  return problems;
}

/**
 * Names the place of `path` in a parsed workflow file of either format, for messages about
 * a value found there: `node #3 "Sampler" (KSampler), input "seed"`, or the JSON path when
 * it is not inside a node.
 */
export function describeWorkflowPlace(json: unknown, path: JsonPath): string | null {
  if (!isRecord(json)) return null;
  if (Array.isArray(json.nodes)) return uiPlace(json, path, '');
  if (path[0] === 'prompt' && isRecord(json.prompt) && !('class_type' in json.prompt)) return describeWorkflowPlace(json.prompt, path.slice(1));
  const [id, section, input] = path;
  if (typeof id !== 'string') return null;
  // Every top-level key of an API workflow is a node id, whether or not its node is well formed.
  const node = json[id];
  if (!isRecord(node) || typeof node.class_type !== 'string') return rest(`node #${id}`, path.slice(1));
  const title = isRecord(node._meta) && typeof node._meta.title === 'string' ? node._meta.title : undefined;
  const named = describeNode(id, { class_type: node.class_type, inputs: {}, ...(title === undefined ? {} : { _meta: { title } }) });
  if (section === 'inputs' && typeof input === 'string') return rest(`node ${named}, input ${JSON.stringify(input)}`, path.slice(3));
  return rest(`node ${named}`, path.slice(1));
}

/** In the editor format: a node of the root graph or of a subgraph definition. */
function uiPlace(graph: Record<string, unknown>, path: JsonPath, within: string): string | null {
  const [list, index] = path;
  if (list === 'nodes' && typeof index === 'number' && Array.isArray(graph.nodes)) {
    const node: unknown = graph.nodes[index];
    if (!isRecord(node)) return rest(`${within}nodes[${index}]`, path.slice(2));
    const id = typeof node.id === 'number' || typeof node.id === 'string' ? String(node.id) : `[${index}]`;
    const type = typeof node.type === 'string' ? node.type : '?';
    const title = typeof node.title === 'string' && node.title !== type ? ` "${node.title}"` : '';
    return rest(`${within}node #${id}${title} (${type})`, path.slice(2));
  }
  const definitions = graph.definitions;
  if (list === 'definitions' && path[1] === 'subgraphs' && typeof path[2] === 'number' && isRecord(definitions) && Array.isArray(definitions.subgraphs)) {
    const subgraph: unknown = definitions.subgraphs[path[2]];
    if (isRecord(subgraph)) {
      const name = typeof subgraph.name === 'string' ? subgraph.name : typeof subgraph.id === 'string' ? subgraph.id : `[${path[2]}]`;
      return uiPlace(subgraph, path.slice(3), `subgraph "${name}", `) ?? rest(`subgraph "${name}"`, path.slice(3));
    }
  }
  return within === '' ? null : rest(within.replace(/, $/, ''), path);
}

function rest(place: string, path: JsonPath): string {
  return path.length === 0 ? place : `${place}, at ${formatJsonPath(path, 4)}`;
}
